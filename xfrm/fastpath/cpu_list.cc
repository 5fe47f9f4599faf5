#include "xfrm/fastpath/cpu_list.h"

#include <algorithm>
#include <charconv>

namespace ergw::xfrm::fastpath {
namespace {

bool parse_cpu(std::string_view text, int& cpu) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cpu);
  return ec == std::errc{} && end == text.data() + text.size() && cpu >= 0 && cpu < kMaxCpu;
}

}  // namespace

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> cpus;
  if (text.empty()) return std::nullopt;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t dash = item.find('-');
    int first = 0;
    int last = 0;
    if (dash == std::string_view::npos) {
      if (!parse_cpu(item, first)) return std::nullopt;
      last = first;
    } else if (!parse_cpu(item.substr(0, dash), first) || !parse_cpu(item.substr(dash + 1), last) || last < first) {
      return std::nullopt;
    }
    for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

}  // namespace ergw::xfrm::fastpath
