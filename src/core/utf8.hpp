// utf8.hpp — the well-formedness rules of Rust's str::from_utf8, shared by the header
// reader (which rejects a header that breaks them) and the terminal escaping of names.
#pragma once

#include <cstddef>
#include <string_view>

namespace qfp8 {

/// Length (1..4) of the well-formed UTF-8 sequence that starts at text[i], or 0 when the
/// bytes there are not UTF-8 (stray continuation, overlong, surrogate, > U+10FFFF,
/// truncated). Requires i < text.size().
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept;

}  // namespace qfp8
