// test_limits.cpp — hostile headers at the edges of the reader's limits: shapes whose size
// overflows or dwarfs the file, 100 MB headers on either side of the cap, JSON nested a
// million levels deep, and bad UTF-8 in names. Each must end in the named error (or be
// accepted, where the format allows it) quickly and without allocating what the header
// claims. The million-tensor header, which needs a child process to measure, is in
// safetensors/test_limits_many.cpp.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "core/error.hpp"
#include "inspect/inspect_summary.hpp"
#include "safetensors/header_parser.hpp"
#include "safetensors/reader.hpp"
#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

using qfp8::ErrorCode;
using namespace qfp8::test;

namespace {

qfp8::Header parse(const Bytes& image) {
  return qfp8::parse_file_image(image.data(), image.size(), "limits.safetensors");
}

ErrorCode rejection_code(const Bytes& image) {
  try {
    parse(image);
  } catch (const qfp8::Error& error) {
    return error.code();
  }
  FAIL("the header was accepted");
  return ErrorCode::Usage;  // unreachable: FAIL throws
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A header whose only content is one metadata string, padded with spaces to exactly
// `total` bytes: the cheapest way to a header of a given size that is valid JSON.
std::string metadata_header_of_size(std::size_t total) {
  const std::string open = R"({"__metadata__":{"k":")";
  const std::string close = R"("}})";
  std::string header = open;
  header.reserve(total);
  header.append(total - open.size() - close.size(), 'x');
  header += close;
  return header;
}

}  // namespace

TEST_CASE("limits: shapes whose size overflows 2^64 are ValidationOverflow", "[limits]") {
  // Overflow in the element count at the last dimension, and in the byte count alone.
  CHECK(rejection_code(safetensors_image(
            R"({"w":{"dtype":"U8","shape":[2,2,4611686018427387904],"data_offsets":[0,0]}})")) ==
        ErrorCode::ValidationOverflow);
  CHECK(rejection_code(safetensors_image(
            R"({"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})")) ==
        ErrorCode::ValidationOverflow);
  // The largest u64 dimension, times 2.
  CHECK(rejection_code(safetensors_image(
            R"({"w":{"dtype":"U8","shape":[18446744073709551615,2],"data_offsets":[0,0]}})")) ==
        ErrorCode::ValidationOverflow);
  // A dimension past u64 is not a usize: not the schema.
  CHECK(rejection_code(safetensors_image(
            R"({"w":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}})")) ==
        ErrorCode::InvalidHeaderDeserialization);
}

TEST_CASE("limits: huge shapes that fit u64 but not the file are rejected cheaply", "[limits]") {
  // 1 TiB claimed, offsets agreeing with the shape: the 16-byte data buffer is short.
  const Bytes claims_tib = safetensors_image(
      R"({"w":{"dtype":"U8","shape":[1099511627776],"data_offsets":[0,1099511627776]}})",
      Bytes(16));
  CHECK(rejection_code(claims_tib) == ErrorCode::MetadataIncompleteBuffer);
  // Offsets agreeing with the file, not with a 2^40-element BF16 shape.
  CHECK(rejection_code(safetensors_image(
            R"({"w":{"dtype":"BF16","shape":[1048576,1048576],"data_offsets":[0,16]}})",
            Bytes(16))) == ErrorCode::TensorInvalidInfo);
  // The same through a real file: validation happens before any tensor byte is touched.
  const std::string path = temp_path("limits_tib.safetensors");
  write_file(path, claims_tib);
  try {
    const qfp8::SafetensorsFile file(path);
    FAIL("a file claiming 1 TiB of data was opened");
  } catch (const qfp8::Error& error) {
    CHECK(error.code() == ErrorCode::MetadataIncompleteBuffer);
    CHECK(error.detail().find("file is truncated") != std::string::npos);
  }
  remove_path(path);
}

TEST_CASE("limits: a 0-element tensor may have huge other dimensions", "[limits]") {
  // 0 * 2^63 * 2^63 never overflows when multiplied left to right from 1 (the reference's
  // checked product does the same): an empty tensor, accepted, and inspect reports it.
  const std::string header =
      R"({"e":{"dtype":"BF16","shape":[0,9223372036854775808,9223372036854775808],)"
      R"("data_offsets":[0,0]}})";
  const std::string path = temp_path("limits_empty_huge.safetensors");
  write_file(path, safetensors_image(header));
  const qfp8::SafetensorsFile file(path);
  REQUIRE(file.header().tensors.size() == 1);
  CHECK(file.header().tensors[0].numel == 0);
  CHECK(file.header().tensors[0].byte_size() == 0);
  const auto summary = qfp8::summarize(file);
  CHECK(summary.data_size == 0);
  CHECK(qfp8::summary_to_text(summary, true).find("9223372036854775808") != std::string::npos);
  remove_path(path);
}

TEST_CASE("limits: convert keeps 0-element weights with 2^62-long dimensions", "[limits][convert]") {
  // A converter that sized buffers or loops by one dimension would hang or die here.
  const std::string dir = scratch_dir("limits_empty_convert");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  // d.weight is there so that something is quantized (else convert refuses the plan).
  write_file(input, safetensors_image(
      R"({"a.weight":{"dtype":"BF16","shape":[0,4611686018427387904],"data_offsets":[0,0]},)"
      R"("b.weight":{"dtype":"BF16","shape":[4611686018427387904,0],"data_offsets":[0,0]},)"
      R"("c.weight":{"dtype":"F32","shape":[0,0],"data_offsets":[0,0]},)"
      R"("d.weight":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}})",
      {0x80, 0x3F, 0x00, 0x40, 0x80, 0xBF, 0x00, 0x00}));
  remove_path(output);
  const auto result = run_bounded({QFP8_BINARY, "convert", "-i", input, "-o", output, "--device",
                                   "cpu", "--preset", "none", "--include", ".*"},
                                  dir, 60);
  INFO(result.err);
  REQUIRE(result.signal == 0);
  REQUIRE(result.exit_code == 0);
  const qfp8::SafetensorsFile file(output);
  for (const char* name : {"a.weight", "b.weight", "c.weight"}) {
    const qfp8::TensorInfo* tensor = file.find(name);
    REQUIRE(tensor != nullptr);
    CHECK(tensor->numel == 0);
    CHECK(tensor->dtype != qfp8::Dtype::F8_E4M3);  // nothing to scale: kept as it was
    CHECK(file.find(std::string(name) + "_scale") == nullptr);
  }
  REQUIRE(file.find("d.weight") != nullptr);
  CHECK(file.find("d.weight")->dtype == qfp8::Dtype::F8_E4M3);
  remove_path(output);
}

TEST_CASE("limits: a header of exactly 100,000,000 bytes is accepted, one more is not",
          "[limits][slow]") {
  const auto start = std::chrono::steady_clock::now();
  {
    const std::string header = metadata_header_of_size(qfp8::kMaxHeaderSize);
    REQUIRE(header.size() == 100'000'000);
    const auto parsed = parse(safetensors_image(header));
    CHECK(parsed.header_size == 100'000'000);
    CHECK(parsed.tensors.empty());
    REQUIRE(parsed.metadata.count("k") == 1);
    CHECK(parsed.metadata.at("k").size() == 100'000'000 - 25);
  }
  {
    // Valid JSON (a trailing space) whose length is one past the cap.
    const std::string header = metadata_header_of_size(qfp8::kMaxHeaderSize) + " ";
    CHECK(rejection_code(safetensors_image(header)) == ErrorCode::HeaderTooLarge);
  }
  CHECK(seconds_since(start) < 60.0);
}

TEST_CASE("limits: JSON nested a million levels deep is refused without recursion",
          "[limits]") {
  constexpr std::size_t kDepth = 1'000'000;
  const auto start = std::chrono::steady_clock::now();
  // Unclosed and balanced arrays inside metadata, inside a tensor entry, and at the top.
  const std::string arrays(kDepth, '[');
  const std::string closes(kDepth, ']');
  CHECK(rejection_code(safetensors_image(R"({"__metadata__":{"k":)" + arrays)) ==
        ErrorCode::InvalidHeaderDeserialization);
  CHECK(rejection_code(safetensors_image(R"({"__metadata__":{"k":)" + arrays + closes + "}}")) ==
        ErrorCode::InvalidHeaderDeserialization);
  CHECK(rejection_code(safetensors_image(
            R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":)" + arrays + closes +
            "}}")) == ErrorCode::InvalidHeaderDeserialization);
  CHECK(rejection_code(safetensors_image("{\"a\":" + arrays + closes + "}")) ==
        ErrorCode::InvalidHeaderDeserialization);
  // Objects: {"a":{"a":{"a":...}}}.
  std::string objects;
  objects.reserve(kDepth * 6);
  for (std::size_t i = 0; i < kDepth; ++i) objects += "{\"a\":";
  objects += "1";
  objects.append(kDepth, '}');
  CHECK(rejection_code(safetensors_image(objects)) == ErrorCode::InvalidHeaderDeserialization);
  // A header that is nothing but '[' does not even start like one.
  CHECK(rejection_code(safetensors_image(arrays)) == ErrorCode::InvalidHeaderStart);
  CHECK(seconds_since(start) < 20.0);
}

TEST_CASE("limits: names that are not UTF-8 are InvalidHeader", "[limits]") {
  const auto entry = [](const std::string& name) {
    return safetensors_image("{\"" + name + R"(":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})");
  };
  CHECK(rejection_code(entry("w\x80.weight")) == ErrorCode::InvalidHeader);       // lone continuation
  CHECK(rejection_code(entry("w\xe2\x82.weight")) == ErrorCode::InvalidHeader);   // truncated sequence
  CHECK(rejection_code(entry("w\xf4\x90\x80\x80")) == ErrorCode::InvalidHeader);  // past U+10FFFF
  CHECK(rejection_code(entry("w\xf8\x88\x80\x80\x80")) == ErrorCode::InvalidHeader);  // 5-byte form
  CHECK(rejection_code(entry("\xc1\xbf")) == ErrorCode::InvalidHeader);           // overlong
  // Escapes decode to UTF-16: a lone surrogate is not a string (serde_json refuses it too).
  CHECK(rejection_code(entry("w\\ud800.weight")) == ErrorCode::InvalidHeaderDeserialization);
  CHECK(rejection_code(entry("w\\udc00")) == ErrorCode::InvalidHeaderDeserialization);
  // A well-formed pair is a name like any other.
  const auto parsed = parse(entry("w\\ud83d\\ude00"));
  REQUIRE(parsed.tensors.size() == 1);
  CHECK(parsed.tensors[0].name == "w\xf0\x9f\x98\x80");
}

TEST_CASE("limits: names with '/', '\\\\' or NUL are opaque strings to the reader", "[limits]") {
  // The safetensors format allows any string as a name; the reader keeps the bytes.
  const std::string header =
      R"({"../../etc/passwd":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
      R"("a\\b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
      R"("nul\u0000byte":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},)"
      R"("":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}})";
  const auto parsed = parse(safetensors_image(header, Bytes{1, 2, 3, 4}));
  REQUIRE(parsed.tensors.size() == 4);
  CHECK(parsed.tensors[0].name == "../../etc/passwd");
  CHECK(parsed.tensors[1].name == "a\\b");
  CHECK(parsed.tensors[2].name == std::string("nul\0byte", 8));
  CHECK(parsed.tensors[3].name.empty());
  // A raw (unescaped) NUL byte is not JSON at all.
  CHECK(rejection_code(safetensors_image(
            std::string("{\"a") + '\0' + R"(b":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})")) ==
        ErrorCode::InvalidHeaderDeserialization);
}
