// test_invariants.cpp — the layout, writer and sink refuse calls in an order or
// of a size our own pipeline never makes, as ErrorCode::Internal (exit 4): no input file or
// option reaches them, so they must not be reported as invalid input (exit 2).
#include <catch2/catch.hpp>

#include <string>

#include "core/error.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/writer.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

using qfp8::Dtype;
using qfp8::ErrorCode;
using qfp8::test::Bytes;

// Two tensors: "a" (4 bytes) is written before "b" (2 bytes): F32 sorts before U8.
qfp8::SafetensorsLayout two_tensors() {
  return qfp8::SafetensorsLayout({{"b", Dtype::U8, {2}}, {"a", Dtype::F32, {}}}, {});
}

template <typename Call>
ErrorCode code_of(Call call) {
  try {
    call();
  } catch (const qfp8::Error& error) {
    return error.code();
  }
  FAIL("no error");
  return ErrorCode::Usage;
}

}  // namespace

TEST_CASE("writer misuse is an Internal error", "[safetensors][error]") {
  const auto layout = two_tensors();
  qfp8::MemorySink sink;
  qfp8::SafetensorsWriter writer(layout, sink);
  const Bytes bytes(8, 0);
  REQUIRE(writer.next_tensor() == "a");
  // "b" before "a": out of the layout's order.
  CHECK(code_of([&] { writer.write_tensor("b", bytes.data(), 2); }) == ErrorCode::Internal);
  // 3 bytes for a 4-byte F32 scalar.
  CHECK(code_of([&] { writer.write_tensor("a", bytes.data(), 3); }) == ErrorCode::Internal);
  // 5 bytes appended to a 4-byte tensor.
  CHECK(code_of([&] { writer.append(bytes.data(), 5); }) == ErrorCode::Internal);
  // "a" was never deferred, so it cannot be filled.
  CHECK(code_of([&] { writer.fill_deferred("a", bytes.data(), 4); }) == ErrorCode::Internal);
  // Finished with "a" and "b" unwritten.
  CHECK(code_of([&] { writer.finish(); }) == ErrorCode::Internal);
  CHECK_FALSE(sink.committed());
}

TEST_CASE("a name not in the layout is an Internal error", "[safetensors][error]") {
  const auto layout = two_tensors();
  CHECK(layout.index_of("b") == 1);
  CHECK(code_of([&] { layout.index_of("c"); }) == ErrorCode::Internal);
}

TEST_CASE("memory sink misuse is an Internal error", "[safetensors][error]") {
  qfp8::MemorySink sink;
  const Bytes bytes(4, 7);
  sink.write(bytes.data(), 4);
  // Bytes 2..6 of a 4-byte sink were never written.
  CHECK(code_of([&] { sink.write_at(2, bytes.data(), 4); }) == ErrorCode::Internal);
  sink.commit();
  CHECK(code_of([&] { sink.write(bytes.data(), 1); }) == ErrorCode::Internal);
}
