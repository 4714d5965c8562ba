// utf8.cpp — utf8_sequence_length(): one step of a strict UTF-8 decoder.
#include "core/utf8.hpp"

namespace qfp8 {
namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xC0u) == 0x80u; }

}  // namespace

// The second byte's range is what excludes overlongs (E0, F0), surrogates (ED) and
// > U+10FFFF (F4).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
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

}  // namespace qfp8
