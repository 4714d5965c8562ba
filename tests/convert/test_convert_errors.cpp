// test_convert_errors.cpp — what a user sees when conversion cannot succeed: the exit
// code, the message, and that no output (nor `.partial`) is left behind.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/bounded_child.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8::test;

namespace {

ChildResult convert(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {QFP8_BINARY, "convert"});
  return run_child(args, dir);
}

void check_no_output(const std::string& path) {
  CHECK_FALSE(path_exists(path));
  CHECK_FALSE(path_exists(path + ".partial"));
  const auto slash = path.rfind('/');
  CHECK_FALSE(path_exists(path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".lock"));
}

}  // namespace

TEST_CASE("usage errors exit 1", "[convert]") {
  const std::string dir = scratch_dir("convert_errors_usage");
  CHECK(convert(dir, {}).exit_code == 1);
  CHECK(convert(dir, {"-i", dir + "/in.safetensors"}).exit_code == 1);
  const auto bad_regex = convert(dir, {"-i", dir + "/in", "-o", dir + "/out", "--include", "("});
  CHECK(bad_regex.exit_code == 1);
  CHECK(convert(dir, {"-i", "a", "-o", "b", "--preset", "flux"}).exit_code == 1);
  CHECK(convert(dir, {"-i", "a", "-o", "b", "--device", "tpu"}).exit_code == 1);
  CHECK(convert(dir, {"a", "b", "c"}).exit_code == 1);
  CHECK(convert(dir, {"-i", "a", "-o", "b", "--include"}).exit_code == 1);
  const auto help = convert(dir, {"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--dry-run") != std::string::npos);
}

TEST_CASE("malformed input exits 2 and writes nothing", "[convert]") {
  const std::string dir = scratch_dir("convert_errors_malformed");
  write_file(dir + "/short.safetensors", {0x01, 0x02, 0x03});
  remove_path(dir + "/out.safetensors");
  const auto result = convert(dir, {"-i", dir + "/short.safetensors", "-o", dir + "/out.safetensors"});
  CHECK(result.exit_code == 2);
  check_no_output(dir + "/out.safetensors");

  const auto missing = convert(dir, {"-i", dir + "/absent.safetensors", "-o", dir + "/out.safetensors"});
  CHECK(missing.exit_code == 3);
  check_no_output(dir + "/out.safetensors");
}

TEST_CASE("a NaN weight exits 2 naming the tensor, with no output", "[convert]") {
  const std::string dir = scratch_dir("convert_errors_nan");
  SyntheticModelOptions model;
  model.nan_tensor = "transformer_blocks.1.txt_mlp.net.2.weight";
  write_synthetic_model(dir + "/in.safetensors", model);
  remove_path(dir + "/out.safetensors");
  const auto result = convert(dir, {"-i", dir + "/in.safetensors", "-o", dir + "/out.safetensors"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("transformer_blocks.1.txt_mlp.net.2.weight") != std::string::npos);
  check_no_output(dir + "/out.safetensors");
}

TEST_CASE("already-quantized input exits 2", "[convert]") {
  const std::string dir = scratch_dir("convert_errors_twice");
  write_synthetic_model(dir + "/in.safetensors", {});
  remove_path(dir + "/once.safetensors");
  REQUIRE(convert(dir, {"-i", dir + "/in.safetensors", "-o", dir + "/once.safetensors"}).exit_code == 0);
  remove_path(dir + "/twice.safetensors");
  const auto result = convert(dir, {"-i", dir + "/once.safetensors", "-o", dir + "/twice.safetensors"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("already quantized") != std::string::npos);
  check_no_output(dir + "/twice.safetensors");
}

TEST_CASE("a plan that quantizes nothing exits 2 with no output, also as a dry run",
          "[convert]") {
  const std::string dir = scratch_dir("convert_errors_nothing");
  write_synthetic_model(dir + "/in.safetensors", {});
  remove_path(dir + "/out.safetensors");
  const auto result = convert(dir, {"-i", dir + "/in.safetensors", "-o", dir + "/out.safetensors",
                                    "--exclude", "."});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("no tensor would be quantized") != std::string::npos);
  CHECK(result.err.find("in.safetensors") != std::string::npos);
  check_no_output(dir + "/out.safetensors");
  // The dry run still shows every decision, then says the same.
  const auto dry = convert(dir, {"-i", dir + "/in.safetensors", "--exclude", ".", "--dry-run"});
  CHECK(dry.exit_code == 2);
  CHECK(dry.out.find("0 quantized") != std::string::npos);
  CHECK(dry.err.find("no tensor would be quantized") != std::string::npos);
}

TEST_CASE("output problems exit 3 and leave existing files alone", "[convert]") {
  const std::string dir = scratch_dir("convert_errors_output");
  write_synthetic_model(dir + "/in.safetensors", {});

  const auto no_dir = convert(dir, {"-i", dir + "/in.safetensors", "-o", dir + "/missing/out.safetensors"});
  CHECK(no_dir.exit_code == 3);
  check_no_output(dir + "/missing/out.safetensors");

  const Bytes existing = {'k', 'e', 'e', 'p'};
  write_file(dir + "/exists.safetensors", existing);
  const auto exists = convert(dir, {"-i", dir + "/in.safetensors", "-o", dir + "/exists.safetensors"});
  CHECK(exists.exit_code == 3);
  CHECK(read_file(dir + "/exists.safetensors") == existing);
  CHECK_FALSE(path_exists(dir + "/exists.safetensors.partial"));

  const auto forced =
      convert(dir, {"-i", dir + "/in.safetensors", "-o", dir + "/exists.safetensors", "--force"});
  CHECK(forced.exit_code == 0);
  CHECK(read_file(dir + "/exists.safetensors").size() > 4096);

  const auto onto_input =
      convert(dir, {"-i", dir + "/in.safetensors", "-o", dir + "/in.safetensors", "--force"});
  CHECK(onto_input.exit_code == 1);
}

TEST_CASE("a full disk (file size limit) exits 3 with no output", "[convert]") {
  const std::string dir = scratch_dir("convert_errors_full");
  write_synthetic_model(dir + "/in.safetensors", {});
  const std::string out = dir + "/out.safetensors";
  remove_path(out);
  // RLIMIT_FSIZE of 64 blocks (32-64 KiB depending on the shell) against a ~300 kB output:
  // write() fails with EFBIG once SIGXFSZ is ignored.
  const auto result = run_child({"/bin/sh", "-c", "ulimit -f 64; exec \"$0\" \"$@\"", QFP8_BINARY,
                                 "convert", "-i", dir + "/in.safetensors", "-o", out},
                                dir);
  INFO(result.err);
  CHECK(result.signal == 0);
  CHECK(result.exit_code == 3);
  check_no_output(out);
}

TEST_CASE("an interrupted conversion leaves no output and no .partial", "[convert]") {
  const std::string dir = scratch_dir("convert_errors_interrupt");
  SyntheticModelOptions model;
  model.blocks = 8;  // 269 tensors: ~25 KB of `-v` lines against a 4 KiB stderr pipe
  write_synthetic_model(dir + "/in.safetensors", model);
  const std::string out_dir = scratch_dir("convert_errors_interrupt_out");
  const std::string out = out_dir + "/out.safetensors";
  remove_path(out);
  // The converter logs a line per tensor into a pipe the test stops reading: it blocks
  // mid-conversion with its output open, so the interrupt cannot come too late.
  StalledChild child({QFP8_BINARY, "convert", "-i", dir + "/in.safetensors", "-o", out,
                      "--device", "cpu", "--threads", "1", "-v"},
                     120);
  REQUIRE(child.read_until("\n", 20'000));
  REQUIRE(wait_for_open_output(child.pid(), out_dir, 20'000));
  child.signal(SIGINT);
  int status = 0;
  // A converter that ignored SIGINT would still be blocked on the pipe.
  REQUIRE(child.wait_for(20'000, status));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  check_no_output(out);
  CHECK(names_in_directory(out_dir).empty());
}
