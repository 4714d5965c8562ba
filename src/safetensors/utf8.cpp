// utf8.cpp — is_valid_utf8(): the well-formedness rules of Rust's str::from_utf8, which the
// reference reader applies to the header (InvalidHeader when it fails).
#include "core/utf8.hpp"
#include "safetensors/header_parser.hpp"

namespace qfp8 {

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace qfp8
