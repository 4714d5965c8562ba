// test_limits_names.cpp — tensor names are opaque strings. safetensors allows any UTF-8
// string as a name, so '/', '\', "..", a leading '/', NUL (as the \u0000 escape) and the
// empty string must pass through convert, inspect and verify unchanged, and must never be
// used as a path (nothing may appear outside the output file).
#include <catch2/catch.hpp>

#include <dirent.h>

#include <cstring>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "safetensors/reader.hpp"
#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

using namespace qfp8::test;

namespace {

const std::string kNul("nul\0byte.weight", 15);

// Hostile 2-D weights (quantizable under the generic rules) and one 1-D tensor.
const std::vector<std::string>& weight_names() {
  static const std::vector<std::string> names = {
      "../../escape/x.weight", "a\\b\\c.weight", kNul, "/tmp/absolute.weight", "dir/sub/.weight"};
  return names;
}

std::set<std::string> directory_entries(const std::string& dir) {
  std::set<std::string> entries;
  DIR* handle = ::opendir(dir.c_str());
  REQUIRE(handle != nullptr);
  while (const dirent* entry = ::readdir(handle)) entries.insert(entry->d_name);
  ::closedir(handle);
  return entries;
}

// BF16 [8, 8] per weight (values 0.25 * (1 + k % 7), all exactly representable), and an
// empty-named 1-D F32 tensor of 4 elements.
void write_hostile_input(const std::string& path) {
  nlohmann::json header = nlohmann::json::object();
  Bytes data;
  for (const auto& name : weight_names()) {
    header[name] = {{"dtype", "BF16"}, {"shape", {8, 8}},
                    {"data_offsets", {data.size(), data.size() + 128}}};
    for (uint64_t k = 0; k < 64; ++k) {
      const float value = 0.25f * static_cast<float>(1 + k % 7);
      uint32_t bits = 0;
      std::memcpy(&bits, &value, sizeof bits);
      data.push_back(static_cast<uint8_t>((bits >> 16) & 0xFFu));
      data.push_back(static_cast<uint8_t>(bits >> 24));
    }
  }
  header[""] = {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {data.size(), data.size() + 16}}};
  data.resize(data.size() + 16, 0);
  write_file(path, safetensors_image(padded(header.dump()), data));
}

}  // namespace

TEST_CASE("limits: hostile tensor names round-trip through convert and are never paths",
          "[limits][convert]") {
  const std::string dir = scratch_dir("limits_names");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  write_hostile_input(input);
  remove_path(output);
  const auto before = directory_entries(dir);
  const auto parent_before = directory_entries(dir + "/..");

  const auto result = run_bounded({QFP8_BINARY, "convert", "-i", input, "-o", output,
                                   "--device", "cpu", "--preset", "none", "--include", ".*"},
                                  dir, 120);
  INFO(result.err);
  REQUIRE(result.signal == 0);
  REQUIRE(result.exit_code == 0);

  // Only the output file appeared; nothing next to the scratch dir either.
  auto expected_entries = before;
  expected_entries.insert("out.safetensors");
  CHECK(directory_entries(dir) == expected_entries);
  CHECK(directory_entries(dir + "/..") == parent_before);
  CHECK_FALSE(path_exists("/tmp/absolute.weight"));

  const qfp8::SafetensorsFile file(output);
  std::set<std::string> names;
  for (const auto& tensor : file.header().tensors) names.insert(tensor.name);
  std::set<std::string> expected = {""};
  for (const auto& name : weight_names()) {
    const std::string layer = name.substr(0, name.size() - std::strlen(".weight"));
    expected.insert(name);
    expected.insert(layer + ".weight_scale");
    expected.insert(layer + ".comfy_quant");
    const auto* weight = file.find(name);
    REQUIRE(weight != nullptr);
    CHECK(weight->dtype == qfp8::Dtype::F8_E4M3);
  }
  CHECK(names == expected);
  REQUIRE(file.find("") != nullptr);
  CHECK(file.find("")->dtype == qfp8::Dtype::F32);

  // The metadata declares the same layers, byte for byte.
  const auto layers =
      nlohmann::json::parse(file.header().metadata.at("_quantization_metadata")).at("layers");
  std::set<std::string> declared;
  for (const auto& item : layers.items()) declared.insert(item.key());
  std::set<std::string> expected_layers;
  for (const auto& name : weight_names()) expected_layers.insert(name.substr(0, name.size() - 7));
  CHECK(declared == expected_layers);

  // inspect and verify --against read the same names without complaint.
  const auto inspected = run_bounded({QFP8_BINARY, "inspect", output, "--json"}, dir, 60);
  INFO(inspected.err);
  CHECK(inspected.exit_code == 0);
  const auto verified = run_bounded({QFP8_BINARY, "verify", output, "--against", input}, dir, 60);
  INFO(verified.out);
  CHECK(verified.exit_code == 0);
}
