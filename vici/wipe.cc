#include "vici/wipe.h"

namespace ergw::vici {

void secure_wipe(std::string& bytes) {
  volatile char* p = bytes.data();
  for (std::size_t i = 0; i < bytes.size(); ++i) p[i] = 0;
  bytes.clear();
}

void secure_wipe(Section& section) { section.wipe_values(); }

}  // namespace ergw::vici
