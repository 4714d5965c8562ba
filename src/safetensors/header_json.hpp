// header_json.hpp — internal to the header parser: JSON text -> nlohmann::json, rejecting
// duplicate keys (the JSON library would silently keep the last) and nesting deeper than
// the safetensors schema, before any of it is built.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace qfp8::detail {

/// Deepest container the schema needs: header object (0) -> tensor entry or `__metadata__`
/// (1) -> shape / data_offsets array (2).
inline constexpr int kMaxHeaderNesting = 2;

/// Parses `text` strictly. Throws InvalidHeaderDeserialization (syntax, nesting) or
/// DuplicateKey, naming `file_label` and, inside an entry, the tensor.
nlohmann::json parse_header_json(std::string_view text, const std::string& file_label);

}  // namespace qfp8::detail
