#pragma once
// CPU lists as taskset(1) and the kernel's cpuset files write them: "0",
// "0,1", "0-3,6". Used by `ergw-fastpath --cpus` to place worker threads.

#include <optional>
#include <string_view>
#include <vector>

namespace ergw::xfrm::fastpath {

// The CPUs in `text`, ascending and without duplicates; nullopt when the text
// is empty or malformed, or a CPU is >= kMaxCpu.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

inline constexpr int kMaxCpu = 1024;  // CPU_SETSIZE

}  // namespace ergw::xfrm::fastpath
