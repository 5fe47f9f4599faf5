// The members of one entry of "connections" in ergw's configuration document:
// the single list that the configuration reader (connection_reader.cc) is held
// to and that the API's connection resource (gateway/api/connection_resource.cc)
// shows and takes, so that a member the reader learns cannot be dropped by a
// PUT /v1/connections/{name} that nobody taught about it.
#pragma once

#include <array>
#include <string_view>

namespace ergw::policy {

// How the API treats a member of ergw's own block ("ergw" in the resource).
enum class MemberExposure {
  shown,           // taken by a PUT and shown by a GET
  secret,          // taken by a PUT, moved to the revision's secrets, never shown
  appliance_file,  // names a file on the appliance: configuration files only, refused over the API
  envelope,        // the entry's name and the pasted Azure object: the resource's own "name" and "properties"
};

struct ConnectionMember {
  std::string_view key;
  MemberExposure exposure;
  // appliance_file only: what to give over the API instead ("{name}": the connection's name).
  std::string_view instead = {};
};

inline constexpr std::array kConnectionMembers = {
    ConnectionMember{"name", MemberExposure::envelope},
    ConnectionMember{"azure", MemberExposure::envelope},
    ConnectionMember{"azureGateway", MemberExposure::shown},
    ConnectionMember{"local", MemberExposure::shown},
    ConnectionMember{"localNetworkGateway", MemberExposure::shown},
    ConnectionMember{"interfaceId", MemberExposure::shown},
    ConnectionMember{"ipsecPolicy", MemberExposure::shown},
    ConnectionMember{"pfsProbe", MemberExposure::shown},
    ConnectionMember{"tcpMss", MemberExposure::shown},
    ConnectionMember{"preferredInstance", MemberExposure::shown},
    ConnectionMember{"bgpPassword", MemberExposure::secret},
    ConnectionMember{"sharedKeyFile", MemberExposure::appliance_file,
                     "the PSK as the Azure connection's properties.sharedKey, or PUT /v1/connections/{name}/sharedkey"},
    ConnectionMember{"bgpPasswordFile", MemberExposure::appliance_file,
                     "the password as bgpPassword (ergw.bgpPassword in a connection resource), or PUT "
                     "/v1/connections/{name}/bgppassword"},
};

// The keys alone, for JsonFields::limit_to.
inline constexpr auto kConnectionMemberKeys = [] {
  std::array<std::string_view, kConnectionMembers.size()> keys{};
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = kConnectionMembers[i].key;
  return keys;
}();

}  // namespace ergw::policy
