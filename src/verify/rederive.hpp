// rederive.hpp — the element-level half of verify --against: one quantized layer's codes
// re-derived from its source with the shared numerics (core/fp8_e4m3fn.hpp, fp8_e5m2.hpp,
// block_formats.hpp) and compared with the output's, and the output's quality measured, in
// fixed chunks on a few threads (chunked_scan.hpp): never a whole tensor in memory.
#pragma once

#include <cstdint>
#include <limits>

#include "core/dtype.hpp"
#include "core/quant_format.hpp"
#include "verify/chunked_scan.hpp"
#include "verify/nonfinite_codes.hpp"
#include "verify/quality_report.hpp"

namespace qfp8::verify {

inline constexpr uint64_t kNoIndex = std::numeric_limits<uint64_t>::max();

/// Codes that differ from the re-derived ones: how many, and the first (lowest index).
struct CodeMismatch {
  uint64_t count = 0;
  uint64_t first = kNoIndex;  // element or byte index (block index for block scales)
  uint8_t expected = 0;
  uint8_t actual = 0;

  void note(uint64_t index, uint8_t want, uint8_t got) {
    if (count++ == 0) {
      first = index;
      expected = want;
      actual = got;
    }
  }
  /// Adds a later chunk's mismatches (chunks are merged in index order).
  void merge(const CodeMismatch& later) {
    if (count == 0 && later.count != 0) {
      first = later.first;
      expected = later.expected;
      actual = later.actual;
    }
    count += later.count;
  }
};

/// What the comparison of one layer found.
struct LayerScan {
  CodeMismatch data;          // FP8 codes; nvfp4: packed bytes
  CodeMismatch block_scales;  // block index k = row * blocks per row + block (block formats)
  QualitySums sums;           // the output as written, against the source
  // The source's largest magnitude bits (sign cleared), taken in the same pass: with it the
  // caller checks that the scale the codes were derived with is the re-derived one.
  uint32_t magnitude = 0;
  // The output codes that are not finite: counted by the per-tensor scans (they read every
  // code), left at 0 by the block scans (whose weights count_nonfinite_codes reads).
  NonfiniteCount nonfinite;

  void merge(const LayerScan& later) {
    data.merge(later.data);
    nonfinite.merge(later.nonfinite);
    block_scales.merge(later.block_scales);
    sums.merge(later.sums);
    magnitude = later.magnitude > magnitude ? later.magnitude : magnitude;
  }
};

/// float8_e4m3fn or float8_e5m2: `codes` (numel) against the source quantized with
/// `derive_scale`; quality from the output's own `written_scale`; the non-finite codes counted
/// in the same pass; `slabs` of elements.
LayerScan scan_per_tensor_layer(QuantFormat format, Dtype dtype, const uint8_t* source,
                                const uint8_t* codes, uint64_t numel, float derive_scale,
                                float written_scale, unsigned threads,
                                const Slabs& slabs = {});

/// mxfp8 or nvfp4 of a [rows, cols] weight: block by block, the block scale code (read from
/// the blocked `scales`) and the data against the source quantized with the core's block
/// functions (nvfp4 with `derive_scale_2`); quality from the output's own codes and
/// `written_scale_2` (nvfp4's weight_scale_2; ignored by mxfp8); `slabs` of blocks (block k:
/// elements k * block size onwards).
LayerScan scan_block_layer(QuantFormat format, Dtype dtype, const uint8_t* source,
                           const uint8_t* data, const uint8_t* scales, uint64_t rows, uint64_t cols,
                           float derive_scale_2, float written_scale_2, unsigned threads,
                           const Slabs& slabs = {});

}  // namespace qfp8::verify
