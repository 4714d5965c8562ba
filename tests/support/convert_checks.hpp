// convert_checks.hpp — expectations for converted files computed independently of the
// converter: the docs/format.md#selection predicate and the #numerics-scale scale, written out
// again here.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "core/fp8_e4m3fn.hpp"
#include "safetensors/reader.hpp"
#include "support/process_scratch.hpp"

namespace qfp8::test {

/// A directory in this process's own scratch directory (created on use).
inline std::string scratch_dir(const std::string& name) {
  const std::string dir = process_scratch_root() + "/" + name;
  std::error_code ignored;  // an existing one is fine
  std::filesystem::create_directory(dir, ignored);
  return dir;
}

/// The row of a batch table (convert --output-dir) for `input`: the line starting with it, or "".
inline std::string row_of(const std::string& table, const std::string& input) {
  std::size_t start = 0;
  while (start < table.size()) {
    const std::size_t end = table.find('\n', start);
    const std::string line = table.substr(start, end - start);
    if (line.rfind(input + " ", 0) == 0) return line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return {};
}

inline bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// docs/format.md#selection default rule, plus (qwen) the Qwen-Image keep list for unprefixed
/// names.
inline bool expect_quantized(const TensorInfo& tensor, bool qwen) {
  if (!ends_with(tensor.name, ".weight") || tensor.dtype != Dtype::BF16 ||
      tensor.shape.size() != 2 || tensor.shape[0] * tensor.shape[1] < 4096) {
    return false;
  }
  if (!qwen) return true;
  const std::string layer = tensor.name.substr(0, tensor.name.size() - 7);
  return layer.rfind("time_text_embed.", 0) != 0 && layer.rfind("norm_out.", 0) != 0 &&
         layer != "img_in" && layer != "txt_in" && layer != "proj_out" &&
         layer != "transformer_blocks.0.img_mod.1";
}

inline float bf16_at(const uint8_t* data, uint64_t index) {
  return bf16_to_f32(static_cast<uint16_t>(data[2 * index] | (data[2 * index + 1] << 8)));
}

/// scale = max|w| / 448 (1 for an all-zero tensor), found by float comparison.
inline float expected_scale(const uint8_t* bf16, uint64_t numel) {
  float amax = 0.0f;
  for (uint64_t i = 0; i < numel; ++i) amax = std::max(amax, std::fabs(bf16_at(bf16, i)));
  return amax == 0.0f ? 1.0f : amax / 448.0f;
}

inline float f32_from_le(const uint8_t* bytes) {
  const uint32_t bits = uint32_t{bytes[0]} | uint32_t{bytes[1]} << 8 | uint32_t{bytes[2]} << 16 |
                        uint32_t{bytes[3]} << 24;
  return float_from_bits(bits);
}

}  // namespace qfp8::test
