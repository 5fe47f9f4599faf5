#include "gateway/ergwd/failure_reason.h"

#include <array>
#include <vector>

namespace ergw::gateway {
namespace {

struct FailureInfo {
  std::string_view name;
  std::string_view reason;
  std::string_view cause;
  std::string_view hint;
};

constexpr std::array kFailures{
#define ERGW_TUNNEL_FAILURE_INFO(code, reason, cause, hint) FailureInfo{#code, reason, cause, hint},
    ERGW_TUNNEL_FAILURES(ERGW_TUNNEL_FAILURE_INFO)
#undef ERGW_TUNNEL_FAILURE_INFO
};

const FailureInfo& info(TunnelFailure failure) { return kFailures.at(static_cast<size_t>(failure)); }

// A failure is recognised by a fixed part of charon's message (strongSwan
// 5.9.8, src/libcharon/sa/ikev2/ and the proposal code), and `also` when one
// part alone is ambiguous. The first match wins: specific before generic.
struct Pattern {
  std::string_view text;
  std::string_view also;
  TunnelFailure failure;
};

constexpr std::array kPatterns{
    // IKE_AUTH
    Pattern{"received AUTHENTICATION_FAILED notify", "", TunnelFailure::peer_refused_authentication},
    Pattern{"but MAC mismatched", "", TunnelFailure::psk_mismatch},
    Pattern{"no shared key found for", "", TunnelFailure::no_psk_for_identities},
    Pattern{"no matching peer config found", "", TunnelFailure::no_connection_for_identities},
    Pattern{"received IDr ", ", but require ", TunnelFailure::local_identity_refused},
    Pattern{"constraint check failed: identity", "", TunnelFailure::identity_constraint_failed},
    // proposals (IKE_SA_INIT, IKE_AUTH's CHILD SA, CREATE_CHILD_SA)
    Pattern{"received NO_PROPOSAL_CHOSEN notify", "", TunnelFailure::peer_refused_proposal},
    Pattern{"received proposals unacceptable", "", TunnelFailure::no_acceptable_proposal},
    Pattern{"no acceptable proposal found", "", TunnelFailure::no_acceptable_proposal},
    Pattern{"no IKE config found for ", "", TunnelFailure::no_matching_connection},
    // traffic selectors
    Pattern{"received TS_UNACCEPTABLE notify", "", TunnelFailure::traffic_selectors_unacceptable},
    Pattern{"no acceptable traffic selectors found", "", TunnelFailure::traffic_selectors_unacceptable},
    Pattern{"traffic selectors ", " unacceptable", TunnelFailure::traffic_selectors_unacceptable},
    // liveness
    Pattern{"giving up after", "", TunnelFailure::peer_unreachable},
    Pattern{"peer not responding", "", TunnelFailure::peer_unreachable},
    Pattern{"received DELETE for IKE_SA", "", TunnelFailure::deleted_by_peer},
    // rekeying and the generic summaries
    Pattern{"CHILD_SA rekeying failed", "", TunnelFailure::child_rekey_failed},
    Pattern{"failed to establish CHILD_SA", "", TunnelFailure::child_failed},
    Pattern{"establishing IKE_SA failed", "", TunnelFailure::ike_failed},
};

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::optional<std::string_view> after(std::string_view text, std::string_view prefix) {
  const auto at = text.find(prefix);
  if (at == std::string_view::npos) return std::nullopt;
  return text.substr(at + prefix.size());
}

std::string_view before(std::string_view text, std::string_view suffix) {
  const auto at = text.find(suffix);
  return at == std::string_view::npos ? text : text.substr(0, at);
}

// The quoted parts of a line: 'A' - 'B' -> {A, B}.
std::vector<std::string_view> quoted(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t at = 0;
  while (true) {
    const auto open = text.find('\'', at);
    if (open == std::string_view::npos) break;
    const auto close = text.find('\'', open + 1);
    if (close == std::string_view::npos) break;
    parts.push_back(text.substr(open + 1, close - open - 1));
    at = close + 1;
  }
  return parts;
}

// "172.16.0.2[10.9.9.9]" -> address and identity.
void host_and_identity(std::string_view text, std::optional<std::string>& address,
                       std::optional<std::string>& identity) {
  const auto open = text.find('[');
  const auto close = text.rfind(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    address = std::string(text);
    return;
  }
  address = std::string(text.substr(0, open));
  identity = std::string(text.substr(open + 1, close - open - 1));
}

// The facts charon's lines carry, each recognised by its fixed wording.
void read_facts(std::string_view m, CharonLine& line) {
  if (auto matching = after(m, "looking for peer configs matching ")) {
    // me[my id]...other[other id]
    const auto dots = matching->find("...");
    if (dots == std::string_view::npos) return;
    std::optional<std::string> requested;
    host_and_identity(matching->substr(0, dots), line.local_address, requested);
    // "%any" when the peer did not ask for a particular identity of ergw
    if (requested && *requested != "%any") line.requested_identity = requested;
    host_and_identity(matching->substr(dots + 3), line.peer_address, line.peer_identity);
    return;
  }
  if (auto hosts = after(m, "no IKE config found for ")) {
    const auto pair = before(*hosts, ", sending");
    const auto dots = pair.find("...");
    if (dots == std::string_view::npos) return;
    line.local_address = std::string(pair.substr(0, dots));
    line.peer_address = std::string(pair.substr(dots + 3));
    return;
  }
  if (contains(m, " is initiating an IKE_SA")) {
    line.peer_address = std::string(before(m, " is initiating an IKE_SA"));
    line.peer_initiates = true;
    return;
  }
  if (auto initiating = after(m, "initiating IKE_SA ")) {
    if (auto to = after(*initiating, "] to ")) line.peer_address = std::string(*to);
    return;
  }
  if (contains(m, "(myself) with")) {
    if (auto ids = quoted(m); !ids.empty()) line.local_identity = std::string(ids[0]);
    return;
  }
  if (contains(m, "no shared key found for") || contains(m, "but MAC mismatched")) {
    if (auto ids = quoted(m); ids.size() >= 2) {
      line.local_identity = std::string(ids[0]);
      line.peer_identity = std::string(ids[1]);
    }
    return;
  }
  if (auto idr = after(m, "received IDr ")) {
    constexpr std::string_view kBut = ", but require ";
    const auto but = idr->find(kBut);
    if (but == std::string_view::npos) return;
    line.requested_identity = std::string(idr->substr(0, but));
    line.local_identity = std::string(idr->substr(but + kBut.size()));
    return;
  }
  if (auto offered = after(m, "received proposals: ")) {
    line.offered_proposals = std::string(*offered);
    return;
  }
  if (auto accepted = after(m, "configured proposals: ")) line.accepted_proposals = std::string(*accepted);
}

}  // namespace

std::string_view failure_name(TunnelFailure failure) { return info(failure).name; }
std::string_view failure_reason(TunnelFailure failure) { return info(failure).reason; }
std::string_view failure_cause(TunnelFailure failure) { return info(failure).cause; }
std::string_view failure_hint(TunnelFailure failure) { return info(failure).hint; }

bool is_generic(TunnelFailure failure) {
  return failure == TunnelFailure::child_failed || failure == TunnelFailure::ike_failed;
}

bool CharonLine::says_anything() const {
  return failure || peer_initiates || peer_address || local_address || peer_identity || local_identity || requested_identity ||
         offered_proposals || accepted_proposals;
}

std::optional<TunnelFailure> classify_charon_log(std::string_view message) {
  for (const auto& p : kPatterns) {
    if (contains(message, p.text) && (p.also.empty() || contains(message, p.also))) return p.failure;
  }
  return std::nullopt;
}

CharonLine read_charon_line(std::string_view message) {
  CharonLine line;
  line.failure = classify_charon_log(message);
  read_facts(message, line);
  return line;
}

}  // namespace ergw::gateway
