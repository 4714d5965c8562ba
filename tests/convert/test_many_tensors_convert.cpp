// test_many_tensors_convert.cpp — a checkpoint of a million 0-byte BF16 tensors (a 63 MB
// header, under the 100 MB cap) and four real weights converts, and the result verifies.
// The per-tensor cost used to be quadratic (the writer looked every tensor up by a linear
// scan: 100,000 tensors took 65 s). No time is asserted here (bench/bench_tiny_tensors
// measures it): CTest's timeout bounds the run, and a generous alarm stops a runaway child.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "safetensors/reader.hpp"
#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

using namespace qfp8::test;

namespace {

constexpr unsigned long long kEmpty = 1'000'000;
constexpr int kWeights = 4;
constexpr unsigned long long kWeightBytes = 64 * 64 * 2;  // 64x64 BF16: quantized (>= 4096)

// "layer0.weight".."layer3.weight" of BF16 1.0, then "t0000000".."t0999999" of shape [0].
void write_input(const std::string& path) {
  std::string header = "{";
  header.reserve(kEmpty * 64 + 512);
  char entry[160];
  for (int i = 0; i < kWeights; ++i) {
    std::snprintf(entry, sizeof entry,
                  "\"layer%d.weight\":{\"dtype\":\"BF16\",\"shape\":[64,64],"
                  "\"data_offsets\":[%llu,%llu]},",
                  i, i * kWeightBytes, (i + 1) * kWeightBytes);
    header += entry;
  }
  const unsigned long long end = kWeights * kWeightBytes;
  for (unsigned long long i = 0; i < kEmpty; ++i) {
    std::snprintf(entry, sizeof entry,
                  "\"t%07llu\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[%llu,%llu]},",
                  i, end, end);
    header += entry;
  }
  header.back() = '}';
  header = padded(header);
  REQUIRE(header.size() < 100'000'000);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const Bytes prefix = le64(header.size());
  out.write(reinterpret_cast<const char*>(prefix.data()), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (unsigned long long i = 0; i < kWeights * kWeightBytes / 2; ++i) out.write("\x80\x3f", 2);
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("limits: a million 0-byte tensors convert, and the output verifies",
          "[limits][slow]") {
  const std::string dir = scratch_dir("many_convert");
  const std::string input = dir + "/many_empty.safetensors";
  const std::string output = dir + "/many_empty-fp8.safetensors";
  write_input(input);
  remove_path(output);
  const auto convert =
      run_bounded({QFP8_BINARY, "convert", input, output, "--device", "cpu", "-q"}, dir, 300);
  INFO(convert.err);
  INFO("convert: " << convert.seconds << " s, peak RSS " << convert.max_rss_kib << " KiB");
  REQUIRE(convert.signal == 0);
  REQUIRE(convert.exit_code == 0);
  {
    // Every input tensor, plus weight_scale and comfy_quant for each of the four layers.
    const qfp8::SafetensorsFile converted(output);
    CHECK(converted.header().tensors.size() == kEmpty + kWeights * 3);
    const qfp8::TensorInfo* last = converted.find("t0999999");
    REQUIRE(last != nullptr);
    CHECK(last->byte_size() == 0);
    const qfp8::TensorInfo* weight = converted.find("layer3.weight");
    REQUIRE(weight != nullptr);
    CHECK(weight->dtype == qfp8::Dtype::F8_E4M3);
  }
  const auto verify = run_bounded({QFP8_BINARY, "verify", output}, dir, 300);
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("[PASS] 4 layers verified") != std::string::npos);
  remove_path(input);
  remove_path(output);
}
