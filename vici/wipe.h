// Overwriting buffers that held secrets (PSKs sent with load-shared), so they do
// not linger in freed heap memory. Best effort: copies made elsewhere are not seen.
#pragma once

#include <string>

#include "vici/message.h"

namespace ergw::vici {

// Overwrites the bytes with zeros in a way the compiler may not elide, then clears.
void secure_wipe(std::string& bytes);
// secure_wipe of every value and list item in the tree, recursively.
void secure_wipe(Section& section);

}  // namespace ergw::vici
