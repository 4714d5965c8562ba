// block_scale_checks.cpp — the rules on the blocked scales of mxfp8 and nvfp4 layers
// (docs/format.md#blocked-scales, #verification): the dtype of the format, the exact padded
// shape of the weight's [rows, blocks] matrix, and, code by code, no sign bit on an nvfp4
// block scale and zero codes in the padding. NaN codes are the file-wide scan's
// (check_nan_codes), so each bad byte is reported once.
#include <limits>

#include "core/block_formats.hpp"
#include "core/fp8_e4m3fn.hpp"
#include "verify/tensor_checks.hpp"

namespace qfp8::verify {
namespace {

constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();

/// What the walk over the padded scale matrix found.
struct BlockScaleCodes {
  uint64_t negative = 0;  // nvfp4 codes with the sign bit set (NaN codes aside)
  uint64_t negative_row = kNone, negative_block = kNone;
  uint8_t negative_code = 0;
  uint64_t padding = 0;  // nonzero codes in the padding
  uint64_t padding_offset = kNone, padding_row = kNone, padding_block = kNone;
};

/// Walks every cell (row, block) of the padded [rows128, blocks4] matrix once, through the
/// layout function the writers use, so that each byte of the tensor is classified as a real
/// block's code or padding.
BlockScaleCodes scan_codes(const uint8_t* codes, QuantFormat format, uint64_t rows, uint64_t blocks,
                           uint64_t padded_rows, uint64_t padded_blocks) {
  BlockScaleCodes found;
  for (uint64_t row = 0; row < padded_rows; ++row) {
    for (uint64_t block = 0; block < padded_blocks; ++block) {
      const uint64_t offset = blocked_scale_offset(row, block, padded_blocks);
      const uint8_t code = codes[offset];
      if (row >= rows || block >= blocks) {
        if (code != 0 && found.padding++ == 0) {
          found.padding_offset = offset;
          found.padding_row = row;
          found.padding_block = block;
        }
        continue;
      }
      // An E4M3FN scale is a magnitude: -0 and negative codes would flip the block's signs.
      // 0xFF is NaN, which the NaN scan reports.
      const bool negative = (code & 0x80u) != 0 && (code & 0x7Fu) != kE4M3NanCode;
      if (format == QuantFormat::Nvfp4 && negative && found.negative++ == 0) {
        found.negative_row = row;
        found.negative_block = block;
        found.negative_code = code;
      }
    }
  }
  return found;
}

std::string hex_code(uint8_t code) {
  static const char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[code >> 4] + kDigits[code & 0xF];
}

}  // namespace

bool check_block_scales(const SafetensorsFile& file, const TensorInfo& scales, QuantFormat format,
                        const std::array<uint64_t, 2>* matrix, const std::string& layer,
                        FindingList& findings) {
  const Dtype dtype = block_scale_dtype(format);
  if (scales.dtype != dtype) {
    findings.err(FindingId::BlockScaleDtype, layer,
                 "'" + scales.name + "' is " + std::string(dtype_name(scales.dtype)) +
                     ", must be " + std::string(dtype_name(dtype)) + " (" +
                     quant_format_name(format) + " block scales)");
    return false;
  }
  if (matrix == nullptr) return false;  // the weight's problem is reported: no shape to expect
  const uint64_t rows = (*matrix)[0];
  const uint64_t cols = (*matrix)[1];
  const std::vector<uint64_t> expected = block_scale_shape(format, rows, cols);
  if (scales.shape != expected) {
    findings.err(FindingId::BlockScaleShape, layer,
                 "'" + scales.name + "' has shape " + shape_text(scales.shape) + ", must be " +
                     shape_text(expected) + " (the blocked scales of a " +
                     shape_text({rows, cols}) + " weight)");
    return false;
  }
  file.prefetch(scales);
  const BlockScaleCodes found = scan_codes(file.bytes(scales).data, format, rows,
                                           cols / block_size(format), expected[0], expected[1]);
  file.release(scales);
  if (found.negative != 0) {
    findings.err(FindingId::BlockScaleNegative, layer,
                 "'" + scales.name + "' has " + std::to_string(found.negative) +
                     " block scale code(s) with the sign bit set; first at row " +
                     std::to_string(found.negative_row) + ", block " +
                     std::to_string(found.negative_block) + ": " + hex_code(found.negative_code));
  }
  if (found.padding != 0) {
    findings.err(FindingId::BlockScalePadding, layer,
                 "'" + scales.name + "' has " + std::to_string(found.padding) +
                     " nonzero code(s) in its padding; first at byte " +
                     std::to_string(found.padding_offset) + " (row " +
                     std::to_string(found.padding_row) + ", block " +
                     std::to_string(found.padding_block) + ")");
  }
  return true;
}

}  // namespace qfp8::verify
