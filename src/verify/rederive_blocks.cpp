// rederive_blocks.cpp — verify --against for the block formats (docs/format.md#numerics-mxfp8,
// #numerics-nvfp4): every block of a row re-derived with the core's block quantizers
// (mxfp8_quantize_block, nvfp4_quantize_block), its scale code compared with the one at its
// place in the blocked scales (blocked_scale_offset), its data byte for byte; the quality from
// the output's own codes, decoded as docs/format.md says.
#include <array>

#include "core/block_formats.hpp"
#include "core/element_traits.hpp"
#include "verify/chunked_scan.hpp"
#include "verify/rederive.hpp"

namespace qfp8::verify {
namespace {

/// Where block k of a [rows, cols] weight sits: blocks tile the rows exactly (the columns
/// are a multiple of the block size), so block k starts at element k * block size.
struct BlockGrid {
  uint64_t blocks_per_row = 0;
  uint64_t padded_blocks = 0;  // the blocked scales' width (a multiple of 4)

  uint64_t scale_offset(uint64_t k) const {
    return blocked_scale_offset(k / blocks_per_row, k % blocks_per_row, padded_blocks);
  }
};

/// The block's largest magnitude, into the scan's maximum; true when the block is finite.
/// A block holding Inf or NaN is not quantized: the core's block functions are defined for
/// finite blocks, and such a source is reported (SourceNonFinite) with its scan discarded.
template <class E>
bool note_block_magnitude(const uint8_t* block_source, uint32_t count, LayerScan& part) {
  uint32_t block_max = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t magnitude = E::magnitude(E::load(block_source, i));
    if (magnitude > block_max) block_max = magnitude;
  }
  if (block_max > part.magnitude) part.magnitude = block_max;
  return !E::is_nonfinite(block_max);
}

template <class E>
void scan_mxfp8_block(const uint8_t* source, const uint8_t* data, const uint8_t* scales,
                      const BlockGrid& grid, uint64_t k, LayerScan& part) {
  constexpr uint32_t kBlock = kMxfp8BlockSize;
  const uint8_t* block_source = source + k * kBlock * E::kSize;
  if (!note_block_magnitude<E>(block_source, kBlock, part)) return;
  std::array<uint8_t, kBlock> expected{};
  const uint8_t want_code = mxfp8_quantize_block<E>(block_source, kBlock, expected.data());
  const uint8_t code = scales[grid.scale_offset(k)];
  if (code != want_code) part.block_scales.note(k, want_code, code);
  // 2^(code - 127) (0 for code 0) times an E4M3FN value: exact in double.
  const double scale = static_cast<double>(e8m0_to_f32(code));
  for (uint32_t i = 0; i < kBlock; ++i) {
    const uint64_t index = k * kBlock + i;
    const uint8_t q = data[index];
    if (q != expected[i]) part.data.note(index, expected[i], q);
    part.sums.add(E::widen(E::load(block_source, i)), static_cast<double>(e4m3fn_to_f32(q)) * scale,
                  (q & 0x7Fu) == 0, (q & 0x7Fu) == kE4M3MaxCode);
  }
}

template <class E>
void scan_nvfp4_block(const uint8_t* source, const uint8_t* data, const uint8_t* scales,
                      const BlockGrid& grid, uint64_t k, float derive_scale_2,
                      float written_scale_2, LayerScan& part) {
  constexpr uint32_t kBlock = kNvfp4BlockSize;
  constexpr uint32_t kBytes = kBlock / 2;  // two E2M1 codes per byte
  const uint8_t* block_source = source + k * kBlock * E::kSize;
  if (!note_block_magnitude<E>(block_source, kBlock, part)) return;
  std::array<uint8_t, kBytes> expected{};
  const uint8_t want_code =
      nvfp4_quantize_block<E>(block_source, derive_scale_2, expected.data());
  const uint8_t code = scales[grid.scale_offset(k)];
  if (code != want_code) part.block_scales.note(k, want_code, code);
  // E2M1 (2 significant bits) x E4M3FN (4) x F32 (24): exact in double.
  const double scale =
      static_cast<double>(e4m3fn_to_f32(code)) * static_cast<double>(written_scale_2);
  for (uint32_t byte = 0; byte < kBytes; ++byte) {
    const uint64_t index = k * kBytes + byte;
    const uint8_t packed = data[index];
    if (packed != expected[byte]) part.data.note(index, expected[byte], packed);
    // The even element in the high nibble (docs/format.md#numerics-nvfp4).
    const uint8_t nibbles[2] = {static_cast<uint8_t>(packed >> 4),
                                static_cast<uint8_t>(packed & 0x0Fu)};
    for (uint32_t half = 0; half < 2; ++half) {
      const uint8_t q = nibbles[half];
      part.sums.add(E::widen(E::load(block_source, 2 * byte + half)),
                    static_cast<double>(e2m1_to_f32(q)) * scale, (q & 0x7u) == 0,
                    (q & 0x7u) == 0x7u);
    }
  }
}

}  // namespace

LayerScan scan_block_layer(QuantFormat format, Dtype dtype, const uint8_t* source,
                           const uint8_t* data, const uint8_t* scales, uint64_t rows, uint64_t cols,
                           float derive_scale_2, float written_scale_2, unsigned threads,
                           const Slabs& slabs) {
  BlockGrid grid;
  grid.blocks_per_row = cols / block_size(format);
  grid.padded_blocks = padded_scale_cols(grid.blocks_per_row);
  const uint64_t blocks = rows * grid.blocks_per_row;
  return visit_element_type(dtype, [&](auto element) {
    using E = decltype(element);
    // Chunks of blocks, a fixed split (kScanChunk blocks each): the same sums whatever the
    // thread count.
    const auto partials =
        scan_chunks<LayerScan>(blocks, threads, [&](uint64_t begin, uint64_t end) {
          LayerScan part;
          for (uint64_t k = begin; k < end; ++k) {
            if (format == QuantFormat::Mxfp8) {
              scan_mxfp8_block<E>(source, data, scales, grid, k, part);
            } else {
              scan_nvfp4_block<E>(source, data, scales, grid, k, derive_scale_2, written_scale_2,
                                  part);
            }
          }
          return part;
        }, slabs);
    LayerScan total;
    for (const auto& part : partials) total.merge(part);
    return total;
  });
}

}  // namespace qfp8::verify
