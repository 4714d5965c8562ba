// dtype.cpp — the table behind dtype.hpp.
#include "core/dtype.hpp"

#include <array>

namespace qfp8 {
namespace {

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<DtypeInfo, 22> kDtypes{{
    {Dtype::BOOL, "BOOL", 1},        {Dtype::F4, "F4", 0},
    {Dtype::F6_E2M3, "F6_E2M3", 0},  {Dtype::F6_E3M2, "F6_E3M2", 0},
    {Dtype::U8, "U8", 1},            {Dtype::I8, "I8", 1},
    {Dtype::F8_E5M2, "F8_E5M2", 1},  {Dtype::F8_E4M3, "F8_E4M3", 1},
    {Dtype::F8_E8M0, "F8_E8M0", 1},  {Dtype::F8_E4M3FNUZ, "F8_E4M3FNUZ", 1},
    {Dtype::F8_E5M2FNUZ, "F8_E5M2FNUZ", 1},
    {Dtype::I16, "I16", 2},          {Dtype::U16, "U16", 2},
    {Dtype::F16, "F16", 2},          {Dtype::BF16, "BF16", 2},
    {Dtype::I32, "I32", 4},          {Dtype::U32, "U32", 4},
    {Dtype::F32, "F32", 4},          {Dtype::C64, "C64", 8},
    {Dtype::F64, "F64", 8},          {Dtype::I64, "I64", 8},
    {Dtype::U64, "U64", 8},
}};

}  // namespace

std::string_view dtype_name(Dtype dtype) noexcept {
  return kDtypes[static_cast<std::size_t>(dtype)].name;
}

std::optional<Dtype> dtype_from_name(std::string_view name) noexcept {
  for (const auto& info : kDtypes) {
    if (info.name == name) return info.dtype;
  }
  return std::nullopt;
}

std::size_t dtype_size(Dtype dtype) noexcept {
  return kDtypes[static_cast<std::size_t>(dtype)].size;
}

}  // namespace qfp8
