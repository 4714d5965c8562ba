// test_terminal_text.cpp — names from a file never reach the terminal raw. A tensor named
// "a ESC[2J CR b LF [PASS] 99 layers verified" would clear the screen and forge a verdict
// line; every text output (log lines, --dry-run plan, verify report, batch table, inspect)
// shows it as printable() text, one line, while JSON outputs keep the exact name.
#include <catch2/catch.hpp>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/batch_table.hpp"
#include "convert/batch.hpp"
#include "core/text_format.hpp"
#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/fp8_file_builder.hpp"
#include "verify/verify_report.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

// The crafted name, and how it must read on a terminal (written out by hand).
const std::string kHostile = "a\x1b[2J\rb\n[PASS] 99 layers verified";
const std::string kShown = "a\\x1b[2J\\x0db\\x0a[PASS] 99 layers verified";
const std::string kWeight = kHostile + ".weight";
const std::string kWeightShown = kShown + ".weight";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

/// No ESC or CR anywhere, and LF only as the end of a line that starts as one of `prefixes`
/// does: a name split across lines would start a line with its own text.
void require_clean_lines(const std::string& text, const std::vector<std::string>& prefixes) {
  INFO(text);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
  for (const auto& line : lines_of(text)) {
    bool known = false;
    for (const auto& prefix : prefixes) known = known || starts_with(line, prefix);
    INFO("line: " << line);
    CHECK(known);
  }
}

const std::vector<std::string> kLogLevels = {"error: ", "warning: ", "info: ", "debug: "};

/// One quantizable BF16 [64, 64] weight with the crafted name (4096 elements, the smallest
/// the generic rules quantize), optionally holding a NaN.
FileImage hostile_source(bool with_nan) {
  std::vector<float> values = sample_weights(64 * 64, 7);
  if (with_nan) values[100] = std::numeric_limits<float>::quiet_NaN();
  FileImage image;
  image.tensors.push_back(bf16_tensor(kWeight, {64, 64}, values));
  return image;
}

/// The FP8 conversion of hostile_source() with its weight_scale removed: verify fails and
/// names the layer. The metadata is built with a JSON library (the name needs escaping).
FileImage hostile_fp8_missing_scale() {
  FileImage image = quantize_image(hostile_source(false), {kHostile});
  nlohmann::json metadata = {{"format_version", "1.0"},
                             {"layers", {{kHostile, {{"format", "float8_e4m3fn"}}}}}};
  image.metadata["_quantization_metadata"] = metadata.dump();
  image.erase(kHostile + ".weight_scale");
  return image;
}

}  // namespace

TEST_CASE("printable escapes terminal controls and keeps other text", "[text]") {
  CHECK(printable(kHostile) == kShown);
  CHECK(printable("blocks.0.attn.to_q.weight") == "blocks.0.attn.to_q.weight");
  CHECK(printable("tab\there") == "tab\\x09here");
  CHECK(printable(std::string("nul\0byte", 8)) == "nul\\x00byte");
  CHECK(printable("del\x7f") == "del\\x7f");
  const std::string utf8 = "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80";  // é, →, an emoji
  CHECK(printable(utf8) == utf8);
  // U+009B, the one-byte CSI of terminals that honour C1 controls.
  CHECK(printable("x\xc2\x9b" "2J") == "x\\xc2\\x9b2J");
  CHECK(printable("x\xc2\xa0y") == "x\xc2\xa0y");  // U+00A0 is printable
  // U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE reorder the line.
  CHECK(printable("a\xe2\x80\xae" "b") == "a\\xe2\\x80\\xaeb");
  CHECK(printable("a\xe2\x81\xa6" "b") == "a\\xe2\\x81\\xa6b");
  // Bytes that are not UTF-8: a lone C1 byte, a stray continuation, a truncated sequence.
  CHECK(printable("a\x9b" "b") == "a\\x9bb");
  CHECK(printable("a\x80") == "a\\x80");
  CHECK(printable("a\xe2\x80") == "a\\xe2\\x80");
  CHECK(printable("") == "");
}

TEST_CASE("convert: an error naming a crafted tensor stays one escaped line",
          "[text][convert]") {
  const std::string dir = scratch_dir("text_convert_error");
  const std::string input = write_image(dir + "/nan.safetensors", hostile_source(true));
  const std::string output = dir + "/out.safetensors";
  remove_path(output);
  const auto result =
      run_bounded({QFP8_BINARY, "convert", input, output, "--device", "cpu"}, dir, 60);
  REQUIRE(result.signal == 0);
  CHECK(result.exit_code == 2);
  require_clean_lines(result.err, kLogLevels);
  CHECK(result.err.find("tensor '" + kWeightShown + "': contains Inf or NaN") !=
        std::string::npos);
}

TEST_CASE("convert --log-format json: an error keeps the exact crafted name",
          "[text][convert]") {
  const std::string dir = scratch_dir("text_convert_json");
  const std::string input = write_image(dir + "/nan.safetensors", hostile_source(true));
  const std::string output = dir + "/out.safetensors";
  remove_path(output);
  const auto result = run_bounded(
      {QFP8_BINARY, "convert", input, output, "--device", "cpu", "--log-format", "json"}, dir,
      60);
  REQUIRE(result.signal == 0);
  CHECK(result.exit_code == 2);
  bool named = false;
  for (const auto& line : lines_of(result.err)) {
    INFO(line);
    const auto entry = nlohmann::json::parse(line);  // throws if a raw control got through
    named = named || entry.at("msg").get<std::string>().find("tensor '" + kWeight + "'") !=
                         std::string::npos;
  }
  CHECK(named);
}

TEST_CASE("convert --dry-run and -v: crafted tensor names are shown escaped", "[text][convert]") {
  const std::string dir = scratch_dir("text_convert_plan");
  const std::string input = write_image(dir + "/in.safetensors", hostile_source(false));
  const std::string output = dir + "/out.safetensors";
  remove_path(output);

  const auto plan = run_bounded(
      {QFP8_BINARY, "convert", input, output, "--device", "cpu", "--dry-run"}, dir, 60);
  REQUIRE(plan.signal == 0);
  REQUIRE(plan.exit_code == 0);
  require_clean_lines(plan.out, {"model: ", "quantize ", "keep     ", "1 tensors: ", "output: "});
  CHECK(plan.out.find("quantize " + kWeightShown + " [64, 64] BF16 -> F8_E4M3") !=
        std::string::npos);
  require_clean_lines(plan.err, kLogLevels);

  const auto verbose =
      run_bounded({QFP8_BINARY, "convert", input, output, "--device", "cpu", "-v"}, dir, 60);
  REQUIRE(verbose.signal == 0);
  REQUIRE(verbose.exit_code == 0);
  require_clean_lines(verbose.err, kLogLevels);
  CHECK(verbose.err.find("] " + kWeightShown + " [64, 64] BF16 -> F8_E4M3") != std::string::npos);

  // The quality table of verify --against names every layer.
  const auto against = run_bounded({QFP8_BINARY, "verify", output, "--against", input}, dir, 60);
  REQUIRE(against.signal == 0);
  CHECK(against.exit_code == 0);
  require_clean_lines(against.err, kLogLevels);
  const auto lines = lines_of(against.out);
  REQUIRE(!lines.empty());
  CHECK(starts_with(lines.back(), "[PASS] 1 layers verified"));
  CHECK(against.out.find("  " + kShown + "\n") != std::string::npos);
  CHECK(against.out.find("(" + kShown + ")") != std::string::npos);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(!starts_with(lines[i], "[PASS]"));
  }
  remove_path(output);
}

TEST_CASE("verify: a failing file cannot forge a [PASS] line through a name", "[text][verify]") {
  const std::string dir = scratch_dir("text_verify");
  const std::string file = write_image(dir + "/bad.safetensors", hostile_fp8_missing_scale());

  const auto text = run_bounded({QFP8_BINARY, "verify", file}, dir, 60);
  REQUIRE(text.signal == 0);
  CHECK(text.exit_code == 2);
  require_clean_lines(text.out, {"[OK] ", "[WARN] ", "[ERR] ", "[...] ", "[FAIL] "});
  CHECK(text.out.find("'" + kShown + "'") != std::string::npos);
  require_clean_lines(text.err, kLogLevels);

  // --json keeps the exact name for scripts.
  const auto json = run_bounded({QFP8_BINARY, "verify", file, "--json"}, dir, 60);
  REQUIRE(json.signal == 0);
  CHECK(json.exit_code == 2);
  const auto report = nlohmann::json::parse(json.out);
  bool named = false;
  for (const auto& finding : report.at("findings")) {
    named = named || finding.at("subject").get<std::string>() == kHostile;
  }
  CHECK(named);
}

TEST_CASE("verify text report: subjects, messages and layers are escaped", "[text][verify]") {
  verify::VerifyResult result;
  result.layers_verified = 1;
  result.findings.push_back(
      {verify::FindingId::MissingWeightScale, verify::Severity::Err, kHostile,
       "tensor '" + kWeight + "' lacks", {}});
  verify::LayerQuality quality;
  quality.layer = kHostile;
  quality.numel = 4;
  quality.snr_db = 30.0;
  result.quality.push_back(quality);
  const std::string text = verify::format_text_report(result);
  require_clean_lines(text, {"[ERR] ", "quality", "       SNR", "  30.00 dB", "[FAIL] "});
  CHECK(text.find("[ERR] MissingWeightScale '" + kShown + "': tensor '" + kWeightShown +
                  "' lacks\n") != std::string::npos);
  CHECK(text.find("  " + kShown + "\n") != std::string::npos);
  CHECK(text.find("min 30.00 dB (" + kShown + ")") != std::string::npos);
}

TEST_CASE("batch table: crafted paths and messages stay one row each", "[text][batch]") {
  BatchResult failed;
  failed.item = {"in" + kHostile, "out"};
  failed.exit_code = 2;
  failed.message = "tensor '" + kWeight + "': contains Inf or NaN";
  BatchResult converted;
  converted.item = {"ok.safetensors", "out/" + kHostile};
  converted.ok = true;
  std::ostringstream out;
  cli::print_batch_table(out, {failed, converted});
  require_clean_lines(out.str(), {"input", "in" + kShown, "ok.safetensors", "1 of 2 converted"});
  CHECK(out.str().find("tensor '" + kWeightShown + "': contains Inf or NaN\n") !=
        std::string::npos);
  CHECK(out.str().find("-> out/" + kShown + "\n") != std::string::npos);
}
