// dtype.hpp — safetensors dtypes: names, element sizes and the reference writer's order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qfp8 {

/// Declared in the reference enum order (safetensors `Dtype`): the writer sorts tensors by
/// this order, descending, so the numeric values matter. Sub-byte F4/F6 are listed only so
/// the order is complete; they are rejected as unsupported when read.
enum class Dtype : uint8_t {
  BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
  I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64,
};

/// The name as written in a safetensors header ("BF16", "F8_E4M3", ...).
std::string_view dtype_name(Dtype dtype) noexcept;

/// Parses a header dtype name; nullopt for names the reference reader does not know.
std::optional<Dtype> dtype_from_name(std::string_view name) noexcept;

/// Bytes per element; 0 for the sub-byte types, which this tool does not handle.
std::size_t dtype_size(Dtype dtype) noexcept;

/// True for the dtypes the quantizer can read as weights (docs/format.md#selection).
constexpr bool is_float_source(Dtype dtype) noexcept {
  return dtype == Dtype::F16 || dtype == Dtype::BF16 || dtype == Dtype::F32;
}

}  // namespace qfp8
