// test_convert_json.cpp — `convert --json` ([convert-json]): one JSON object on stdout whose
// counts and sizes match the files (counted here from the input with the docs/format.md
// selection rule, and from the output's size), the same counts in a dry run that writes
// nothing, and a usage error when combined with a batch.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>

#include "safetensors/reader.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

/// The one line of `out`, parsed; fails the test on anything else.
nlohmann::json only_json_line(const std::string& out) {
  REQUIRE(!out.empty());
  REQUIRE(out.back() == '\n');
  REQUIRE(out.find('\n') == out.size() - 1);
  return nlohmann::json::parse(out);
}

std::size_t expected_quantized(const SafetensorsFile& in) {
  std::size_t count = 0;
  for (const auto& tensor : in.header().tensors) count += expect_quantized(tensor, true) ? 1 : 0;
  return count;
}

}  // namespace

TEST_CASE("convert --json prints one object that matches the files", "[convert-json]") {
  const std::string dir = scratch_dir("convert_json");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  std::remove(output.c_str());
  write_synthetic_model(input, SyntheticModelOptions{});
  const ChildResult run =
      run_child({QFP8_BINARY, "convert", "-i", input, "-o", output, "--device", "cpu", "--json"}, dir);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json report = only_json_line(run.out);

  const SafetensorsFile in(input);
  const SafetensorsFile out(output);
  const std::size_t quantized = expected_quantized(in);
  CHECK(quantized == 2 * 14 - 1);  // per block 14 Linears, less block 0's img_mod.1
  CHECK(report.at("input") == input);
  CHECK(report.at("output") == output);
  CHECK(report.at("dry_run") == false);
  CHECK(report.at("verified") == false);
  CHECK(report.at("quantized") == quantized);
  CHECK(report.at("kept") == in.header().tensors.size() - quantized);
  CHECK(report.at("input_bytes") == in.file_size());
  CHECK(report.at("output_bytes") == out.file_size());
  CHECK(report.at("seconds").get<double>() >= 0.0);
  CHECK(report.at("backend").get<std::string>().rfind("cpu", 0) == 0);
}

TEST_CASE("convert --dry-run --json reports the plan's counts and writes nothing",
          "[convert-json]") {
  const std::string dir = scratch_dir("convert_json_dry");
  const std::string input = dir + "/in.safetensors";
  write_synthetic_model(input, SyntheticModelOptions{});
  const ChildResult run = run_child({QFP8_BINARY, "convert", "-i", input, "--dry-run", "--json",
                                     "--verify", "--device", "cpu"}, dir);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json report = only_json_line(run.out);  // the plan's text is not printed
  const SafetensorsFile in(input);
  CHECK(report.at("output").is_null());
  CHECK(report.at("dry_run") == true);
  CHECK(report.at("verified") == false);  // nothing was written, so nothing was checked
  CHECK(report.at("quantized") == expected_quantized(in));
  CHECK(report.at("kept") == in.header().tensors.size() - expected_quantized(in));
  CHECK(report.at("input_bytes") == in.file_size());
}

TEST_CASE("convert --json with --verify says the output was verified", "[convert-json]") {
  const std::string dir = scratch_dir("convert_json_verify");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  std::remove(output.c_str());
  write_synthetic_model(input, SyntheticModelOptions{});
  const ChildResult run = run_child(
      {QFP8_BINARY, "convert", input, output, "--verify", "--json", "--device", "cpu"}, dir);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(only_json_line(run.out).at("verified") == true);
}

TEST_CASE("convert --json refuses a batch", "[convert-json]") {
  const std::string dir = scratch_dir("convert_json_batch");
  const std::string input = dir + "/in.safetensors";
  write_synthetic_model(input, SyntheticModelOptions{});
  const ChildResult run =
      run_child({QFP8_BINARY, "convert", input, "--output-dir", dir + "/out", "--json"}, dir);
  CHECK(run.exit_code == 1);
  CHECK(run.out.empty());
  CHECK(run.err.find("--json reports one conversion") != std::string::npos);
}
