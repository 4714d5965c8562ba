// test_determinism.cpp — the output is a function of the input and the options only:
// converting the same input twice, or with 1, 2, 8 or all-cores threads, or with --verify,
// gives byte-identical files (hence identical SHA-256). `synth` with one seed is
// deterministic too, since every benchmark and fault test starts from it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

using namespace qfp8::test;

namespace {

Bytes convert_with(const std::string& input, const std::string& dir, const std::string& tag,
                   std::vector<std::string> extra) {
  const std::string output = dir + "/out_" + tag + ".safetensors";
  remove_path(output);
  std::vector<std::string> args = {QFP8_BINARY, "convert", "-i", input, "-o", output,
                                   "--device", "cpu", "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto result = run_bounded(args, dir, 300);
  INFO(tag << ": " << result.err);
  REQUIRE(result.exit_code == 0);
  Bytes bytes = read_file(output);
  remove_path(output);
  return bytes;
}

}  // namespace

TEST_CASE("determinism: synth with one seed writes identical files", "[determinism]") {
  const std::string dir = scratch_dir("determinism_synth");
  std::vector<Bytes> files;
  for (const char* name : {"a", "b"}) {
    const std::string path = dir + "/" + name + ".safetensors";
    const auto result = run_bounded({QFP8_BINARY, "synth", "--model", "qwen-image", "--blocks", "2",
                                     "--width-div", "16", "--seed", "7", "--force", "-q", path},
                                    dir, 120);
    REQUIRE(result.exit_code == 0);
    files.push_back(read_file(path));
  }
  CHECK((files[0] == files[1]));  // as a bool: never print the bytes
}

TEST_CASE("determinism: convert output does not depend on the run or the thread count",
          "[determinism][slow]") {
  const std::string dir = scratch_dir("determinism_convert");
  const std::string input = dir + "/in.safetensors";
  // 8 blocks at width / 8: 87 MB, 269 tensors, enough work per thread to interleave.
  const auto synth = run_bounded({QFP8_BINARY, "synth", "--model", "qwen-image", "--blocks", "8",
                                  "--width-div", "8", "--force", "-q", input},
                                 dir, 300);
  REQUIRE(synth.exit_code == 0);
  const Bytes reference = convert_with(input, dir, "t1_first", {"--threads", "1"});
  REQUIRE(reference.size() > 1'000'000);
  CHECK((convert_with(input, dir, "t1_again", {"--threads", "1"}) == reference));  // as a bool: never print the bytes
  CHECK((convert_with(input, dir, "t2", {"--threads", "2"}) == reference));  // as a bool: never print the bytes
  CHECK((convert_with(input, dir, "t8", {"--threads", "8"}) == reference));  // as a bool: never print the bytes
  CHECK((convert_with(input, dir, "t0", {"--threads", "0"}) == reference));  // as a bool: never print the bytes
  CHECK((convert_with(input, dir, "t8_again", {"--threads", "8"}) == reference));  // as a bool: never print the bytes
  CHECK((convert_with(input, dir, "verify", {"--threads", "2", "--verify"}) == reference));  // as a bool: never print the bytes
  remove_path(input);
}
