// test_comfy_metadata.cpp — the ComfyUI JSON strings of docs/format.md#metadata, byte for byte as
// Python's json.dumps writes them (expected strings written out by hand from its rules).
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "plan/comfy_metadata.hpp"

using namespace qfp8;

TEST_CASE("layer config JSON is json.dumps' exact bytes", "[plan][comfy]") {
  const std::string plain = "{\"format\": \"float8_e4m3fn\"}";
  const std::string full =
      "{\"format\": \"float8_e4m3fn\", \"full_precision_matrix_mult\": true}";
  CHECK(layer_config_json(false) == plain);
  CHECK(layer_config_json(false).size() == 27);
  CHECK(layer_config_json(true) == full);
  CHECK(layer_config_json(true).size() == 63);
}

TEST_CASE("layer names drop the .weight suffix only", "[plan][comfy]") {
  CHECK(layer_name_of("blocks.0.attn.to_q.weight") == "blocks.0.attn.to_q");
  CHECK(layer_name_of("weight.weight") == "weight");
  CHECK(layer_name_of("a.weight_x.weight") == "a.weight_x");
  CHECK(layer_name_of(".weight").empty());
  CHECK_THROWS_AS(layer_name_of("a.bias"), Error);
  CHECK_THROWS_AS(layer_name_of("a.weight_scale"), Error);
}

TEST_CASE("quantization metadata with json.dumps spacing", "[plan][comfy]") {
  CHECK(quantization_metadata_json({"x.weight"}, false) ==
        "{\"format_version\": \"1.0\", \"layers\": {\"x\": {\"format\": \"float8_e4m3fn\"}}}");
  CHECK(quantization_metadata_json({"x.weight"}, true) ==
        "{\"format_version\": \"1.0\", \"layers\": {\"x\": {\"format\": \"float8_e4m3fn\", "
        "\"full_precision_matrix_mult\": true}}}");
  CHECK(quantization_metadata_json({}, false) == "{\"format_version\": \"1.0\", \"layers\": {}}");
}

TEST_CASE("layers follow byte-wise order of tensor names, not layer names", "[plan][comfy]") {
  // Tensor order: "a-b.weight" < "a.b.weight" < "a.weight" ('-' 0x2D < '.' 0x2E, 'b' < 'w'),
  // while layer-name order would be "a" < "a-b" < "a.b".
  const std::string expected =
      "{\"format_version\": \"1.0\", \"layers\": {"
      "\"a-b\": {\"format\": \"float8_e4m3fn\"}, "
      "\"a.b\": {\"format\": \"float8_e4m3fn\"}, "
      "\"a\": {\"format\": \"float8_e4m3fn\"}}}";
  CHECK(quantization_metadata_json({"a.weight", "a.b.weight", "a-b.weight"}, false) == expected);
  // Byte-wise: UTF-8 lead bytes (>= 0xC0) sort after ASCII.
  CHECK(quantization_metadata_json({"\xC3\xA9.weight", "z.weight"}, false) ==
        "{\"format_version\": \"1.0\", \"layers\": {\"z\": {\"format\": \"float8_e4m3fn\"}, "
        "\"\\u00e9\": {\"format\": \"float8_e4m3fn\"}}}");
}

TEST_CASE("json_quote_ascii escapes like ensure_ascii", "[plan][comfy]") {
  CHECK(json_quote_ascii("plain.name_0") == "\"plain.name_0\"");
  CHECK(json_quote_ascii("q\"b\\") == "\"q\\\"b\\\\\"");
  CHECK(json_quote_ascii("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(json_quote_ascii(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\\u007f\"");
  CHECK(json_quote_ascii(std::string("\x00", 1)) == "\"\\u0000\"");
  CHECK(json_quote_ascii("bl\xC3\xB6" "ck") == "\"bl\\u00f6ck\"");          // U+00F6
  CHECK(json_quote_ascii("\xE4\xB8\xAD") == "\"\\u4e2d\"");                // U+4E2D
  CHECK(json_quote_ascii("\xEF\xBF\xBF") == "\"\\uffff\"");                // U+FFFF
  CHECK(json_quote_ascii("\xF0\x9F\x98\x80") == "\"\\ud83d\\ude00\"");     // U+1F600
  CHECK(json_quote_ascii("\xF4\x8F\xBF\xBF") == "\"\\udbff\\udfff\"");     // U+10FFFF
  CHECK(json_quote_ascii(" ~") == "\" ~\"");
}

TEST_CASE("non-ASCII layer names are escaped inside the metadata", "[plan][comfy]") {
  CHECK(quantization_metadata_json({"m\xC3\xB6.weight"}, false) ==
        "{\"format_version\": \"1.0\", \"layers\": {\"m\\u00f6\": {\"format\": \"float8_e4m3fn\"}}}");
}
