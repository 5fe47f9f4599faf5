// What a BGP session's last error means for a connection to Azure, and what
// to change: BIRD says "Error: Bad peer AS: 65516"; the operator needs to
// know which side's ASN is wrong and where Azure keeps it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ergw::gateway {

// The ASNs the connection was configured with.
struct SessionAsns {
  uint32_t local = 0;  // ergw's: the local network gateway's bgpSettings.asn on Azure
  uint32_t peer = 0;   // Azure's: the virtual network gateway's bgpSettings.asn
};

// A hint for the session error `error` (BIRD's last error, with the value
// BIRD logged when there is one); empty when there is nothing to add.
std::string explain_session_error(std::string_view error, SessionAsns asns);

}  // namespace ergw::gateway
