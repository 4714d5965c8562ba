// test_faults_kill.cpp — the real binary disturbed mid-write: SIGKILL (no cleanup possible:
// the final name must not exist, a stale `.partial` may, and the next run must replace it),
// SIGTERM and SIGINT (no `.partial`, no output), a pre-existing output under --force (left
// intact by every kind of kill), and the input truncated under the running converter (exit
// 2 or 3, no output). The input is a 692 MB `synth` model that takes 0.4 s (idle machine)
// to 3 s (loaded) to convert on one thread; the signals land 20 ms after the `.partial`
// appears, mid-write. Should a conversion still finish first, the case is skipped with a
// warning rather than failed: a race the test lost proves nothing either way.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "test_limits_child.hpp"

using namespace qfp8::test;

namespace {

constexpr unsigned kChildTimeoutS = 300;
constexpr useconds_t kMidWriteDelayUs = 20'000;
const Bytes kPreviousOutput = {'p', 'r', 'e', 'v', 'i', 'o', 'u', 's'};

// The shared input, synthesized once. CTest may run these tests in parallel processes:
// each synthesizes under its own name and renames, so none ever sees another's partial
// file (the content is the same, synth being deterministic).
std::string big_input() {
  const std::string path = scratch_dir("faults_input") + "/qwen_b16_w4.safetensors";
  if (!path_exists(path)) {
    const std::string mine = path + "." + std::to_string(::getpid());
    const auto result = run_bounded({QFP8_BINARY, "synth", "--model", "qwen-image", "--blocks", "16",
                                     "--width-div", "4", "--force", "-q", mine},
                                    scratch_dir("faults_input"), kChildTimeoutS);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    REQUIRE(std::rename(mine.c_str(), path.c_str()) == 0);
  }
  return path;
}

std::vector<std::string> convert_args(const std::string& input, const std::string& output,
                                      bool force) {
  std::vector<std::string> args = {QFP8_BINARY, "convert", "-i", input, "-o", output,
                                   "--device", "cpu", "--threads", "1", "-q"};
  if (force) args.push_back("--force");
  return args;
}

// Starts a conversion, waits for its `.partial`, lets it write for 20 ms, then sends
// `signal_number`. False when the conversion ended before the signal could land; when it
// landed, the process must have died of that signal (SIGTERM/SIGINT are re-raised after
// the cleanup so the shell sees the usual status).
bool convert_and_signal(const std::string& input, const std::string& output, bool force,
                        int signal_number, const std::string& dir, BoundedResult& result) {
  RunningChild child(convert_args(input, output, force), dir, kChildTimeoutS);
  REQUIRE(wait_for_path(output + ".partial", 60'000));
  ::usleep(kMidWriteDelayUs);
  const bool in_time = child.running();
  child.signal(signal_number);
  result = child.wait();
  if (!in_time || result.exit_code == 0) return false;
  INFO(result.err);
  CHECK(result.signal == signal_number);
  return true;
}

}  // namespace

TEST_CASE("faults: SIGKILL mid-write leaves no output and the next run replaces the .partial",
          "[fault][slow]") {
  const std::string input = big_input();
  const std::string dir = scratch_dir("faults_sigkill");
  const std::string output = dir + "/out.safetensors";
  remove_path(output);
  remove_path(output + ".partial");
  BoundedResult killed;
  if (!convert_and_signal(input, output, false, SIGKILL, dir, killed)) {
    WARN("conversion finished before SIGKILL; nothing to check");
    return;
  }
  CHECK_FALSE(path_exists(output));
  CHECK(path_exists(output + ".partial"));  // nobody could clean up: expected for SIGKILL

  const auto rerun = run_bounded(convert_args(input, output, false), dir, kChildTimeoutS);
  INFO(rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK_FALSE(path_exists(output + ".partial"));
  // The result equals an undisturbed conversion into a fresh directory.
  const std::string clean = scratch_dir("faults_sigkill_clean") + "/out.safetensors";
  remove_path(clean);
  REQUIRE(run_bounded(convert_args(input, clean, false), dir, kChildTimeoutS).exit_code == 0);
  CHECK((read_file(output) == read_file(clean)));  // as a bool: never print the bytes
  remove_path(clean);
  remove_path(output);
}

TEST_CASE("faults: a kill of any kind under --force keeps the previous output intact",
          "[fault][slow]") {
  const std::string input = big_input();
  const std::string dir = scratch_dir("faults_force");
  const std::string output = dir + "/out.safetensors";
  for (const int signal_number : {SIGKILL, SIGTERM, SIGINT}) {
    INFO("signal " << signal_number);
    write_file(output, kPreviousOutput);
    remove_path(output + ".partial");
    BoundedResult killed;
    if (!convert_and_signal(input, output, true, signal_number, dir, killed)) {
      WARN("conversion finished before signal " << signal_number << "; nothing to check");
      continue;
    }
    CHECK((read_file(output) == kPreviousOutput));  // as a bool: never print the bytes
    // SIGTERM and SIGINT are caught: the handler unlinks the temporary file, then dies of
    // the same signal (the exit status a shell expects).
    if (signal_number != SIGKILL) CHECK_FALSE(path_exists(output + ".partial"));
  }
  remove_path(output);
  remove_path(output + ".partial");
}

TEST_CASE("faults: SIGTERM and SIGINT mid-write leave neither output nor .partial",
          "[fault][slow]") {
  const std::string input = big_input();
  const std::string dir = scratch_dir("faults_term");
  const std::string output = dir + "/out.safetensors";
  for (const int signal_number : {SIGTERM, SIGINT}) {
    INFO("signal " << signal_number);
    remove_path(output);
    BoundedResult killed;
    if (!convert_and_signal(input, output, false, signal_number, dir, killed)) {
      WARN("conversion finished before signal " << signal_number << "; nothing to check");
      continue;
    }
    CHECK_FALSE(path_exists(output));
    CHECK_FALSE(path_exists(output + ".partial"));
  }
}

TEST_CASE("faults: the input truncated under the running converter is exit 2, no output",
          "[fault][slow]") {
  const std::string dir = scratch_dir("faults_truncate");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  const std::string source = big_input();
  const auto copy_source = [&] {
    std::ifstream in(source, std::ios::binary);
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
    REQUIRE(out.good());
    return static_cast<off_t>(out.tellp());
  };
  for (const bool force : {false, true}) {
    INFO("force " << force);
    const off_t input_size = copy_source();
    remove_path(output);
    if (force) write_file(output, kPreviousOutput);
    RunningChild child(convert_args(input, output, force), dir, kChildTimeoutS);
    REQUIRE(wait_for_path(output + ".partial", 60'000));
    ::usleep(kMidWriteDelayUs);
    const bool in_time = child.running();
    // Keep the header and a tenth of the data: validated offsets now point past the end.
    REQUIRE(::truncate(input.c_str(), input_size / 10) == 0);
    const auto result = child.wait();
    if (!in_time || result.exit_code == 0) {
      WARN("conversion finished before the truncation (running " << in_time << ", exit "
           << result.exit_code << "); nothing to check");
      continue;
    }
    INFO(result.err);
    CHECK(result.signal == 0);  // SIGBUS is caught: a message and exit 2, not a crash
    CHECK((result.exit_code == 2 || result.exit_code == 3));
    CHECK_FALSE(path_exists(output + ".partial"));
    if (force) {
      CHECK((read_file(output) == kPreviousOutput));  // as a bool: never print the bytes
    } else {
      CHECK_FALSE(path_exists(output));
    }
  }
  remove_path(input);
  remove_path(output);
}
