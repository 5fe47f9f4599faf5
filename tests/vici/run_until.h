// Runs an io_context until a condition holds, for tests of asynchronous code.
// A generous bound keeps a broken component from hanging the suite.
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>

namespace ergw::vici::testing {

// Returns whether `done` became true within `limit`.
template <typename Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit,
               std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(step);
  }
  return true;
}

}  // namespace ergw::vici::testing
