// test_output_safety.cpp — the real binary's output under disturbance: every ending signal
// mid-conversion leaves no file behind, a closed stderr pipe does not stop a conversion, a
// second writer of the same output is refused naming the first, --force never replaces a
// device, FIFO, socket or directory, a 250-byte output name works, and the data is fsynced
// before a name leads to it. The conversions are held mid-way on a full stderr pipe
// (StalledChild), so none of these depends on timing.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8::test;

namespace {

constexpr unsigned kChildTimeoutS = 120;
constexpr int kWaitMs = 20'000;  // generous on a loaded machine; a pass takes milliseconds

// 8 blocks, 306 tensors: ~30 KB of `-v` lines, far more than the 4 KiB pipe holds, so a
// conversion whose stderr is not read cannot finish. Kept in its own directory: the tests
// look for files the converter has open in the output's directory.
const std::string& small_input() {
  static const std::string path = [] {
    const std::string file = scratch_dir("output_safety_input") + "/in.safetensors";
    SyntheticModelOptions model;
    model.blocks = 8;
    write_synthetic_model(file, model);
    return file;
  }();
  return path;
}

std::vector<std::string> convert_args(const std::string& output, bool force) {
  std::vector<std::string> args = {QFP8_BINARY, "convert", "-i", small_input(), "-o", output,
                                   "--device", "cpu", "--threads", "1", "-v"};
  if (force) args.push_back("--force");
  return args;
}

// The bytes of an undisturbed conversion of the small input.
const Bytes& clean_output() {
  static const Bytes bytes = [] {
    const std::string dir = scratch_dir("output_safety_clean");
    const std::string out = dir + "/clean.safetensors";
    remove_path(out);
    auto args = convert_args(out, false);
    args.back() = "-q";
    const auto result = run_bounded(args, dir, kChildTimeoutS);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return read_file(out);
  }();
  return bytes;
}

std::string directory_of_path(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Starts a conversion into `output` and holds it mid-way: it has written its first log line
// and has its output file open, and it cannot finish while the test does not read on.
void start_stalled(StalledChild& child, const std::string& output) {
  REQUIRE(child.read_until("\n", kWaitMs));
  REQUIRE(wait_for_open_output(child.pid(), directory_of_path(output), kWaitMs));
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::vector<std::string> names(std::initializer_list<const char*> list) {
  return std::vector<std::string>(list.begin(), list.end());
}

}  // namespace

TEST_CASE("output: every ending signal mid-conversion leaves no file behind", "[output][signal]") {
  const std::string dir = scratch_dir("output_safety_signals");
  const std::string output = dir + "/out.safetensors";
  for (const int number : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU,
                           SIGVTALRM, SIGPROF}) {
    INFO("signal " << number << " (" << strsignal(number) << ")");
    REQUIRE(names_in_directory(dir).empty());
    StalledChild child(convert_args(output, false), kChildTimeoutS);
    start_stalled(child, output);
    child.signal(number);
    int status = 0;
    // A binary that ignores the signal stays blocked on the pipe: that is a failure here.
    const bool ended = child.wait_for(kWaitMs, status);
    REQUIRE(ended);
    INFO(describe(status));
    // Re-raised with the default action: the shell sees the usual status (128 + number).
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == number);
    CHECK(names_in_directory(dir).empty());  // no output, no `.partial`, no lock file
  }
}

TEST_CASE("output: a closed stderr pipe does not stop the conversion", "[output][signal]") {
  // `qfp8-cuda convert ... -v 2>&1 | head -3`: head exits while the converter still logs.
  const std::string dir = scratch_dir("output_safety_pipe");
  const std::string output = dir + "/out.safetensors";
  remove_path(output);
  StalledChild child(convert_args(output, false), kChildTimeoutS);
  start_stalled(child, output);
  child.close_pipe();
  int status = 0;
  REQUIRE(child.wait_for(kWaitMs, status));
  INFO(describe(status));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK((read_file(output) == clean_output()));  // as a bool: never print the bytes
  CHECK(names_in_directory(dir) == names({"out.safetensors"}));
}

TEST_CASE("output: a second writer of the same output fails fast, naming the first",
          "[output]") {
  const std::string dir = scratch_dir("output_safety_twice");
  const std::string output = dir + "/out.safetensors";
  remove_path(output);
  StalledChild first(convert_args(output, false), kChildTimeoutS);
  start_stalled(first, output);
  const std::string named = "output '" + output + "' is being written by process " +
                            std::to_string(first.pid());
  for (const bool force : {false, true}) {
    INFO("second writer, force " << force);
    const auto second = run_bounded(convert_args(output, force), scratch_dir("output_safety_second"),
                                     kChildTimeoutS);
    INFO(second.err);
    CHECK(second.exit_code == 3);
    CHECK(second.err.find(named) != std::string::npos);
    CHECK_FALSE(path_exists(output));
    // The first run's file is still open and being written.
    CHECK(has_output_open(first.pid(), dir, ".lock"));
  }
  first.drain(kWaitMs);
  int status = 0;
  REQUIRE(first.wait_for(kWaitMs, status));
  INFO(describe(status));
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK((read_file(output) == clean_output()));  // as a bool: never print the bytes
  CHECK(names_in_directory(dir) == names({"out.safetensors"}));
}

TEST_CASE("output: a lock file and .partial left by a killed run block nothing",
          "[output]") {
  const std::string dir = scratch_dir("output_safety_stale");
  const std::string output = dir + "/out.safetensors";
  {
    StalledChild killed(convert_args(output, false), kChildTimeoutS);
    start_stalled(killed, output);
    killed.signal(SIGKILL);
    int status = 0;
    REQUIRE(killed.wait_for(kWaitMs, status));
  }
  CHECK_FALSE(path_exists(output));
  // SIGKILL runs no handler: the lock file stays (the kernel dropped its lock); the output
  // itself had no name. A `.partial` is what a file system without O_TMPFILE leaves.
  write_file(output + ".partial", Bytes(100, 7));
  const auto rerun = run_bounded(convert_args(output, false), scratch_dir("output_safety_rerun"),
                                 kChildTimeoutS);
  INFO(rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK((read_file(output) == clean_output()));
  CHECK(names_in_directory(dir) == names({"out.safetensors"}));
}

TEST_CASE("output: a 250-byte output name converts", "[output]") {
  const std::string dir = scratch_dir("output_safety_long");
  const std::string name = std::string(238, 'a') + ".safetensors";  // 250 bytes, NAME_MAX 255
  REQUIRE(name.size() == 250);
  for (const bool force : {false, true}) {
    INFO("force " << force);
    const auto result = run_bounded(convert_args(dir + "/" + name, force), scratch_dir("output_safety_long_log"),
                                    kChildTimeoutS);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK((read_file(dir + "/" + name) == clean_output()));
    CHECK(names_in_directory(dir) == std::vector<std::string>{name});
  }
}

namespace {

std::string make_fifo(const std::string& path) {
  REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
  return "a FIFO";
}

std::string make_socket(const std::string& path) {
  // sun_path holds 108 bytes, less than a scratch path may need: bind a relative name from
  // a child that changes into the directory (the socket file outlives the process).
  const auto slash = path.rfind('/');
  const std::string dir = path.substr(0, slash);
  const std::string name = path.substr(slash + 1);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", name.c_str());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    const bool bound = ::chdir(dir.c_str()) == 0 && fd >= 0 &&
                       ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::_exit(bound ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return "a socket";
}

std::string make_directory(const std::string& path) {
  REQUIRE(::mkdir(path.c_str(), 0755) == 0);
  return "a directory";
}

// A twin of /dev/null (char 1:3) in the scratch directory; empty when mknod is not allowed.
std::string make_char_device(const std::string& path) {
  if (::mknod(path.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0) return "";
  return "a character device";
}

struct SpecialCase {
  const char* label;
  std::string (*make)(const std::string&);
};

mode_t file_type(const std::string& path) {
  struct stat info {};
  REQUIRE(::lstat(path.c_str(), &info) == 0);
  return info.st_mode & S_IFMT;
}

}  // namespace

TEST_CASE("output: --force never replaces a device, FIFO, socket or directory", "[output]") {
  const std::string dir = scratch_dir("output_safety_special");
  const std::string log_dir = scratch_dir("output_safety_special_log");
  // An input that is no safetensors file: refusing the output must come first (exit 3, not
  // the invalid input's exit 2), before the input is read.
  const std::string not_safetensors = log_dir + "/notes.txt";
  write_file(not_safetensors, Bytes(64, 'x'));
  const SpecialCase cases[] = {{"fifo", make_fifo},
                               {"socket", make_socket},
                               {"directory", make_directory},
                               {"chardev", make_char_device}};
  for (const auto& special : cases) {
    const std::string path = dir + "/" + special.label;
    const std::string kind = special.make(path);
    if (kind.empty()) {
      WARN("cannot mknod a character device here (not root?): that case is not checked");
      continue;
    }
    const mode_t type = file_type(path);
    const std::string refusal = "'" + path + "' is " + kind + ": refusing to replace it";
    const std::vector<std::vector<std::string>> commands = {
        {QFP8_BINARY, "convert", "-i", not_safetensors, "-o", path, "--force"},
        {QFP8_BINARY, "convert", "-i", small_input(), "-o", path, "--force", "--device", "cpu"},
        {QFP8_BINARY, "convert", "-i", small_input(), "-o", path, "--device", "cpu"},
        {QFP8_BINARY, "dequantize", not_safetensors, path, "--force"},
        {QFP8_BINARY, "synth", "--model", "qwen-image", "--blocks", "1", "--width-div", "16", "--force", path}};
    for (const auto& command : commands) {
      INFO(special.label << ": " << command[1] << " " << command[3] << " ... " << command.back());
      const auto result = run_bounded(command, log_dir, kChildTimeoutS);
      INFO(result.err);
      CHECK(result.exit_code == 3);
      CHECK(result.err.find(refusal) != std::string::npos);
      CHECK(file_type(path) == type);
    }
    CHECK(names_in_directory(dir).size() == static_cast<std::size_t>(&special - cases + 1));
  }
}

TEST_CASE("output: a batch does not replace a FIFO in --output-dir", "[output]") {
  const std::string dir = scratch_dir("output_safety_batch");
  const std::string fifo = dir + "/in-fp8-e4m3fn.safetensors";
  make_fifo(fifo);
  const auto result = run_bounded({QFP8_BINARY, "convert", small_input(), "--output-dir", dir,
                                   "--force", "--device", "cpu", "-q"},
                                  scratch_dir("output_safety_batch_log"), kChildTimeoutS);
  INFO(result.out << result.err);
  CHECK(result.exit_code == 3);
  CHECK(result.err.find("'" + fifo + "' is a FIFO: refusing to replace it") != std::string::npos);
  CHECK(file_type(fifo) == S_IFIFO);
}

TEST_CASE("output: --force replaces a symbolic link, not the file it points to", "[output]") {
  const std::string dir = scratch_dir("output_safety_link");
  const std::string pointee = scratch_dir("output_safety_link_target") + "/kept.bin";
  write_file(pointee, Bytes{'k', 'e', 'p', 't'});
  const std::string link = dir + "/out.safetensors";
  remove_path(link);
  REQUIRE(::symlink(pointee.c_str(), link.c_str()) == 0);
  const auto result = run_bounded(convert_args(link, true), scratch_dir("output_safety_link_log"), kChildTimeoutS);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(file_type(link) == S_IFREG);
  CHECK((read_file(link) == clean_output()));
  CHECK(read_file(pointee) == Bytes{'k', 'e', 'p', 't'});
}

// --- fsync before publication (strace) -------------------------------------------------
namespace {

struct TraceVerdict {
  bool published = false;      // a link or rename gave the output its name
  bool synced_first = false;   // the file so named was fsynced before that
  std::string publishing_line;
};

// `strace -f` splits a call that another thread interrupts into "PID call(args
// <unfinished ...>" and "PID <... call resumed>rest": put such halves back together.
std::string joined_calls(const std::string& trace) {
  std::map<std::string, std::string> pending;  // pid -> the unfinished first half
  std::istringstream lines(trace);
  std::string line;
  std::string out;
  const std::string unfinished = " <unfinished ...>";
  while (std::getline(lines, line)) {
    const std::string pid = line.substr(0, line.find(' '));
    const auto cut = line.find(unfinished);
    if (cut != std::string::npos) {
      pending[pid] = line.substr(0, cut);
      continue;
    }
    const auto resumed = line.find(" resumed>");
    if (resumed != std::string::npos && pending.count(pid) > 0) {
      line = pending[pid] + line.substr(resumed + 9);
      pending.erase(pid);
    }
    out += line + "\n";
  }
  return out;
}

// Reads `strace -f` output: which descriptor each temporary name stands for (openat of a
// named file, linkat of /proc/self/fd/N), which descriptors were fsynced, and whether the
// call that gave `output` its name moved a file whose descriptor was fsynced before it.
TraceVerdict read_trace(const std::string& trace, const std::string& output) {
  static const std::regex kOpen(R"re(openat\(AT_FDCWD, "([^"]*)", [^)]*\) = (\d+))re");
  static const std::regex kSync(R"re((?:fsync|fdatasync)\((\d+))re");
  static const std::regex kLink(
      R"re(linkat\(AT_FDCWD, "([^"]*)", AT_FDCWD, "([^"]*)"[^)]*\) = 0)re");
  static const std::regex kRename(
      R"re(rename(?:at2?)?\((?:AT_FDCWD, )?"([^"]*)", (?:AT_FDCWD, )?"([^"]*)"[^)]*\) = 0)re");
  std::map<std::string, std::string> fd_of_name;  // name -> descriptor
  std::map<std::string, bool> synced;             // descriptor -> fsynced
  TraceVerdict verdict;
  std::istringstream lines(joined_calls(trace));
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    std::string source;
    std::string destination;
    if (std::regex_search(line, match, kOpen)) {
      fd_of_name[match[1]] = match[2];
      synced[match[2]] = false;  // a reused descriptor number starts unsynced
    } else if (std::regex_search(line, match, kSync)) {
      synced[match[1]] = true;
    } else if (std::regex_search(line, match, kLink) || std::regex_search(line, match, kRename)) {
      source = match[1];
      destination = match[2];
      const std::string proc = "/proc/self/fd/";
      const std::string fd = source.compare(0, proc.size(), proc) == 0
                                 ? source.substr(proc.size())
                                 : fd_of_name[source];
      fd_of_name[destination] = fd;
      if (destination == output) {
        verdict.published = true;
        verdict.synced_first = !fd.empty() && synced[fd];
        verdict.publishing_line = line;
      }
    }
  }
  return verdict;
}

}  // namespace

TEST_CASE("output: the data is fsynced before the link or rename that publishes it",
          "[output][strace]") {
  const std::string strace = "/usr/bin/strace";
  if (::access(strace.c_str(), X_OK) != 0) {
    WARN("SKIPPED: " << strace << " is missing (scripts/install-deps.sh installs it)");
    return;
  }
  const std::string dir = scratch_dir("output_safety_strace");
  const std::string output = dir + "/out.safetensors";
  remove_path(output);
  for (const bool force : {false, true}) {
    INFO("force " << force);
    const std::string trace_file = dir + "/trace.txt";
    std::vector<std::string> args = {
        strace, "-f", "-o", trace_file,
        "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2,link,linkat",
        // LeakSanitizer cannot run under ptrace (sanitizer builds): the leak check is
        // every other test's job, this one looks at the order of system calls.
        "-E", "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"};
    auto convert = convert_args(output, force);
    convert[convert.size() - (force ? 2 : 1)] = "-q";
    args.insert(args.end(), convert.begin(), convert.end());
    const auto result = run_bounded(args, scratch_dir("output_safety_strace_log"), kChildTimeoutS);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const Bytes trace_bytes = read_file(trace_file);
    const std::string trace(trace_bytes.begin(), trace_bytes.end());
    remove_path(trace_file);
    const TraceVerdict verdict = read_trace(trace, output);
    INFO(trace);
    REQUIRE(verdict.published);
    INFO(verdict.publishing_line);
    CHECK(verdict.synced_first);
    CHECK((read_file(output) == clean_output()));
  }
}
