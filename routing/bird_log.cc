#include "routing/bird_log.h"

#include <fstream>

namespace ergw::routing {

std::optional<std::string> logged_session_error(std::string_view log, std::string_view protocol,
                                                std::string_view last_error) {
  if (protocol.empty() || last_error.empty()) return std::nullopt;
  // `show protocols` says "BGP Error: " for a NOTIFICATION this BIRD sent,
  // where the log says "Error: " (bgp_err_classes[] against bgp_error());
  // "Received: " is the same in both.
  std::string logged_as(last_error);
  if (last_error.starts_with("BGP Error: ")) logged_as = "Error: " + std::string(last_error.substr(11));
  // "<protocol>: <text>" preceded by a space (the log class before it), so
  // ergw_azure1 never matches a line of ergw_azure10.
  const std::string needle = " " + std::string(protocol) + ": " + logged_as;
  size_t end = log.size();
  while (end > 0) {
    size_t begin = log.rfind('\n', end - 1);
    begin = begin == std::string_view::npos ? 0 : begin + 1;
    std::string_view line = log.substr(begin, end - begin);
    end = begin == 0 ? 0 : begin - 1;
    const size_t at = line.find(needle);
    if (at == std::string_view::npos) continue;
    std::string_view value = line.substr(at + needle.size());
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.remove_suffix(1);
    // The logged text either equals the stored one or adds ": <value>".
    if (value.empty() || value.starts_with(": ")) return std::string(last_error) + std::string(value);
  }
  return std::nullopt;
}

std::string read_log_tail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  if (size <= 0) return {};
  const std::streamoff start = size > static_cast<std::streamoff>(max_bytes) ? size - static_cast<std::streamoff>(max_bytes) : 0;
  in.seekg(start);
  std::string text(static_cast<size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  // A tail that starts inside a line drops that partial line.
  if (start > 0) {
    const size_t newline = text.find('\n');
    text.erase(0, newline == std::string::npos ? text.size() : newline + 1);
  }
  return text;
}

}  // namespace ergw::routing
