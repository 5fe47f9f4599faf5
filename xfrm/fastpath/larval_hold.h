// ESP that arrives for an SPI charon has allocated but not yet installed: held
// for a moment instead of dropped.
//
// Why: the IKE_AUTH (or CREATE_CHILD_SA) responder installs its outbound SA as
// soon as it sends its response, and may send ESP under it at once (strongSwan
// does: its newest outbound SA carries the traffic). The initiator learns the
// keys only when that response has arrived and been processed; charon then
// hands the inbound SA to the fast path over the control socket. ESP sent by
// the responder in between names an SPI we allocated (GETSPI) but cannot
// decrypt yet. The kernel drops such packets (XfrmInNoStates); during a
// make-before-break reauthentication that is a lost packet in a change that
// should lose none. The window is a few milliseconds, so a short, bounded
// hold closes it.
//
// Only SPIs that are reserved (allocated, not yet installed) are held: ESP
// for SPIs nobody allocated is dropped at once, so junk with random SPIs
// cannot fill the hold. The hold is bounded in packets, bytes and time; what
// does not fit, or waits too long, is dropped as an unknown SPI.
//
// One per inbound worker; not thread-safe.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace ergw::xfrm::fastpath {

class LarvalHold {
 public:
  using Clock = std::chrono::steady_clock;

  struct Limits {
    size_t packets = 64;
    size_t bytes = 256 * 1024;
    // Far longer than an IKE response takes to be processed on a loaded
    // appliance, far shorter than what a TCP sender or a ping waits.
    std::chrono::milliseconds max_wait{250};
  };

  struct Packet {
    std::vector<uint8_t> esp;
    bool via_udp = false;
    std::optional<sockaddr_storage> source;  // ESP-in-UDP: the sender, for NAT mappings
    Clock::time_point since;
    bool released = false;
  };

  // What the SA table says about an SPI now.
  enum class SpiState { installed, reserved, unknown };

  struct Released {
    size_t delivered = 0;  // handed to `deliver`: their SA is installed now
    size_t dropped = 0;    // waited too long, or their SPI was given up
  };

  LarvalHold() : LarvalHold(Limits{}) {}
  explicit LarvalHold(Limits limits) : limits_(limits) {}

  // Copies `esp` in; false when the hold is full (the caller drops it).
  bool hold(std::span<const uint8_t> esp, bool via_udp, const sockaddr_storage* source, Clock::time_point now);

  // Hands every held packet whose SPI is installed now to `deliver`, oldest
  // first, and drops those that waited longer than max_wait or whose SPI is
  // no longer reserved. The delivered packets' bytes stay valid (the data
  // path decrypts them in place and settles them later) until
  // discard_released().
  Released release(Clock::time_point now, const std::function<SpiState(uint32_t)>& state_of,
                   const std::function<void(Packet&)>& deliver);
  void discard_released();

  bool empty() const { return packets_.empty(); }
  size_t size() const { return packets_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  Limits limits_;
  std::vector<Packet> packets_;
  size_t bytes_ = 0;
};

}  // namespace ergw::xfrm::fastpath
