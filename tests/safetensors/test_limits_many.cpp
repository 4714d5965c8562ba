// test_limits_many.cpp — a header with a million tiny tensors (59 MB of JSON, under the
// 100 MB cap) must parse in seconds and bounded memory. The JSON library's callback parser
// used to make this quadratic (hours); these tests are its regression tests. The file is
// read by the real binary so that wait4 reports the peak RSS of the parse alone.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "support/bounded_child.hpp"
#include "support/build_flavor.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

using namespace qfp8::test;

namespace {

constexpr uint64_t kTensors = 1'000'000;

// Writes a file of kTensors U8 tensors "t0000000".."t0999999" of `bytes_each` (0 or 1)
// bytes, built piecewise so the test process never holds more than the header text.
void write_many_tensors(const std::string& path, uint64_t bytes_each) {
  std::string header = "{";
  header.reserve(kTensors * 62);
  char entry[128];
  for (uint64_t i = 0; i < kTensors; ++i) {
    const uint64_t begin = i * bytes_each;
    std::snprintf(entry, sizeof entry,
                  "%s\"t%07llu\":{\"dtype\":\"U8\",\"shape\":[%llu],\"data_offsets\":[%llu,%llu]}",
                  i == 0 ? "" : ",", static_cast<unsigned long long>(i),
                  static_cast<unsigned long long>(bytes_each),
                  static_cast<unsigned long long>(begin),
                  static_cast<unsigned long long>(begin + bytes_each));
    header += entry;
  }
  header += "}";
  REQUIRE(header.size() < 100'000'000);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const Bytes prefix = le64(header.size());
  out.write(reinterpret_cast<const char*>(prefix.data()), 8);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  const std::string data(kTensors * bytes_each, '\x07');
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

void check_inspect_bounded(const std::string& name, uint64_t bytes_each) {
  const std::string dir = scratch_dir("limits_many");
  const std::string path = dir + "/" + name;
  write_many_tensors(path, bytes_each);
  // Measured (Release, 2-core VM): 3.2 s and 846 MB peak RSS for either file.
  const auto result = run_bounded({QFP8_BINARY, "inspect", path}, dir, 300);
  remove_path(path);
  INFO(result.err);
  INFO("seconds " << result.seconds << ", peak RSS " << result.max_rss_kib << " KiB");
  REQUIRE(result.signal == 0);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("tensors:     1000000") != std::string::npos);
  CHECK(result.seconds < 120.0);  // linear: seconds, even unoptimized
  if (qfp8::test::kSanitizerBuild) {
    WARN("AddressSanitizer build: peak RSS is not the product's; threshold not checked");
  } else {
    CHECK(result.max_rss_kib < 1536L * 1024);  // ~14x the header text, bounded
  }
}

}  // namespace

TEST_CASE("limits: a million 1-byte tensors parse in seconds and bounded memory",
          "[limits][slow]") {
  check_inspect_bounded("many_1byte.safetensors", 1);
}

TEST_CASE("limits: a million 0-byte tensors parse in seconds and bounded memory",
          "[limits][slow]") {
  check_inspect_bounded("many_0byte.safetensors", 0);
}

TEST_CASE("limits: a real 101 MB header is HeaderTooLarge before it is parsed", "[limits]") {
  // The length prefix alone decides: the reader refuses without reading the header, so the
  // peak RSS stays far below the header's size.
  const std::string dir = scratch_dir("limits_many");
  const std::string path = dir + "/many_too_large.safetensors";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const uint64_t length = 101'000'000;
    const Bytes prefix = le64(length);
    out.write(reinterpret_cast<const char*>(prefix.data()), 8);
    std::string header = "{";
    header.append(length - 2, ' ');
    header += "}";
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
  }
  const auto result = run_bounded({QFP8_BINARY, "inspect", path}, dir, 60);
  remove_path(path);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("exceeds the limit of 100000000 bytes") != std::string::npos);
  CHECK(result.max_rss_kib < 256L * 1024);
}
