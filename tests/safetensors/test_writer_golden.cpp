// test_writer_golden.cpp — the writer's bytes equal a file laid out by hand from the
// rules of docs/format.md#container-writer (dtype descending, byte-wise names, compact serde_json
// header, sorted metadata first, space padding to 8), and the writer's misuse errors.
#include <catch2/catch.hpp>

#include <string>

#include "core/error.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/layout.hpp"
#include "safetensors/writer.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

using qfp8::Dtype;
using qfp8::test::Bytes;

const std::string kCafe = "caf\xc3\xa9.weight";  // "café.weight": é is C3 A9 in UTF-8
const std::string kControl = "b\x01\"q";          // a control character and a quote

// Hand-chosen tensor bytes, little-endian.
const Bytes kScale{0x00, 0x00, 0xC0, 0x3F};                       // 1.5f
const Bytes kCafz{0x80, 0x3F};                                    // bf16 1.0
const Bytes kCafeBytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};    // 6 bf16
const Bytes kFp8{0x38, 0xC0, 0x7E, 0x01};                         // 1, -2, 448, 2^-9
const Bytes kMarker{'h', 'e', 'l', 'l', 'o'};

qfp8::SafetensorsLayout golden_layout() {
  // Deliberately out of order: the layout must sort.
  return qfp8::SafetensorsLayout(
      {
          {"marker", Dtype::U8, {5}},
          {kControl, Dtype::F8_E4M3, {2, 2}},
          {kCafe, Dtype::BF16, {2, 3}},
          {"a.scale", Dtype::F32, {}},
          {"cafz", Dtype::BF16, {1}},
      },
      {{"alpha", "1"}, {"Zed", "x\ny"}});
}

// The same file, by hand. Order: F32 > BF16 > F8_E4M3 > U8; within BF16 "cafz" precedes
// "café.weight" because 'z' (0x7A) < 0xC3 byte-wise. Metadata keys: "Zed" < "alpha".
Bytes golden_by_hand() {
  std::string json =
      R"({"__metadata__":{"Zed":"x\ny","alpha":"1"},)"
      R"("a.scale":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
      R"("cafz":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},)"
      R"("café.weight":{"dtype":"BF16","shape":[2,3],"data_offsets":[6,18]},)"
      R"("b\u0001\"q":{"dtype":"F8_E4M3","shape":[2,2],"data_offsets":[18,22]},)"
      R"("marker":{"dtype":"U8","shape":[5],"data_offsets":[22,27]}})";
  REQUIRE(json.size() == 355);  // counted independently (Python len of the UTF-8 bytes)
  json += "     ";              // to 360, a multiple of 8
  Bytes data;
  for (const Bytes* part : {&kScale, &kCafz, &kCafeBytes, &kFp8, &kMarker}) {
    data.insert(data.end(), part->begin(), part->end());
  }
  return qfp8::test::safetensors_image(json, data);
}

}  // namespace

TEST_CASE("writer output equals the hand-laid golden file", "[safetensors]") {
  const auto layout = golden_layout();
  qfp8::MemorySink sink;
  qfp8::SafetensorsWriter writer(layout, sink);
  // The scale comes first in the layout but, as in a conversion, is known last.
  CHECK(writer.next_tensor() == "a.scale");
  writer.defer_tensor("a.scale");
  writer.write_tensor("cafz", kCafz.data(), kCafz.size());
  writer.append(kCafeBytes.data(), 5);  // in chunks
  writer.append(kCafeBytes.data() + 5, 7);
  writer.write_tensor(kControl, kFp8.data(), kFp8.size());
  writer.write_tensor("marker", kMarker.data(), kMarker.size());
  CHECK(writer.next_tensor().empty());
  CHECK_THROWS(writer.finish());  // the scale is still zeros
  CHECK_FALSE(sink.committed());
  writer.fill_deferred("a.scale", kScale.data(), kScale.size());
  writer.finish();
  CHECK(sink.committed());
  CHECK(sink.bytes() == golden_by_hand());
  CHECK(layout.file_size() == golden_by_hand().size());
  CHECK(layout.index_of(kControl) == 3);
}

TEST_CASE("json_quote_compact escapes like serde_json", "[safetensors]") {
  using qfp8::json_quote_compact;
  CHECK(json_quote_compact("") == R"("")");
  CHECK(json_quote_compact("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_quote_compact("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(json_quote_compact(std::string("\0\x1f\x0b", 3)) == R"("\u0000\u001f\u000b")");
  CHECK(json_quote_compact("\x7f/\xc3\xa9\xf0\x9f\x98\x80") == "\"\x7f/\xc3\xa9\xf0\x9f\x98\x80\"");
}

TEST_CASE("layout rejects plans no reader could load", "[safetensors]") {
  const auto code_of = [](std::vector<qfp8::PlannedTensor> tensors) {
    try {
      qfp8::SafetensorsLayout layout(std::move(tensors), {});
    } catch (const qfp8::Error& error) {
      return std::string(qfp8::error_code_name(error.code()));
    }
    return std::string("accepted");
  };
  CHECK(code_of({{"x", Dtype::U8, {1}}, {"x", Dtype::F32, {}}}) == "Internal");
  CHECK(code_of({{"x", Dtype::F4, {2}}}) == "Internal");
  CHECK(code_of({{"x", Dtype::U8, {1ull << 32, 1ull << 32}}}) == "Internal");
  CHECK(code_of({{"x", Dtype::F64, {1ull << 61}}}) == "Internal");
  CHECK(code_of({{"x", Dtype::U8, {1ull << 63}}, {"y", Dtype::U8, {1ull << 63}}}) == "Internal");
  CHECK(code_of({{"__metadata__", Dtype::U8, {1}}}) == "InvalidPlan");
  CHECK(code_of({}) == "accepted");
}

TEST_CASE("writer rejects bytes out of layout order or of the wrong size", "[safetensors]") {
  const auto layout = golden_layout();
  qfp8::MemorySink sink;
  qfp8::SafetensorsWriter writer(layout, sink);
  const Bytes four(4);
  CHECK_THROWS_AS(writer.write_tensor("cafz", kCafz.data(), kCafz.size()), qfp8::Error);
  CHECK_THROWS_AS(writer.write_tensor("a.scale", four.data(), 3), qfp8::Error);
  CHECK_THROWS_AS(writer.write_tensor("nope", four.data(), 4), qfp8::Error);
  CHECK_THROWS_AS(writer.append(Bytes(5).data(), 5), qfp8::Error);  // past a.scale's end
  CHECK_THROWS_AS(writer.fill_deferred("a.scale", four.data(), 4), qfp8::Error);  // not deferred
  writer.write_tensor("a.scale", kScale.data(), kScale.size());
  CHECK(writer.next_tensor() == "cafz");
  CHECK_THROWS_AS(writer.finish(), qfp8::Error);
  CHECK_FALSE(sink.committed());
}
