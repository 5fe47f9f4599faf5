#include "lab/libipsec_drops.h"

#include <map>
#include <set>

namespace ergw::lab {
namespace {

// "13:29:40 02[ESP] <hub|1> parsed ESP header ...": the thread ("02") and
// the message after the subsystem tag and the optional IKE SA name.
struct LogLine {
  std::string_view thread;
  std::string_view message;
};

bool read_esp_line(std::string_view line, LogLine& out) {
  constexpr std::string_view kTag = "[ESP] ";
  const auto tag = line.find(kTag);
  if (tag == std::string_view::npos) return false;
  // The thread number starts after the last space before the tag (or at the
  // line's start: npos + 1 is 0).
  const auto thread_start = line.rfind(' ', tag) + 1;
  out.thread = line.substr(thread_start, tag - thread_start);
  out.message = line.substr(tag + kTag.size());
  if (out.message.starts_with('<')) {
    const auto end = out.message.find("> ");
    if (end == std::string_view::npos) return false;
    out.message.remove_prefix(end + 2);
  }
  return true;
}

// The eight hex digits after `prefix` at the start of `message`, or "".
std::string spi_after(std::string_view message, std::string_view prefix) {
  if (!message.starts_with(prefix) || message.size() < prefix.size() + 8) return {};
  const auto spi = message.substr(prefix.size(), 8);
  for (char c : spi) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  }
  return std::string(spi);
}

}  // namespace

LibipsecDrops libipsec_drops(std::string_view charon_log) {
  std::set<std::string> allocated;
  std::set<std::string> installed;
  std::map<std::string, std::string, std::less<>> last_parsed;  // per thread
  // SPIs dropped while allocated and not installed: whether charon installed
  // them later is only known further down the log.
  std::vector<std::string> dropped_while_allocated;
  LibipsecDrops drops;
  size_t start = 0;
  while (start < charon_log.size()) {
    auto end = charon_log.find('\n', start);
    if (end == std::string_view::npos) end = charon_log.size();
    LogLine line;
    if (read_esp_line(charon_log.substr(start, end - start), line)) {
      if (auto fresh = spi_after(line.message, "allocated SPI "); !fresh.empty()) {
        allocated.insert(fresh);
      } else if (auto added = spi_after(line.message, "adding SAD entry with SPI "); !added.empty()) {
        installed.insert(added);
      } else if (auto parsed = spi_after(line.message, "parsed ESP header with SPI "); !parsed.empty()) {
        last_parsed[std::string(line.thread)] = parsed;
      } else if (line.message.starts_with("inbound ESP packet does not belong to an installed SA")) {
        const auto it = last_parsed.find(line.thread);
        const std::string spi = it == last_parsed.end() ? "????????" : it->second;
        if (allocated.contains(spi) && !installed.contains(spi)) {
          dropped_while_allocated.push_back(spi);
        } else {
          drops.other_spis.push_back(spi);
        }
      }
    }
    start = end + 1;
  }
  for (const auto& spi : dropped_while_allocated) {
    if (installed.contains(spi)) {
      ++drops.before_its_sa;
    } else {
      drops.other_spis.push_back(spi);  // allocated, never installed: not the race
    }
  }
  return drops;
}

}  // namespace ergw::lab
