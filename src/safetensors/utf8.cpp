// utf8.cpp — is_valid_utf8(): the well-formedness rules of Rust's str::from_utf8, which the
// reference reader applies to the header (InvalidHeader when it fails).
#include "safetensors/header_parser.hpp"

namespace qfp8 {
namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xC0u) == 0x80u; }

// Length of the sequence starting at text[i] when well-formed, 0 otherwise. The second
// byte's range is what excludes overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
std::size_t sequence_length(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = at(0);
  if (lead < 0x80u) return 1;
  const std::size_t left = text.size() - i;
  if (lead >= 0xC2u && lead <= 0xDFu) return left >= 2 && is_continuation(at(1)) ? 2 : 0;
  if (lead >= 0xE0u && lead <= 0xEFu) {
    if (left < 3) return 0;
    const unsigned char second = at(1);
    const unsigned char low = lead == 0xE0u ? 0xA0u : 0x80u;
    const unsigned char high = lead == 0xEDu ? 0x9Fu : 0xBFu;
    if (second < low || second > high || !is_continuation(at(2))) return 0;
    return 3;
  }
  if (lead >= 0xF0u && lead <= 0xF4u) {
    if (left < 4) return 0;
    const unsigned char second = at(1);
    const unsigned char low = lead == 0xF0u ? 0x90u : 0x80u;
    const unsigned char high = lead == 0xF4u ? 0x8Fu : 0xBFu;
    if (second < low || second > high || !is_continuation(at(2)) || !is_continuation(at(3))) {
      return 0;
    }
    return 4;
  }
  return 0;  // stray continuation byte, C0/C1 overlong leads, F5..FF
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

}  // namespace qfp8
