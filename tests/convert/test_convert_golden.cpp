// test_convert_golden.cpp — `--preset none --no-comfy-quant` must equal, byte for byte, a
// file assembled here by hand from the rules of docs/format.md (#container-writer layout and
// header, #layer and #metadata names, #numerics, #selection predicate) without the project's
// layout or writer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/fp8_e4m3fn.hpp"
#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

struct Entry {
  std::string name;
  std::string dtype;
  // Position in the reference Dtype enum (docs/format.md#container): larger is written first.
  int rank;
  std::vector<uint64_t> shape;
  Bytes data;
};

Entry quantized_weight(const TensorInfo& tensor, const ByteView& bf16, float scale) {
  Entry entry{tensor.name, "F8_E4M3", 7, tensor.shape, Bytes(tensor.numel)};
  for (uint64_t i = 0; i < tensor.numel; ++i) {
    entry.data[i] = e4m3fn_from_f32(bf16_at(bf16.data, i) / scale);  // a true division
  }
  return entry;
}

std::string shape_json(const std::vector<uint64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string escape_quotes(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Bytes assemble_expected(const SafetensorsFile& in) {
  std::vector<Entry> entries;
  std::vector<std::string> layers;  // in tensor-name order (sorted below)
  for (const auto& tensor : in.header().tensors) {
    const ByteView bytes = in.bytes(tensor);
    if (!expect_quantized(tensor, false)) {
      REQUIRE(tensor.dtype == Dtype::BF16);
      entries.push_back({tensor.name, "BF16", 14, tensor.shape, Bytes(bytes.data, bytes.data + bytes.size)});
      continue;
    }
    const float scale = expected_scale(bytes.data, tensor.numel);
    entries.push_back(quantized_weight(tensor, bytes, scale));
    const std::string layer = tensor.name.substr(0, tensor.name.size() - 7);
    entries.push_back({layer + ".weight_scale", "F32", 17, {}, bytes_of(scale)});
    layers.push_back(tensor.name);
  }
  std::sort(layers.begin(), layers.end());
  std::string quant = "{\"format_version\": \"1.0\", \"layers\": {";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    quant += (i ? ", \"" : "\"") + layers[i].substr(0, layers[i].size() - 7) +
             "\": {\"format\": \"float8_e4m3fn\"}";
  }
  quant += "}}";

  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.name < b.name;
  });
  // Metadata keys sorted: '_' (0x5F) < 'f'.
  std::string header = "{\"__metadata__\":{\"_quantization_metadata\":\"" + escape_quotes(quant) +
                       "\",\"format\":\"pt\"}";
  Bytes data;
  for (const auto& entry : entries) {
    const uint64_t begin = data.size();
    data.insert(data.end(), entry.data.begin(), entry.data.end());
    header += ",\"" + entry.name + "\":{\"dtype\":\"" + entry.dtype + "\",\"shape\":" +
              shape_json(entry.shape) + ",\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(data.size()) + "]}";
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');  // spaces up to a multiple of 8
  Bytes image(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) image[static_cast<std::size_t>(i)] = static_cast<uint8_t>(header.size() >> (8 * i));
  std::copy(header.begin(), header.end(), image.begin() + 8);
  std::copy(data.begin(), data.end(), image.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return image;
}

}  // namespace

TEST_CASE("preset none without comfy_quant equals a hand-assembled file", "[convert]") {
  const std::string dir = scratch_dir("convert_golden");
  SyntheticModelOptions model;
  model.seed = 7;
  model.zero_tensor = "transformer_blocks.0.attn.to_v.weight";
  write_synthetic_model(dir + "/in.safetensors", model);
  remove_path(dir + "/out.safetensors");
  const auto result = run_child({QFP8_BINARY, "convert", "-i", dir + "/in.safetensors", "-o",
                                 dir + "/out.safetensors", "--preset", "none", "--no-comfy-quant",
                                 "--device", "cpu", "--threads", "2"},
                                dir);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const SafetensorsFile in(dir + "/in.safetensors");
  const Bytes expected = assemble_expected(in);
  const Bytes actual = read_file(dir + "/out.safetensors");
  REQUIRE(actual.size() == expected.size());
  const auto mismatch = std::mismatch(actual.begin(), actual.end(), expected.begin());
  INFO("first difference at byte " << (mismatch.first - actual.begin()));
  CHECK(actual == expected);
}
