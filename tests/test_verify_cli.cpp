// test_verify_cli.cpp — the `qfp8-cuda verify` binary: exit codes (0 pass, 1 usage,
// 2 fail, 3 I/O), the text lines, --json and --report files.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "support/build_flavor.hpp"
#include "support/child_process.hpp"
#include "support/fp8_file_builder.hpp"

using namespace qfp8::test;

namespace {

const std::string kQ = "blocks.0.attn.to_q";

ChildResult run_verify(std::vector<std::string> args) {
  args.insert(args.begin(), {QFP8_BINARY, "verify"});
  temp_path("x");  // creates the scratch directory
  return run_child(args, process_scratch_root());
}

std::string good_file(const std::string& name) {
  return write_image(temp_path("verify_cli_" + name + ".safetensors"),
                     quantize_image(small_source_model(), small_model_layers()));
}

// One source file per test case: ctest runs test cases in parallel processes.
std::string source_file(const std::string& name) {
  return write_image(temp_path("verify_cli_source_" + name + ".safetensors"), small_source_model());
}

}  // namespace

TEST_CASE("verify binary passes a correct file with exit 0", "[verify]") {
  const ChildResult run = run_verify({good_file("good"), "--threads", "2"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("[OK] ") == 0);
  CHECK(run.out.find("[PASS] 2 layers verified\n") != std::string::npos);
}

TEST_CASE("verify binary fails a missing scale with exit 2", "[verify]") {
  FileImage image = quantize_image(small_source_model(), small_model_layers());
  image.erase(kQ + ".weight_scale");
  const std::string path = write_image(temp_path("verify_cli_missing.safetensors"), image);
  const ChildResult run = run_verify({path});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 2);
  CHECK(run.out.find("[ERR] MissingWeightScale '" + kQ + "': ") != std::string::npos);
  CHECK(run.out.find("[FAIL] 1 errors\n") != std::string::npos);
}

TEST_CASE("verify binary --json prints one object", "[verify]") {
  FileImage image = quantize_image(small_source_model(), small_model_layers());
  image.at(kQ + ".weight").data[0] = 0xFF;
  const std::string path = write_image(temp_path("verify_cli_json.safetensors"), image);
  const ChildResult run = run_verify({path, "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 2);
  const auto root = nlohmann::json::parse(run.out);
  CHECK(root["passed"] == false);
  CHECK(root["summary"]["errors"] == 1);
  CHECK(root["summary"]["layers"] == 2);
  bool named = false;
  for (const auto& finding : root["findings"]) {
    named = named || (finding["id"] == "NanCode" && finding["subject"] == kQ + ".weight" &&
                      finding["severity"] == "ERR");
  }
  CHECK(named);
}

TEST_CASE("verify binary --against fails a flipped byte and writes reports", "[verify]") {
  FileImage image = quantize_image(small_source_model(), small_model_layers());
  const std::string good = good_file("against");
  const std::string csv = temp_path("verify_cli_report.csv");
  const std::string json = temp_path("verify_cli_report.json");
  const ChildResult pass = run_verify({good, "--against", source_file("flipped"), "--report", csv});
  INFO(pass.out << pass.err);
  CHECK(pass.exit_code == 0);
  CHECK(pass.out.find("quality: 2 layers, mean SNR ") != std::string::npos);
  const Bytes csv_bytes = read_file(csv);
  const std::string csv_text(csv_bytes.begin(), csv_bytes.end());
  CHECK(csv_text.find("layer,numel,snr_db,") == 0);
  CHECK(std::count(csv_text.begin(), csv_text.end(), '\n') == 3);  // header + 2 layers
  CHECK(run_verify({good, "--against", source_file("flipped"), "--report", json}).exit_code == 0);
  const Bytes json_bytes = read_file(json);
  const auto report = nlohmann::json::parse(json_bytes.begin(), json_bytes.end());
  CHECK(report["layers"].size() == 2);
  CHECK(report["summary"]["layers"] == 2);

  image.at(kQ + ".weight").data[3] ^= 0x02;
  const std::string bad = write_image(temp_path("verify_cli_flipped.safetensors"), image);
  const ChildResult fail = run_verify({bad, "--against", source_file("flipped")});
  INFO(fail.out << fail.err);
  CHECK(fail.exit_code == 2);
  CHECK(fail.out.find("[ERR] WeightBytesDiffer '" + kQ + "': 1 FP8 code(s)") != std::string::npos);
}

TEST_CASE("verify binary usage and I/O exit codes", "[verify]") {
  CHECK(run_verify({}).exit_code == 1);
  CHECK(run_verify({good_file("usage"), "--report", temp_path("r.csv")}).exit_code == 1);
  CHECK(run_verify({good_file("usage"), "--against", source_file("usage"), "--report", temp_path("r.txt")})
            .exit_code == 1);
  CHECK(run_verify({temp_path("verify_cli_does_not_exist.safetensors")}).exit_code == 3);
}

TEST_CASE("verify binary passes what convert writes, re-derived from its source", "[verify]") {
  for (const bool prefix : {false, true}) {
    const std::string source =
        temp_path(prefix ? "verify_e2e_prefixed.safetensors" : "verify_e2e.safetensors");
    const std::string output = source + ".fp8.safetensors";
    std::vector<std::string> synth = {QFP8_BINARY, "synth", "--model",     "qwen-image",
                                      "--blocks",  "1",     "--width-div", "32",
                                      "--force",   source};
    if (prefix) synth.push_back("--prefix");
    REQUIRE(run_child(synth, process_scratch_root()).exit_code == 0);
    const ChildResult convert = run_child({QFP8_BINARY, "convert", source, output, "--device",
                                           "cpu", "--force", "--write-input-scale", "-q"},
                                          process_scratch_root());
    INFO(convert.out << convert.err);
    REQUIRE(convert.exit_code == 0);
    const ChildResult run = run_verify({output, "--against", source});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.out.find("[PASS] ") != std::string::npos);
    CHECK(run.out.find("[ERR]") == std::string::npos);
    CHECK(run.out.find("[WARN]") == std::string::npos);
  }
}

TEST_CASE("verify --against streams: peak memory far below the files' size", "[verify][slow]") {
  // ~180 MB source + ~100 MB output; the largest tensor pair is ~21 MB (img_mod.1 [9216,
  // 1536] in BF16 and FP8). Mapped pages are released after each tensor, so the peak
  // resident set stays near the largest tensor plus the program, not the whole files.
  const std::string source = temp_path("verify_mem_source.safetensors");
  const std::string output = temp_path("verify_mem_output.safetensors");
  REQUIRE(run_child({QFP8_BINARY, "synth", "--model", "qwen-image", "--blocks", "1", "--width-div",
                     "2", "--force", "-q", source},
                    process_scratch_root())
              .exit_code == 0);
  REQUIRE(run_child({QFP8_BINARY, "convert", source, output, "--device", "cpu", "--force", "-q"},
                    process_scratch_root())
              .exit_code == 0);
  const ChildResult run = run_verify({output, "--against", source, "--threads", "2"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  struct stat source_info {
  }, output_info{};
  REQUIRE(::stat(source.c_str(), &source_info) == 0);
  REQUIRE(::stat(output.c_str(), &output_info) == 0);
  const long files_kib = static_cast<long>((source_info.st_size + output_info.st_size) / 1024);
  if (!kSanitizerBuild) {  // ASan's shadow memory and quarantine inflate the peak
    CHECK(run.max_rss_kib < 120 * 1024);
    CHECK(run.max_rss_kib < files_kib / 2);
  }
  remove_path(source);
  remove_path(output);
}
