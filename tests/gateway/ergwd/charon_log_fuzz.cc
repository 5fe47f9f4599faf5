// libFuzzer target for what ergwd reads of charon's log: the line classifier
// and fact reader (read_charon_line), and the health tracker fed with log
// events made of the input (one per line: IKE SA name, unique id, message,
// separated by tabs) and with the input decoded as a vici message under every
// event name the tracker handles. Nothing may crash, leak or grow without
// bound (the tracker keeps a bounded number of IKE SAs and failures).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/ergwd/failure_reason.h"
#include "gateway/ergwd/health.h"
#include "gateway/ergwd/pfs_probe.h"
#include "tests/common/fake_clock.h"
#include "vici/message_codec.h"

namespace {

// Time stands still: the fuzzer never advances it.
ergw::testing::FakeClock& clock() {
  static boost::asio::io_context io;
  static ergw::testing::FakeClock fake(io);
  return fake;
}

ergw::gateway::HealthTracker& tracker() {
  static ergw::gateway::HealthTracker t = [] {
    ergw::gateway::HealthTracker made(clock());
    made.set_connections({{"hub", "192.0.2.2", {"net"}, "192.0.2.1", "192.0.2.2"},
                          {"spoke", "2001:db8::2", {"spoke-1", "spoke-2"}, "2001:db8::1", "spoke.example"}});
    return made;
  }();
  return t;
}

// The PFS probe on the same events; charon "takes" every rekey request.
ergw::gateway::PfsProbe& pfs_probe() {
  static ergw::gateway::PfsProbe probe(
      clock(), [](const std::string&, uint64_t, std::function<void(std::string)> done) { done(""); },
      [](bool, const std::string&) {});
  static const bool configured = [] {
    probe.set_connections({{"hub", {"net"}, "PFS2048", true}, {"spoke", {"spoke-1", "spoke-2"}, "None", true}});
    return true;
  }();
  (void)configured;
  return probe;
}

void feed_line(std::string_view line) {
  (void)ergw::gateway::read_charon_line(line);
  const auto tab = line.find('\t');
  ergw::vici::Message event;
  event.set("group", "IKE").set("level", "1");
  if (tab != std::string_view::npos) {
    const auto rest = line.substr(tab + 1);
    const auto tab2 = rest.find('\t');
    event.set("ikesa-name", line.substr(0, tab));
    event.set("ikesa-uniqueid", rest.substr(0, tab2));
    event.set("msg", tab2 == std::string_view::npos ? std::string_view() : rest.substr(tab2 + 1));
  } else {
    event.set("msg", line);
  }
  tracker().on_event("log", event);
  pfs_probe().on_event("log", event);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= input.size()) {
    const auto end = input.find('\n', start);
    feed_line(input.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (auto message = ergw::vici::decode_message(input)) {
    for (const char* name : {"ike-updown", "child-updown", "ike-rekey", "child-rekey", "log"}) {
      tracker().on_event(name, *message);
      pfs_probe().on_event(name, *message);
    }
  }
  if (tracker().unattributed().size() > ergw::gateway::HealthTracker::kUnattributedKept) std::abort();
  if (pfs_probe().ike_sas_tracked() > ergw::gateway::PfsProbe::kIkeSasKept) std::abort();
  return 0;
}
