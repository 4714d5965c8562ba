// test_faults_kill.cpp — the real binary disturbed mid-write: SIGKILL (no cleanup possible:
// the final name must not exist, the unnamed output vanishes with the process, a stale lock
// file may stay, and the next run must succeed and remove it), SIGTERM and SIGINT (nothing
// left), a pre-existing output under --force (left intact by every kind of kill), and the
// input truncated under the running converter (exit 2 or 3, no output). The input is a
// 692 MB `synth` model. Each conversion is held mid-write by a stderr pipe the test stops
// reading (StalledChild, with -v: a line per tensor), so the disturbance always lands
// while the output is open and unfinished; a converter that ignores it fails the test.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"

using namespace qfp8::test;

namespace {

constexpr unsigned kChildTimeoutS = 300;
constexpr int kWaitMs = 60'000;  // a loaded machine; a pass takes well under a second
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
                                      bool force, bool verbose = false) {
  std::vector<std::string> args = {QFP8_BINARY, "convert", "-i", input, "-o", output,
                                   "--device", "cpu", "--threads", "1", verbose ? "-v" : "-q"};
  if (force) args.push_back("--force");
  return args;
}

std::string directory_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Starts a conversion and holds it mid-write: it has its output open and blocks on its
// stderr pipe a few dozen tensors in, unable to finish.
void start_stalled(StalledChild& child, const std::string& output) {
  REQUIRE(child.read_until("\n", kWaitMs));
  REQUIRE(wait_for_open_output(child.pid(), directory_of(output), kWaitMs));
}

// Holds a conversion mid-write and sends `signal_number`: the process must die of that
// signal (SIGTERM/SIGINT are re-raised after the cleanup so the shell sees the usual
// status). A binary that ignores it stays blocked, and the REQUIRE fails.
void convert_and_signal(const std::string& input, const std::string& output, bool force,
                        int signal_number) {
  StalledChild child(convert_args(input, output, force, true), kChildTimeoutS);
  start_stalled(child, output);
  child.signal(signal_number);
  int status = 0;
  REQUIRE(child.wait_for(kWaitMs, status));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == signal_number);
}

// Whether the directory takes unnamed files (O_TMPFILE): then a killed run leaves no data
// file at all; elsewhere the named `.partial` stays until the next run.
bool takes_unnamed_files(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::string lock_of(const std::string& output) {
  const auto slash = output.rfind('/');
  return output.substr(0, slash + 1) + "." + output.substr(slash + 1) + ".lock";
}

}  // namespace

TEST_CASE("faults: SIGKILL mid-write leaves no output and the next run cleans up",
          "[fault][slow]") {
  const std::string input = big_input();
  const std::string dir = scratch_dir("faults_sigkill");
  const std::string output = dir + "/out.safetensors";
  remove_path(output);
  remove_path(output + ".partial");
  convert_and_signal(input, output, false, SIGKILL);
  CHECK_FALSE(path_exists(output));
  // Nothing could run on SIGKILL: an unnamed output vanished with the process; the lock
  // file (which the kernel unlocked) and, without O_TMPFILE, the `.partial` stay.
  if (takes_unnamed_files(dir)) CHECK_FALSE(path_exists(output + ".partial"));

  const auto rerun = run_bounded(convert_args(input, output, false), dir, kChildTimeoutS);
  INFO(rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK_FALSE(path_exists(output + ".partial"));
  CHECK_FALSE(path_exists(lock_of(output)));
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
    convert_and_signal(input, output, true, signal_number);
    CHECK((read_file(output) == kPreviousOutput));  // as a bool: never print the bytes
    // SIGTERM and SIGINT are caught: the handler unlinks the temporary and lock files, then
    // dies of the same signal (the exit status a shell expects).
    if (signal_number != SIGKILL) {
      CHECK_FALSE(path_exists(output + ".partial"));
      CHECK_FALSE(path_exists(lock_of(output)));
    }
  }
  remove_path(output);
  remove_path(output + ".partial");
  remove_path(lock_of(output));
}

TEST_CASE("faults: SIGTERM and SIGINT mid-write leave neither output nor .partial",
          "[fault][slow]") {
  const std::string input = big_input();
  const std::string dir = scratch_dir("faults_term");
  const std::string output = dir + "/out.safetensors";
  for (const int signal_number : {SIGTERM, SIGINT}) {
    INFO("signal " << signal_number);
    remove_path(output);
    convert_and_signal(input, output, false, signal_number);
    CHECK_FALSE(path_exists(output));
    CHECK_FALSE(path_exists(output + ".partial"));
    CHECK_FALSE(path_exists(lock_of(output)));
  }
}

TEST_CASE("faults: the input truncated under the running converter is exit 2, no output",
          "[fault][slow]") {
  const std::string dir = scratch_dir("faults_truncate");
  const std::string input = dir + "/in.safetensors";
  // Apart from the input: the test looks for the file the converter has open beside OUT.
  const std::string output = scratch_dir("faults_truncate_out") + "/out.safetensors";
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
    StalledChild child(convert_args(input, output, force, true), kChildTimeoutS);
    start_stalled(child, output);
    // Keep the header and a tenth of the data: validated offsets now point past the end.
    REQUIRE(::truncate(input.c_str(), input_size / 10) == 0);
    child.drain(kWaitMs);  // let it go on, into the missing data
    int status = 0;
    REQUIRE(child.wait_for(kWaitMs, status));
    BoundedResult result;
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    result.err = child.output();
    INFO(result.err);
    CHECK(result.signal == 0);  // SIGBUS is caught: a message and exit 2, not a crash
    CHECK((result.exit_code == 2 || result.exit_code == 3));
    CHECK_FALSE(path_exists(output + ".partial"));
    CHECK_FALSE(path_exists(lock_of(output)));
    if (force) {
      CHECK((read_file(output) == kPreviousOutput));  // as a bool: never print the bytes
    } else {
      CHECK_FALSE(path_exists(output));
    }
  }
  remove_path(input);
  remove_path(output);
}
