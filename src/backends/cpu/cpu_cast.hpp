// cpu_cast.hpp — the CPU backend's inner loops: absmax over a range and the FP8 cast, by
// direct computation or through a per-tensor lookup table. Same bytes as
// quantize_reference.hpp (tested exhaustively); only faster.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.hpp"
#include "core/quant_format.hpp"

namespace qfp8 {

/// One code per 16-bit pattern. 64 KiB rather than 32 KiB of magnitudes plus a sign fix-up:
/// the lookup is then a single load per element, which measured about twice as fast
/// (docs/benchmarks.md#design-measurements), and a weight tensor only touches a few KiB of it.
inline constexpr std::size_t kCodeTableSize = 65536;

/// Integer max of the magnitude bits of `count` F16/BF16/F32 elements at `source`
/// (little-endian, any alignment). 0 when count == 0.
uint32_t absmax_magnitude_fast(Dtype dtype, const uint8_t* source, uint64_t count);

/// table[bits] = the code of widen(bits) / scale in the per-tensor `format` (float8_e4m3fn or
/// float8_e5m2) for the patterns whose magnitude is
/// <= max_magnitude, both signs (F16 or BF16; other entries are left untouched). Only the
/// positive half is computed: the code of -x is the code of x with 0x80 set, because the
/// division and the cast are sign-symmetric. The one exception, NaN (always 0x7F), never
/// reaches the cast since tensors holding one are rejected first.
void build_code_table(QuantFormat format, Dtype dtype, float scale, uint32_t max_magnitude,
                      uint8_t* table);
/// The same for float8_e4m3fn.
void build_code_table(Dtype dtype, float scale, uint32_t max_magnitude, uint8_t* table);

/// out[i] = table[bits_i] for `count` 16-bit elements; every element's magnitude must be
/// covered by the table.
void cast_with_table(const uint8_t* table, const uint8_t* source, uint64_t count,
                     uint8_t* out);

/// out[i] = the per-tensor `format`'s code of element i / scale, computed per element
/// (F16/BF16/F32).
void cast_direct(QuantFormat format, Dtype dtype, const uint8_t* source, uint64_t count,
                 float scale, uint8_t* out);
/// The same for float8_e4m3fn.
void cast_direct(Dtype dtype, const uint8_t* source, uint64_t count, float scale,
                 uint8_t* out);

}  // namespace qfp8
