// test_synth_cli.cpp — `qfp8-cuda synth` end to end: the file it writes opens with the
// validating reader, refuses to overwrite without --force, and bad options are usage errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "safetensors/reader.hpp"
#include "support/process_scratch.hpp"

namespace {

std::string scratch(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(qfp8::test::process_scratch_root()) / "synth_cli";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::filesystem::remove(path);
  return path.string();
}

qfp8::ErrorCode code_of(const qfp8::cli::Args& args) {
  try {
    qfp8::cli::run_synth(args);
  } catch (const qfp8::Error& error) {
    return error.code();
  }
  FAIL("expected an error");
  return qfp8::ErrorCode::Usage;
}

}  // namespace

TEST_CASE("synth CLI writes a valid safetensors file", "[synth]") {
  const std::string out = scratch("small.safetensors");
  const qfp8::cli::Args args{"qfp8-cuda synth", "--model", "qwen-image", "--blocks", "2", "--width-div", "16",
                             "--seed", "4", "--prefix", "-q", out};
  REQUIRE(qfp8::cli::run_synth(args) == 0);
  {
    // Closed before --force replaces it: Windows cannot replace a file that is mapped.
    const qfp8::SafetensorsFile file(out);
    // 2 blocks: 6 + 14 * 2 Linears with weight and bias, 1 + 4 * 2 norms.
    CHECK(file.header().tensors.size() == 2 * (6 + 28) + 9);
    const auto* norm = file.find("model.diffusion_model.transformer_blocks.1.attn.norm_added_k.weight");
    REQUIRE(norm != nullptr);
    CHECK(norm->shape == std::vector<uint64_t>{8});
    CHECK(file.header().metadata.at("format") == "pt");
  }
  CHECK_FALSE(std::filesystem::exists(out + ".partial"));

  // An existing OUT is kept unless --force.
  CHECK(code_of(args) == qfp8::ErrorCode::OutputExists);
  qfp8::cli::Args forced = args;
  forced.push_back("--force");
  CHECK(qfp8::cli::run_synth(forced) == 0);
}

TEST_CASE("synth CLI rejects bad options as usage errors", "[synth]") {
  const std::string out = scratch("bad.safetensors");
  CHECK(code_of({"qfp8-cuda synth", "--model", "flux", out}) == qfp8::ErrorCode::Usage);
  CHECK(code_of({"qfp8-cuda synth", out}) == qfp8::ErrorCode::Usage);
  CHECK(code_of({"qfp8-cuda synth", "--model", "qwen-image", "--width-div", "3", out}) == qfp8::ErrorCode::Usage);
  CHECK(code_of({"qfp8-cuda synth", "--model", "qwen-image", "--blocks", "0", out}) == qfp8::ErrorCode::Usage);
  CHECK(code_of({"qfp8-cuda synth", "--model", "qwen-image"}) == qfp8::ErrorCode::Usage);
  CHECK_FALSE(std::filesystem::exists(out));
}
