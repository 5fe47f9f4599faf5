// Encoding and decoding of vici message elements (README "Message format").
// Both directions check every bound: name <= 255 bytes, value <= 65535 bytes,
// section depth <= kMaxSectionDepth, whole message <= kMaxSegmentSize. Malformed
// input is an error value; the decoder never reads outside its input, never
// recurses, and allocates at most a small multiple of the (bounded) input size.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "vici/message.h"

namespace ergw::vici {

// Appends the encoded elements of `message` to `out`. On error `out` may hold a
// partial encoding and should be discarded.
Status encode_message_to(const Message& message, std::string& out);
Result<std::string> encode_message(const Message& message);

// Decodes a complete message: the element sequence must end with every section
// and list closed. Rejected: unknown element types, truncation, unbalanced
// sections, a list inside a list, list items outside a list, key/values or
// sections inside a list, duplicate keys in a section, oversize input.
Result<Message> decode_message(std::string_view bytes);

}  // namespace ergw::vici
