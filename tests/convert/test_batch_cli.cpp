// test_batch_cli.cpp — `convert IN1 IN2 ... --output-dir DIR` ([batch]): every input is
// converted with one backend, a corrupt input is reported and the others still convert,
// the table lists every input and the exit code is the failure's. Plus output naming.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "convert/batch.hpp"
#include "core/error.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

namespace fs = std::filesystem;

ChildResult run_binary(std::vector<std::string> args) {
  args.insert(args.begin(), QFP8_BINARY);
  return run_child(args, scratch_dir("batch"));
}

/// A fresh directory for one test.
std::string fresh_dir(const std::string& name) {
  const std::string dir = scratch_dir("batch") + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("batch output names", "[batch]") {
  CHECK(batch_output_name("/m/qwen_image_bf16.safetensors") == "qwen_image_bf16-fp8-e4m3fn.safetensors");
  CHECK(batch_output_name("model.bin") == "model-fp8-e4m3fn.safetensors");
  const std::string dir = fresh_dir("transformer");
  CHECK(batch_output_name(dir) == "transformer-fp8-e4m3fn.safetensors");
  CHECK(batch_output_name(dir + "/") == "transformer-fp8-e4m3fn.safetensors");
  CHECK(batch_output_name("/m/transformer/diffusion_pytorch_model.safetensors.index.json") ==
        "transformer-fp8-e4m3fn.safetensors");
  const auto items = plan_batch({"a/x.safetensors", "b/y.safetensors"}, "out");
  REQUIRE(items.size() == 2);
  CHECK(items[1].output == "out/y-fp8-e4m3fn.safetensors");
  CHECK_THROWS_WITH(plan_batch({"a/x.safetensors", "b/x.safetensors"}, "out"),
                    Catch::Contains("both would write 'out/x-fp8-e4m3fn.safetensors'"));
}

TEST_CASE("batch exit code is the highest failure's", "[batch]") {
  std::vector<BatchResult> results(3);
  results[0].ok = true;
  results[1].exit_code = kExitInvalid;
  results[2].exit_code = kExitIo;
  CHECK(batch_exit_code(results) == kExitIo);
  results[2].ok = true;
  CHECK(batch_exit_code(results) == kExitInvalid);
  results[1].ok = true;
  CHECK(batch_exit_code(results) == kExitOk);
}

TEST_CASE("a batch with one corrupt input converts the others", "[batch]") {
  const std::string in_dir = fresh_dir("inputs");
  const std::string out_dir = scratch_dir("batch") + "/outputs";
  fs::remove_all(out_dir);  // created by the batch
  SyntheticModelOptions model;
  model.blocks = 1;
  const std::string first = in_dir + "/first.safetensors";
  const std::string corrupt = in_dir + "/corrupt.safetensors";
  const std::string third = in_dir + "/third.safetensors";
  write_synthetic_model(first, model);
  model.seed = 7;
  write_synthetic_model(third, model);
  // A header length far past the end of the file: invalid input (exit 2).
  write_file(corrupt, Bytes{0xFF, 0xFF, 0x00, 0x00, 0, 0, 0, 0, '{', '}'});

  {
    std::ofstream list(in_dir + "/list.txt");
    list << "# the third model\n\n  " << third << "  \n";
  }
  const ChildResult run = run_binary({"convert", first, corrupt, "--output-dir", out_dir,
                                      "--input-list", in_dir + "/list.txt", "--device", "cpu", "-q"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == kExitInvalid);
  CHECK(path_exists(out_dir + "/first-fp8-e4m3fn.safetensors"));
  CHECK(path_exists(out_dir + "/third-fp8-e4m3fn.safetensors"));
  CHECK_FALSE(path_exists(out_dir + "/corrupt-fp8-e4m3fn.safetensors"));
  CHECK_FALSE(path_exists(out_dir + "/corrupt-fp8-e4m3fn.safetensors.partial"));
  // The table lists all three, in order, with their results.
  CHECK(row_of(run.out, first).find(" ok ") != std::string::npos);
  CHECK(row_of(run.out, third).find(" ok ") != std::string::npos);
  const std::string bad_row = row_of(run.out, corrupt);
  CHECK(bad_row.find(" error ") != std::string::npos);
  CHECK(bad_row.find("corrupt.safetensors") != std::string::npos);
  CHECK(run.out.find(first) < run.out.find(corrupt));
  CHECK(run.out.find(corrupt) < run.out.find(third));
  CHECK(run.out.find("2 of 3 converted, 1 failed") != std::string::npos);

  SECTION("the outputs are those of single conversions") {
    const std::string single = scratch_dir("batch") + "/single-first.safetensors";
    remove_path(single);
    const ChildResult one = run_binary({"convert", first, single, "--device", "cpu", "-q"});
    REQUIRE(one.exit_code == 0);
    CHECK(read_file(single) == read_file(out_dir + "/first-fp8-e4m3fn.safetensors"));
  }
  SECTION("existing outputs fail without --force, and are replaced with it") {
    const ChildResult again = run_binary({"convert", first, third, "--output-dir", out_dir,
                                          "--device", "cpu", "-q"});
    CHECK(again.exit_code == kExitIo);
    CHECK(again.out.find("0 of 2 converted, 2 failed") != std::string::npos);
    const ChildResult forced = run_binary({"convert", first, third, "--output-dir", out_dir,
                                           "--device", "cpu", "-q", "--force"});
    CHECK(forced.exit_code == 0);
    CHECK(forced.out.find("2 of 2 converted, 0 failed") != std::string::npos);
  }
}

TEST_CASE("convert's command line: single, positional and batch forms", "[batch]") {
  const std::string dir = fresh_dir("forms");
  SyntheticModelOptions model;
  model.blocks = 1;
  const std::string in = dir + "/m.safetensors";
  write_synthetic_model(in, model);
  CHECK(run_binary({"convert", in, dir + "/a.safetensors", "--device", "cpu", "-q"}).exit_code == 0);
  CHECK(run_binary({"convert", "-i", in, "-o", dir + "/b.safetensors", "--device", "cpu", "-q"}).exit_code == 0);
  CHECK(read_file(dir + "/a.safetensors") == read_file(dir + "/b.safetensors"));
  const ChildResult three = run_binary({"convert", in, dir + "/c.safetensors", dir + "/d.safetensors"});
  CHECK(three.exit_code == kExitUsage);
  CHECK(three.err.find("--output-dir") != std::string::npos);
  const ChildResult mixed = run_binary({"convert", in, "-o", dir + "/e.safetensors", "--output-dir", dir});
  CHECK(mixed.exit_code == kExitUsage);
  const ChildResult list_only = run_binary({"convert", "--input-list", dir + "/none.txt", "-o", dir + "/f"});
  CHECK(list_only.exit_code == kExitUsage);
}

TEST_CASE("a directory input in a batch is named after the directory", "[batch]") {
  const std::string dir = fresh_dir("dir-input");
  const std::string model_dir = dir + "/transformer";
  fs::create_directories(model_dir);
  SyntheticModelOptions model;
  model.blocks = 1;
  write_synthetic_model(model_dir + "/diffusion_pytorch_model.safetensors", model);
  const std::string out_dir = dir + "/out";
  const ChildResult run = run_binary({"convert", model_dir + "/", "--output-dir", out_dir,
                                      "--device", "cpu", "-q"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  const std::string single = dir + "/single.safetensors";
  REQUIRE(run_binary({"convert", model_dir + "/diffusion_pytorch_model.safetensors", single,
                      "--device", "cpu", "-q"}).exit_code == 0);
  CHECK(read_file(out_dir + "/transformer-fp8-e4m3fn.safetensors") == read_file(single));
}

TEST_CASE("batch output names say the format", "[batch][formats]") {
  CHECK(batch_format_tag(QuantFormat::Float8E4m3fn, false) == "fp8-e4m3fn");
  CHECK(batch_format_tag(QuantFormat::Float8E5m2, false) == "fp8-e5m2");
  CHECK(batch_format_tag(QuantFormat::Mxfp8, false) == "mxfp8");
  CHECK(batch_format_tag(QuantFormat::Nvfp4, true) == "nvfp4-mixed");
  CHECK(batch_output_name("/m/a.safetensors", "nvfp4") == "a-nvfp4.safetensors");
  const auto items = plan_batch({"a/x.safetensors"}, "out", "mxfp8");
  CHECK(items[0].output == "out/x-mxfp8.safetensors");
}
