// test_verify_cli.cpp — the `qfp8-cuda verify` binary: exit codes (0 pass, 1 usage,
// 2 fail, 3 I/O), the text lines, --json and --report files.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include <nlohmann/json.hpp>

#include "support/build_flavor.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/fp8_file_builder.hpp"
#include "support/quant_format_fixtures.hpp"

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

TEST_CASE("verify --against holds a slice of a large layer and kept tensor, not the whole one",
          "[verify][slow]") {
  // A float8_e4m3fn layer of 72 MiB BF16 (36 MiB of codes), an mxfp8 layer of 48 MiB
  // (24 MiB of codes) and a kept tensor of 96 MiB in each file: held whole, the pair of any
  // of them would put the peak above 80 MiB. The scans drop each slab of 8 Mi elements
  // (16 + 8 MiB) and the comparison each 16 MiB slice of both files once done with it.
  // Under the sanitizers, where the peak is not asserted, half the side: still
  // several slabs and slices to drop.
  constexpr uint64_t kSide = kSanitizerBuild ? 3072 : 6144;
  const std::string kFc1 = "blocks.0.mlp.fc1";
  FileImage source;
  source.tensors.push_back(
      bf16_tensor(kQ + ".weight", {kSide, kSide}, sample_weights(kSide * kSide, 11)));
  source.tensors.push_back(
      bf16_tensor(kFc1 + ".weight", {kSide, 4096}, sample_weights(kSide * 4096, 12)));
  TensorBlob embedding{"embed.weight", qfp8::Dtype::BF16, {2 * kSide, 4096}, {}};
  embedding.data.resize(2 * kSide * 4096 * 2);
  for (std::size_t i = 0; i < embedding.data.size(); ++i) {
    embedding.data[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  }
  source.tensors.push_back(std::move(embedding));
  const std::string source_path =
      write_image(temp_path("verify_slabs.src.safetensors"), source);
  const std::string output_path = write_image(
      temp_path("verify_slabs.safetensors"),
      quantize_image_as(source, {{kQ, qfp8::QuantFormat::Float8E4m3fn},
                                 {kFc1, qfp8::QuantFormat::Mxfp8}}));
  source = FileImage{};
  const ChildResult run = run_verify({output_path, "--against", source_path, "--threads", "2"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("1 kept tensor(s) byte-identical to the source") != std::string::npos);
  if (!kSanitizerBuild) {  // ASan's shadow memory and quarantine inflate the peak
    CHECK(run.max_rss_kib < 80 * 1024);
  }
  remove_path(source_path);
  remove_path(output_path);
}

TEST_CASE("verify binary checks every file given and never passes a missing one", "[verify]") {
  const std::string good = good_file("many");
  const std::string missing = temp_path("verify_cli_many_missing.safetensors");
  FileImage broken = quantize_image(small_source_model(), small_model_layers());
  broken.erase(kQ + ".weight_scale");
  const std::string bad = write_image(temp_path("verify_cli_many_bad.safetensors"), broken);

  const ChildResult two_good = run_verify({good, good});
  INFO(two_good.out << two_good.err);
  CHECK(two_good.exit_code == 0);
  CHECK(two_good.out.find("== " + good + " ==\n[OK] ") == 0);
  CHECK(std::count(two_good.out.begin(), two_good.out.end(), '=') == 8);  // two header lines
  CHECK(two_good.out.find("2 files: 2 passed, 0 failed, 0 not readable\n") != std::string::npos);

  const ChildResult with_bad = run_verify({good, bad});
  INFO(with_bad.out << with_bad.err);
  CHECK(with_bad.exit_code == 2);
  CHECK(with_bad.out.find("== " + bad + " ==\n") != std::string::npos);
  CHECK(with_bad.out.find("[ERR] MissingWeightScale '" + kQ + "': ") != std::string::npos);
  CHECK(with_bad.out.find("2 files: 1 passed, 1 failed, 0 not readable\n") != std::string::npos);

  // The file that cannot be opened is reported, the next one still checked; I/O wins (3).
  const ChildResult with_missing = run_verify({good, missing, bad});
  INFO(with_missing.out << with_missing.err);
  CHECK(with_missing.exit_code == 3);
  CHECK(with_missing.out.find("== " + missing + " ==\n[FAIL] not verified: ") != std::string::npos);
  CHECK(with_missing.out.find("3 files: 1 passed, 1 failed, 1 not readable\n") != std::string::npos);
  CHECK(run_verify({missing, good}).exit_code == 3);

  const ChildResult json = run_verify({good, missing, "--json"});
  INFO(json.out << json.err);
  CHECK(json.exit_code == 3);
  const auto reports = nlohmann::json::parse(json.out);
  REQUIRE(reports.is_array());
  REQUIRE(reports.size() == 2);
  CHECK(reports[0]["file"] == good);
  CHECK(reports[0]["passed"] == true);
  CHECK(reports[1]["file"] == missing);
  CHECK(reports[1]["passed"] == false);
  CHECK(reports[1]["error"]["id"] == "OpenFailed");
}

TEST_CASE("verify binary: --against and --report take one file", "[verify]") {
  const std::string good = good_file("one_only");
  const ChildResult against = run_verify({good, good, "--against", source_file("one_only")});
  CHECK(against.exit_code == 1);
  CHECK(against.err.find("--against takes one FILE, got 2") != std::string::npos);
  CHECK(against.out.empty());
  const ChildResult report = run_verify({good, good, "--against", source_file("one_only"),
                                         "--report", temp_path("verify_cli_one_only.csv")});
  CHECK(report.exit_code == 1);
  CHECK_FALSE(path_exists(temp_path("verify_cli_one_only.csv")));
}

TEST_CASE("every subcommand refuses an extra argument with exit 1", "[cli]") {
  const std::string dir = scratch_dir("cli_extra_arguments");
  const std::string out = dir + "/synth.safetensors";
  const std::string fp8 = good_file("extra");
  remove_path(out);
  const std::vector<std::vector<std::string>> commands = {
      {"synth", "--model", "qwen-image", "--blocks", "1", "--width-div", "32", out, "EXTRA"},
      {"inspect", fp8, "EXTRA"},
      {"dequantize", fp8, dir + "/bf16.safetensors", "EXTRA"},
      {"selftest", "--device", "cpu", "--quick", "EXTRA"},
      {"convert", fp8, dir + "/twice.safetensors", "EXTRA"},
  };
  for (auto command : commands) {
    command.insert(command.begin(), QFP8_BINARY);
    const ChildResult run = run_child(command, dir);
    INFO(command[1] << ": " << run.out << run.err);
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("unexpected argument 'EXTRA'") != std::string::npos);
  }
  CHECK_FALSE(path_exists(out));
  CHECK_FALSE(path_exists(dir + "/bf16.safetensors"));
}

namespace {

/// A conversion of `layers` small layers: its --report is about 230 bytes per layer (JSON),
/// its text report on stdout under 2 KiB whatever the count (10 worst layers shown).
std::pair<std::string, std::string> many_layer_pair(const std::string& name, int layers) {
  FileImage source;
  std::vector<std::string> names;
  for (int i = 0; i < layers; ++i) {
    names.push_back("blocks." + std::to_string(i) + ".proj");
    source.tensors.push_back(
        bf16_tensor(names.back() + ".weight", {4, 8}, sample_weights(32, static_cast<uint32_t>(i))));
  }
  return {write_image(temp_path("verify_cli_" + name + ".safetensors"), quantize_image(source, names)),
          write_image(temp_path("verify_cli_" + name + ".src.safetensors"), source)};
}

}  // namespace

TEST_CASE("verify --report on a full disk: exit 3 with no verdict and the old report kept", "[verify]") {
  const auto [output, source] = many_layer_pair("full_disk", 64);
  const std::string dir = scratch_dir("verify_cli_full_disk");
  const std::string report = dir + "/quality.json";
  write_file(report, Bytes{'o', 'l', 'd'});
  // A file size limit of 8 blocks (4 KiB under dash, 8 KiB under bash) against a ~15 KB
  // report: write() fails with EFBIG (the binary ignores SIGXFSZ), as on a full disk. The
  // captured stdout and stderr are files too, and far smaller than the limit.
  const ChildResult full = run_child({"/bin/sh", "-c", "ulimit -f 8; exec \"$0\" \"$@\"",
                                      QFP8_BINARY, "verify", output, "--against", source,
                                      "--report", report},
                                     dir);
  INFO(full.out << full.err);
  CHECK(full.signal == 0);
  CHECK(full.exit_code == 3);
  CHECK(full.out.find("[PASS]") == std::string::npos);
  CHECK(full.out.empty());
  CHECK(read_file(report) == Bytes{'o', 'l', 'd'});  // the old report, untouched
  std::size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    INFO(entry.path().string());
    const bool temporary = entry.path().filename().string().rfind("quality.json", 0) == 0 &&
                           entry.path().string() != report;
    CHECK_FALSE(temporary);  // no temporary left behind
    ++entries;
  }
  CHECK(entries == 1);

  // Room enough: the existing report is replaced by the full one.
  const ChildResult room = run_verify({output, "--against", source, "--report", report});
  INFO(room.out << room.err);
  CHECK(room.exit_code == 0);
  CHECK(room.out.find("[PASS] 64 layers verified") != std::string::npos);
  const Bytes written = read_file(report);
  CHECK(written.size() > 8192);
  CHECK(nlohmann::json::parse(written.begin(), written.end())["layers"].size() == 64);
}
