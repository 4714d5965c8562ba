// quant_format.cpp — names and tensor shapes of the quantized formats (docs/format.md#formats).
#include "core/quant_format.hpp"

#include "core/block_formats.hpp"

namespace qfp8 {
namespace {

constexpr QuantFormat kAllFormats[] = {QuantFormat::Float8E4m3fn, QuantFormat::Float8E5m2,
                                       QuantFormat::Mxfp8, QuantFormat::Nvfp4};

}  // namespace

const char* quant_format_name(QuantFormat format) noexcept {
  switch (format) {
    case QuantFormat::Float8E4m3fn: return "float8_e4m3fn";
    case QuantFormat::Float8E5m2: return "float8_e5m2";
    case QuantFormat::Mxfp8: return "mxfp8";
    case QuantFormat::Nvfp4: return "nvfp4";
  }
  return "?";
}

std::optional<QuantFormat> quant_format_from_name(std::string_view name) noexcept {
  for (const QuantFormat format : kAllFormats) {
    if (name == quant_format_name(format)) return format;
  }
  return std::nullopt;
}

std::string quant_format_list() {
  std::string list;
  for (const QuantFormat format : kAllFormats) {
    if (!list.empty()) list += ", ";
    list += quant_format_name(format);
  }
  return list;
}

uint32_t block_size(QuantFormat format) noexcept {
  switch (format) {
    case QuantFormat::Mxfp8: return kMxfp8BlockSize;
    case QuantFormat::Nvfp4: return kNvfp4BlockSize;
    default: return 0;
  }
}

bool has_tensor_scale(QuantFormat format) noexcept { return format != QuantFormat::Mxfp8; }

Dtype data_dtype(QuantFormat format) noexcept {
  switch (format) {
    case QuantFormat::Float8E5m2: return Dtype::F8_E5M2;
    case QuantFormat::Nvfp4: return Dtype::U8;
    default: return Dtype::F8_E4M3;
  }
}

Dtype block_scale_dtype(QuantFormat format) noexcept {
  return format == QuantFormat::Mxfp8 ? Dtype::F8_E8M0 : Dtype::F8_E4M3;
}

std::vector<uint64_t> data_shape(QuantFormat format, uint64_t rows, uint64_t cols) {
  if (format == QuantFormat::Nvfp4) return {rows, cols / 2};
  return {rows, cols};
}

std::vector<uint64_t> block_scale_shape(QuantFormat format, uint64_t rows, uint64_t cols) {
  const uint64_t blocks = cols / block_size(format);
  return {padded_scale_rows(rows), padded_scale_cols(blocks)};
}

std::string shape_problem(QuantFormat format, uint64_t rows, uint64_t cols) {
  const uint32_t block = block_size(format);
  if (block == 0) return {};
  const std::string tail = std::string(" not a multiple of ") + quant_format_name(format) + "'s " +
                           std::to_string(block) + "-element blocks";
  if (cols % block != 0) return std::to_string(cols) + " columns are" + tail;
  if (rows % block != 0) return std::to_string(rows) + " rows are" + tail;
  return {};
}

}  // namespace qfp8
