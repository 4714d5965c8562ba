// header_json.hpp — internal to the header parser: JSON text -> nlohmann::json, rejecting
// duplicate keys (the JSON library would silently keep the last) and nesting deeper than
// the reference reader accepts, before any of it is built.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace qfp8::detail {

/// Deepest container accepted, counted from the header object (0): an entry (1), its shape
/// (2), and unknown entry fields, which the reference reader skips whatever they hold, down
/// to serde_json's recursion limit: 127 open containers in all, so depth 126. One more is
/// its "recursion limit exceeded" (checked against it by tests/python).
inline constexpr int kMaxHeaderNesting = 126;

/// Parses `text` strictly. Throws InvalidHeaderDeserialization (syntax, nesting) or
/// DuplicateKey, naming `file_label` and, inside an entry, the tensor.
nlohmann::json parse_header_json(std::string_view text, const std::string& file_label);

}  // namespace qfp8::detail
