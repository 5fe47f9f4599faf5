// What BIRD writes to its log about a session error but does not keep for
// `show protocols all`.
//
// BIRD stores only the class and code of a session's last error ("Last
// error: BGP Error: Bad peer AS"); the value that explains it goes to the
// log alone (BIRD 2.0.12 proto/bgp/packets.c, bgp_log_error()): the AS
// number that came in an OPEN with "Bad peer AS" and the hold time of
// "Unacceptable hold time" (RFC 4271 §6.2), as
//   <time> <RMT> ergw_azure0: Error: Bad peer AS: 65516
//   <time> <RMT> ergw_azure0: Received: Bad peer AS: 65010
// A NOTIFICATION this BIRD sent is "BGP Error:" in `show protocols` and
// "Error:" in the log; one the peer sent is "Received:" in both.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ergw::routing {

// `last_error` as `show protocols all` reports it for `protocol` ("BGP
// Error: Bad peer AS") with the value of the last line the protocol logged
// for it ("BGP Error: Bad peer AS: 65516"). nullopt when the log has no
// such line.
std::optional<std::string> logged_session_error(std::string_view log, std::string_view protocol,
                                                std::string_view last_error);

// The end of BIRD's log file: at most `max_bytes`, starting at a line. Empty
// when the file cannot be read.
std::string read_log_tail(const std::string& path, size_t max_bytes = 64 * 1024);

}  // namespace ergw::routing
