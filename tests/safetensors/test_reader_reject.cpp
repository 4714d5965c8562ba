// test_reader_reject.cpp — one test per rule of docs/format.md#container-reader: each
// hand-made broken file is rejected with the rule's ErrorCode and a message naming the file (and
// the tensor).
#include <catch2/catch.hpp>

#include <string>

#include "core/error.hpp"
#include "safetensors/header_parser.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

using qfp8::ErrorCode;
using qfp8::test::Bytes;
using qfp8::test::image_with_length;
using qfp8::test::safetensors_image;

const std::string kFile = "in.safetensors";

qfp8::Header parse(const Bytes& image) {
  return qfp8::parse_file_image(image.data(), image.size(), kFile);
}

// Parses `image`, expecting `code`; returns the error for further checks of its message.
qfp8::Error rejection(const Bytes& image, ErrorCode code, const std::string& tensor = "") {
  try {
    parse(image);
  } catch (const qfp8::Error& error) {
    INFO(error.what());
    CHECK(qfp8::error_code_name(error.code()) == std::string(qfp8::error_code_name(code)));
    CHECK(error.file() == kFile);
    CHECK(std::string(error.what()).rfind(kFile + ": ", 0) == 0);
    CHECK(error.tensor() == tensor);
    if (!tensor.empty()) {
      CHECK(std::string(error.what()).find("tensor '" + tensor + "'") != std::string::npos);
    }
    return error;
  }
  FAIL("accepted a file that breaks a rule");
  throw;  // unreachable: FAIL throws
}

// One U8 tensor entry, as a JSON member.
std::string u8(const std::string& name, uint64_t count, uint64_t begin) {
  return "\"" + name + "\":{\"dtype\":\"U8\",\"shape\":[" + std::to_string(count) +
         "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(begin + count) + "]}";
}

}  // namespace

TEST_CASE("HeaderTooSmall: fewer than 8 bytes", "[safetensors]") {
  rejection(Bytes{1, 0, 0, 0, 0, 0, 0}, ErrorCode::HeaderTooSmall);
  rejection(Bytes{}, ErrorCode::HeaderTooSmall);
}

TEST_CASE("HeaderTooLarge: N above 100,000,000", "[safetensors]") {
  rejection(image_with_length(100'000'001, "{}"), ErrorCode::HeaderTooLarge);
  rejection(image_with_length(UINT64_MAX, "{}"), ErrorCode::HeaderTooLarge);
  // Exactly the cap is allowed by that rule; this file is merely too short for it.
  rejection(image_with_length(100'000'000, "{}"), ErrorCode::InvalidHeaderLength);
}

TEST_CASE("InvalidHeaderLength: N runs past the end of the file", "[safetensors]") {
  const auto error = rejection(image_with_length(9, "{}      "), ErrorCode::InvalidHeaderLength);
  CHECK(error.detail() == "header length 9 runs past the end of the 16-byte file");
}

TEST_CASE("InvalidHeader: the header is not UTF-8", "[safetensors]") {
  rejection(safetensors_image("{\"\xff\":1}"), ErrorCode::InvalidHeader);
  rejection(safetensors_image("{\"\xc0\xaf\":1}"), ErrorCode::InvalidHeader);      // overlong '/'
  rejection(safetensors_image("{\"\xed\xa0\x80\":1}"), ErrorCode::InvalidHeader);  // surrogate
}

TEST_CASE("is_valid_utf8 follows Rust's from_utf8", "[safetensors]") {
  using qfp8::is_valid_utf8;
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii \x7f"));
  CHECK(is_valid_utf8("\xc3\xbc"));              // U+00FC
  CHECK(is_valid_utf8("\xe2\x82\xac"));          // U+20AC
  CHECK(is_valid_utf8("\xed\x9f\xbf"));          // U+D7FF, last before the surrogates
  CHECK(is_valid_utf8("\xee\x80\x80"));          // U+E000, first after them
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));      // U+1F600
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\x80"));            // lone continuation
  CHECK_FALSE(is_valid_utf8("\xc1\xbf"));        // overlong 2-byte
  CHECK_FALSE(is_valid_utf8("\xe0\x9f\xbf"));    // overlong 3-byte
  CHECK_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));// overlong 4-byte
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));    // U+D800
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));// U+110000
  CHECK_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));        // truncated
  CHECK_FALSE(is_valid_utf8("\xc3"));
}

TEST_CASE("InvalidHeaderStart: the header must open with '{'", "[safetensors]") {
  rejection(safetensors_image(" {}"), ErrorCode::InvalidHeaderStart);  // leading space
  rejection(safetensors_image("[]"), ErrorCode::InvalidHeaderStart);
  rejection(safetensors_image(""), ErrorCode::InvalidHeaderStart);
}

TEST_CASE("InvalidHeaderDeserialization: not JSON or not the schema", "[safetensors]") {
  rejection(safetensors_image("{"), ErrorCode::InvalidHeaderDeserialization);
  rejection(safetensors_image("{} x"), ErrorCode::InvalidHeaderDeserialization);
  rejection(safetensors_image(std::string("{}\0\0", 4)), ErrorCode::InvalidHeaderDeserialization);
  rejection(safetensors_image(std::string("{\0}", 3)), ErrorCode::InvalidHeaderDeserialization);
  rejection(safetensors_image(R"({"a":1})"), ErrorCode::InvalidHeaderDeserialization, "a");
  rejection(safetensors_image(R"({"a":{"dtype":"F7","shape":[],"data_offsets":[0,0]}})"),
            ErrorCode::InvalidHeaderDeserialization, "a");
  rejection(safetensors_image(R"({"a":{"shape":[],"data_offsets":[0,0]}})"),
            ErrorCode::InvalidHeaderDeserialization, "a");
  rejection(safetensors_image(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})"),
            ErrorCode::InvalidHeaderDeserialization, "a");
  rejection(safetensors_image(R"({"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}})"),
            ErrorCode::InvalidHeaderDeserialization, "a");
  rejection(safetensors_image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}})"),
            ErrorCode::InvalidHeaderDeserialization, "a");
  rejection(safetensors_image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":"0,1"}})"),
            ErrorCode::InvalidHeaderDeserialization, "a");
  // A shape of arrays is not the schema.
  rejection(safetensors_image(R"({"a":{"dtype":"U8","shape":[[1]],"data_offsets":[0,1]}})"),
            ErrorCode::InvalidHeaderDeserialization, "a");
}

TEST_CASE("unknown entry fields nest as deep as the reference reader allows, and no deeper",
          "[safetensors]") {
  // serde_json's recursion limit: 127 open containers in all. The header object and the
  // entry are two; the reference (safetensors 0.8) accepts 125 more and refuses 126
  // (tests/python/test_reference_layout.py checks both against it).
  const auto with_unknown_field = [](const std::string& value) {
    return safetensors_image(
        R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":)" + value + "}}", Bytes(1));
  };
  const auto arrays = [](std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  CHECK(parse(with_unknown_field(arrays(125))).tensors.size() == 1);
  CHECK(parse(with_unknown_field(R"({"b":[{"c":{"d":[1,"e",null]}}]})")).tensors.size() == 1);
  const auto error = rejection(with_unknown_field(arrays(126)),
                               ErrorCode::InvalidHeaderDeserialization, "a");
  CHECK(error.detail() == "header JSON nests deeper than 127 levels (the reference reader's limit)");
  // Nested metadata is still not a string.
  rejection(safetensors_image(R"({"__metadata__":{"k":[["v"]]}})"),
            ErrorCode::InvalidHeaderDeserialization);
}

TEST_CASE("InvalidHeaderDeserialization: __metadata__ must map strings to strings",
          "[safetensors]") {
  const auto error = rejection(safetensors_image(R"({"__metadata__":{"k":1}})"),
                               ErrorCode::InvalidHeaderDeserialization);
  CHECK(error.detail() == "'__metadata__' value for key 'k' is not a string");
  rejection(safetensors_image(R"({"__metadata__":["k"]})"), ErrorCode::InvalidHeaderDeserialization);
  rejection(safetensors_image(R"({"__metadata__":{"k":{"x":"y"}}})"),
            ErrorCode::InvalidHeaderDeserialization);
}

TEST_CASE("DuplicateKey: at the top level and inside an entry", "[safetensors]") {
  const auto top = rejection(safetensors_image("{" + u8("a", 1, 0) + "," + u8("a", 1, 1) + "}",
                                               Bytes(2)),
                             ErrorCode::DuplicateKey);
  CHECK(top.detail() == "duplicate key 'a' in the header");
  const auto metadata =
      rejection(safetensors_image(R"({"__metadata__":{"k":"1","k":"2"}})"), ErrorCode::DuplicateKey);
  CHECK(metadata.detail() == "duplicate key 'k' in '__metadata__'");
  const auto inner = rejection(
      safetensors_image(R"({"w":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                        Bytes(1)),
      ErrorCode::DuplicateKey, "w");
  CHECK(inner.detail() == "duplicate key 'dtype' in its header entry");
}

TEST_CASE("UnsupportedDtype: sub-byte F4 and F6", "[safetensors]") {
  rejection(safetensors_image(R"({"q":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", Bytes(1)),
            ErrorCode::UnsupportedDtype, "q");
  rejection(safetensors_image(R"({"q":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}})", Bytes(3)),
            ErrorCode::UnsupportedDtype, "q");
}

TEST_CASE("InvalidOffset: overlap, gap, end before begin", "[safetensors]") {
  const auto overlap = rejection(
      safetensors_image(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                        R"("a.weight":{"dtype":"U8","shape":[10],"data_offsets":[2,12]}})",
                        Bytes(12)),
      ErrorCode::InvalidOffset, "a.weight");
  CHECK(std::string(overlap.what()) ==
        "in.safetensors: tensor 'a.weight': data_offsets [2, 12] overlap the previous tensor");

  const auto gap = rejection(safetensors_image("{" + u8("a", 2, 0) + "," + u8("b", 2, 3) + "}", Bytes(5)),
                             ErrorCode::InvalidOffset, "b");
  CHECK(gap.detail() == "data_offsets [3, 5] leave a gap after offset 2");
  rejection(safetensors_image("{" + u8("first", 2, 1) + "}", Bytes(3)), ErrorCode::InvalidOffset, "first");
  rejection(safetensors_image(R"({"back":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                              R"("c":{"dtype":"U8","shape":[1],"data_offsets":[4,3]}})",
                              Bytes(4)),
            ErrorCode::InvalidOffset, "c");
}

TEST_CASE("ValidationOverflow: element count or byte size past 2^64", "[safetensors]") {
  // 2^32 * 2^32 = 2^64 elements.
  rejection(safetensors_image(
                R"({"big":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
            ErrorCode::ValidationOverflow, "big");
  // 2^62 elements fit; 2^62 * 4 bytes do not.
  rejection(safetensors_image(
                R"({"big":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})"),
            ErrorCode::ValidationOverflow, "big");
}

TEST_CASE("TensorInvalidInfo: offsets disagree with shape and dtype", "[safetensors]") {
  const auto error = rejection(
      safetensors_image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", Bytes(4)),
      ErrorCode::TensorInvalidInfo, "w");
  CHECK(error.detail() == "data_offsets [0, 4] hold 4 bytes but shape [2] of F32 needs 8");
}

TEST_CASE("MetadataIncompleteBuffer: trailing bytes or a short buffer", "[safetensors]") {
  const std::string header = "{" + u8("a", 4, 0) + "}";
  const auto trailing = rejection(safetensors_image(header, Bytes(5)), ErrorCode::MetadataIncompleteBuffer);
  CHECK(trailing.detail().find("1 trailing bytes") == 0);
  rejection(safetensors_image(header, Bytes(3)), ErrorCode::MetadataIncompleteBuffer);
  rejection(safetensors_image("{}", Bytes(1)), ErrorCode::MetadataIncompleteBuffer);
}

TEST_CASE("accepted: padding, unknown fields, null metadata, 0-d and empty tensors",
          "[safetensors]") {
  const std::string header =
      R"({"__metadata__":null,"s":{"dtype":"F32","shape":[],"data_offsets":[0,4],"extra":[1,2]},)"
      R"("e":{"dtype":"BF16","shape":[0,5],"data_offsets":[4,4]},)"
      R"("z":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}} )" "\t\n\r ";
  const auto parsed = parse(safetensors_image(header, Bytes(4)));
  CHECK_FALSE(parsed.has_metadata);
  REQUIRE(parsed.tensors.size() == 3);
  CHECK(parsed.tensors[0].name == "s");
  CHECK(parsed.tensors[0].numel == 1);
  CHECK(parsed.tensors[1].name == "e");  // 0-byte tensors at one offset: by name
  CHECK(parsed.tensors[1].numel == 0);
  CHECK(parsed.tensors[2].name == "z");
  CHECK(parsed.header_size == header.size());
  CHECK(parsed.data_offset() == 8 + header.size());

  const auto empty = parse(safetensors_image("{}"));
  CHECK(empty.tensors.empty());
  CHECK(empty.data_size == 0);
}
