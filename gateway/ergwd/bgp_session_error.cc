#include "gateway/ergwd/bgp_session_error.h"

#include <charconv>
#include <optional>

namespace ergw::gateway {
namespace {

// The number after "<description>: " in "BGP Error: Bad peer AS: 65516".
std::optional<uint32_t> logged_value(std::string_view error, std::string_view description) {
  const size_t at = error.find(description);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = error.substr(at + description.size());
  if (!rest.starts_with(": ")) return std::nullopt;
  rest.remove_prefix(2);
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc{} || end != rest.data() + rest.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string explain_session_error(std::string_view error, SessionAsns asns) {
  const std::string local = std::to_string(asns.local);
  const std::string peer = std::to_string(asns.peer);
  // "BGP Error:" is a NOTIFICATION ergw's BIRD sent, "Received:" one Azure
  // sent (RFC 4271 §6.2: OPEN message errors).
  if (error.starts_with("BGP Error: Bad peer AS")) {
    const auto sent = logged_value(error, "Bad peer AS");
    return "Azure's BGP speaker " + (sent ? "sent AS " + std::to_string(*sent) : std::string("sent another AS")) +
           "; this connection expects AS " + peer +
           ": the peer ASN must equal the virtual network gateway's bgpSettings.asn "
           "(`az network vnet-gateway show --query bgpSettings.asn`)";
  }
  if (error.starts_with("Received: Bad peer AS")) {
    const auto seen = logged_value(error, "Bad peer AS");
    return "Azure refused ergw's AS " + (seen ? std::to_string(*seen) : local) +
           ": the local network gateway's bgpSettings.asn on Azure must be " + local +
           " (this connection's local ASN), or change the local ASN here to the one Azure has";
  }
  if (error.find("Unacceptable hold time") != std::string_view::npos) {
    return "the hold times do not agree: Azure uses keepalive 60 s and hold 180 s and does not negotiate them";
  }
  if (error.find("Hold timer expired") != std::string_view::npos) {
    return "no BGP message came for the hold time (180 s) although the tunnel was up: "
           "check that TCP port 179 between the BGP addresses passes the tunnel in both directions";
  }
  if (error == "Socket: Connection refused") {
    return "nothing listens for BGP at Azure's address: BGP must be enabled on the Azure connection "
           "(enableBgp) and on the virtual network gateway";
  }
  return {};
}

}  // namespace ergw::gateway
