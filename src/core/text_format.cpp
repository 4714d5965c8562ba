// text_format.cpp — shape, size and name formatting shared by every report.
#include "core/text_format.hpp"

#include <cstdio>

#include "core/utf8.hpp"

namespace qfp8 {
namespace {

void append_escaped_bytes(std::string& out, std::string_view bytes) {
  for (const char c : bytes) {
    char escaped[5];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
    out += escaped;
  }
}

/// The code point of one well-formed UTF-8 sequence (1..4 bytes).
uint32_t code_point(std::string_view sequence) {
  const auto byte = [&](std::size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(sequence[k]));
  };
  switch (sequence.size()) {
    case 1: return byte(0);
    case 2: return ((byte(0) & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
    case 3: return ((byte(0) & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
    default:
      return ((byte(0) & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) | ((byte(2) & 0x3Fu) << 6) |
             (byte(3) & 0x3Fu);
  }
}

/// Code points a terminal acts on instead of showing: C0, DEL, C1 (U+009B is a one-byte
/// CSI on terminals that honour C1), and the bidi controls that reorder a line.
bool is_terminal_control(uint32_t point) {
  return point < 0x20u || (point >= 0x7Fu && point <= 0x9Fu) ||
         (point >= 0x202Au && point <= 0x202Eu) || (point >= 0x2066u && point <= 0x2069u);
}

}  // namespace

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::string size_text(uint64_t bytes) {
  const double value = static_cast<double>(bytes);
  char text[32];
  if (value >= 1e9) {
    std::snprintf(text, sizeof text, "%.1f GB", value / 1e9);
  } else if (value >= 1e6) {
    std::snprintf(text, sizeof text, "%.1f MB", value / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.1f kB", value / 1e3);
  }
  return text;
}

std::string transfer_text(uint64_t input_bytes, uint64_t output_bytes, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(input_bytes) / 1e9 / seconds : 0.0;
  char text[128];
  std::snprintf(text, sizeof text, "%s -> %s in %.1f s (%.2f GB/s)",
                size_text(input_bytes).c_str(), size_text(output_bytes).c_str(), seconds, rate);
  return text;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t length = utf8_sequence_length(text, i);
    const std::string_view sequence = text.substr(i, length == 0 ? 1 : length);
    if (length == 0 || is_terminal_control(code_point(sequence))) {
      append_escaped_bytes(out, sequence);
    } else {
      out += sequence;
    }
    i += sequence.size();
  }
  return out;
}

}  // namespace qfp8
