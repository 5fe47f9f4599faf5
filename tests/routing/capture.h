// Loads a reply captured from a real BIRD 2.0.12 (tests/routing/data/).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "routing/reply.h"

namespace ergw::routing::testing {

inline std::string read_capture(const std::string& name) {
  std::ifstream in(std::string(ERGW_SOURCE_DIR) + "/tests/routing/data/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing capture " << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The capture must hold exactly one complete reply.
inline Reply capture_reply(const std::string& name) {
  auto replies = parse_replies(read_capture(name));
  EXPECT_TRUE(replies.ok()) << name << ": " << (replies.ok() ? "" : replies.error());
  if (!replies.ok() || replies->size() != 1) {
    ADD_FAILURE() << name << ": expected one reply";
    return {};
  }
  return std::move(replies->front());
}

}  // namespace ergw::routing::testing
