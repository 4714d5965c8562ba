// test_element_traits.cpp — the element traits (core/element_traits.hpp) against
// values written out by hand: little-endian loads at every alignment, magnitudes, exact
// widening, the non-finite marks; the runtime dispatch; and the one error every quantizing
// path gives for a dtype it cannot read.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "backends/cpu/cpu_cast.hpp"
#include "core/bf16.hpp"
#include "core/element_traits.hpp"
#include "core/error.hpp"
#include "core/quantize_reference.hpp"

using namespace qfp8;

namespace {

// `bytes` placed at byte offset `offset` of a fresh buffer (so the load is misaligned).
std::vector<uint8_t> at_offset(std::vector<uint8_t> bytes, std::size_t offset) {
  bytes.insert(bytes.begin(), offset, uint8_t{0xEE});
  return bytes;
}

constexpr const char* kI32Detail =
    "cannot quantize a I32 tensor: only F16, BF16 and F32 sources are supported";

class NullConsumer : public QuantizedConsumer {
 public:
  void begin_tensor(std::size_t, float) override {}
  void tensor_bytes(std::size_t, const uint8_t*, uint64_t) override {}
  void end_tensor(std::size_t) override {}
};

// Runs `call`, which must throw the one unsupported-source error for I32.
template <class Call>
void require_unsupported_i32(const char* path, Call call, const std::string& tensor = "") {
  INFO(path);
  try {
    call();
    FAIL("no error for an I32 source");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::Internal);
    CHECK(error.detail() == kI32Detail);
    CHECK(error.tensor() == tensor);
  }
}

}  // namespace

TEST_CASE("element traits load little-endian elements at any alignment", "[core][numerics]") {
  for (std::size_t offset = 0; offset < 4; ++offset) {
    INFO("offset " << offset);
    // Element 1 of each buffer: 0x3F80 (BF16 1.0), 0xBC00 (F16 -1.0), 0xC0490FDB (F32 -pi).
    const auto bf16 = at_offset({0x00, 0x00, 0x80, 0x3F}, offset);
    const auto f16 = at_offset({0x00, 0x00, 0x00, 0xBC}, offset);
    const auto f32 = at_offset({0, 0, 0, 0, 0xDB, 0x0F, 0x49, 0xC0}, offset);
    CHECK(Bf16Element::load(bf16.data() + offset, 1) == 0x3F80u);
    CHECK(F16Element::load(f16.data() + offset, 1) == 0xBC00u);
    CHECK(F32Element::load(f32.data() + offset, 1) == 0xC0490FDBu);
    CHECK(Bf16Element::widen(Bf16Element::load(bf16.data() + offset, 1)) == 1.0f);
    CHECK(F16Element::widen(F16Element::load(f16.data() + offset, 1)) == -1.0f);
    CHECK(F32Element::widen(F32Element::load(f32.data() + offset, 1)) == -3.14159274f);
  }
}

TEST_CASE("element traits: sizes, magnitudes, widening, amax and non-finite marks",
          "[core][numerics]") {
  STATIC_REQUIRE(Bf16Element::kSize == 2);
  STATIC_REQUIRE(F16Element::kSize == 2);
  STATIC_REQUIRE(F32Element::kSize == 4);
  CHECK(Bf16Element::magnitude(0xBF80) == 0x3F80u);
  CHECK(F16Element::magnitude(0xFBFF) == 0x7BFFu);
  CHECK(F32Element::magnitude(0x80000001u) == 1u);
  CHECK(F16Element::widen(0x0001) == 5.9604645e-8f);  // 2^-24, the smallest subnormal
  CHECK(Bf16Element::widen(0x0001) == 9.18354962e-41f);  // 2^-133
  CHECK(F16Element::amax(0x7BFF) == 65504.0f);
  CHECK(Bf16Element::amax(0x7F7F) == 3.38953139e38f);
  CHECK(F32Element::amax(0x3F800000u) == 1.0f);
  CHECK(Bf16Element::is_nonfinite(0x7F80));
  CHECK_FALSE(Bf16Element::is_nonfinite(0x7F7F));
  CHECK(F16Element::is_nonfinite(0x7C00));
  CHECK_FALSE(F16Element::is_nonfinite(0x7BFF));
  CHECK(F32Element::is_nonfinite(0x7F800000u));
  CHECK_FALSE(F32Element::is_nonfinite(0x7F7FFFFFu));
}

TEST_CASE("visit_element_type picks the traits of the dtype", "[core][numerics]") {
  for (const Dtype dtype : {Dtype::BF16, Dtype::F16, Dtype::F32}) {
    INFO(dtype_name(dtype));
    CHECK(visit_element_type(dtype, [](auto element) { return decltype(element)::kDtype; }) ==
          dtype);
    CHECK(visit_element_type(dtype, [](auto element) { return decltype(element)::kSize; }) ==
          dtype_size(dtype));
  }
  CHECK(nonfinite_magnitude(Dtype::BF16) == 0x7F80u);
  CHECK(nonfinite_magnitude(Dtype::F16) == 0x7C00u);
  CHECK(nonfinite_magnitude(Dtype::F32) == 0x7F800000u);
}

TEST_CASE("every quantizing path rejects a non-float source with the one error",
          "[core][numerics][backend]") {
  std::vector<uint8_t> bytes(64, 0x11);
  std::vector<uint8_t> out(64);
  const uint8_t* in = bytes.data();
  uint8_t* to = out.data();
  require_unsupported_i32("absmax_magnitude_reference",
                          [&] { absmax_magnitude_reference(Dtype::I32, in, 4); });
  require_unsupported_i32("quantize_reference",
                          [&] { quantize_reference(Dtype::I32, in, 4, 1.0f, to); });
  require_unsupported_i32("magnitude_is_nonfinite",
                          [&] { magnitude_is_nonfinite(Dtype::I32, 0); });
  require_unsupported_i32("amax_from_magnitude", [&] { amax_from_magnitude(Dtype::I32, 0); });
  require_unsupported_i32("load_as_f32", [&] { load_as_f32(Dtype::I32, in, 0); });
  require_unsupported_i32("absmax_magnitude_fast",
                          [&] { absmax_magnitude_fast(Dtype::I32, in, 4); });
  require_unsupported_i32("cast_direct", [&] { cast_direct(Dtype::I32, in, 4, 1.0f, to); });
  // convert --keep-dtype bf16's widening: it used to read any other dtype as F16.
  require_unsupported_i32("convert_to_bf16", [&] { convert_to_bf16(Dtype::I32, in, 4, to); });
  NullConsumer consumer;
  require_unsupported_i32(
      "cpu backend",
      [&] { make_cpu_backend(1)->run({QuantizeJob{"ints", Dtype::I32, in, 4}}, consumer); },
      "ints");
}
