// text_format.cpp — shape and size formatting shared by every report.
#include "core/text_format.hpp"

#include <cstdio>

namespace qfp8 {

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

}  // namespace qfp8
