// header_parser.hpp — parses and validates a safetensors file's bytes exactly as strictly
// as the reference reader (docs/format.md#container-reader). Pure functions over memory, so the
// fuzzers and tests can drive them without files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "safetensors/tensor_info.hpp"

namespace qfp8 {

/// Largest header the reference reader accepts (HeaderTooLarge above).
inline constexpr uint64_t kMaxHeaderSize = 100'000'000;

/// Validates the JSON header text (after the 8-byte length) against a data buffer of
/// `data_size` bytes. Throws qfp8::Error naming `file_label`, the tensor and the rule.
Header parse_header(std::string_view header_json, uint64_t data_size,
                    const std::string& file_label);

/// Validates a whole file image: length prefix, header, tiling, trailing bytes.
Header parse_file_image(const uint8_t* bytes, uint64_t size, const std::string& file_label);

/// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past
/// U+10FFFF), as Rust's str::from_utf8 decides.
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace qfp8
