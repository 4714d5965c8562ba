// test_threads_cli.cpp — --threads on the command line: its bound (a usage error beyond
// it, for every subcommand that takes it), the automatic count under an affinity mask
// (taskset) and a cgroup CPU quota, and a real process limit (prlimit --nproc) under which
// the converter must finish with the threads it got, not hang. Root is exempt from
// RLIMIT_NPROC, so as root the limited run is made as an otherwise unused uid (setpriv).
#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/bounded_child.hpp"
#include "support/convert_checks.hpp"
#include "support/synthetic_model.hpp"

namespace {

using qfp8::test::BoundedResult;
using qfp8::test::run_bounded;

// A hung child is killed after this many seconds; a right run takes well under one.
constexpr unsigned kTimeout = 20;

std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
    const std::string path = dir + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

/// The lines of `text` that mention threads: what a failed check should show of a -v log.
std::string thread_lines(const std::string& text) {
  std::string lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string line = text.substr(start, end - start);
    if (line.find("thread") != std::string::npos) lines += line + "\n";
    start = end + 1;
  }
  return lines;
}

/// `prefix` (a wrapper such as taskset), then the binary and `args`.
std::vector<std::string> command(const std::vector<std::string>& prefix,
                                 const std::vector<std::string>& args) {
  std::vector<std::string> argv = prefix;
  argv.push_back(QFP8_BINARY);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

/// A BF16 model large enough that every Linear splits into several CPU tasks (512 x 512
/// = 4 tasks of 64 Ki elements), in a world-readable file.
std::string make_model(const std::string& dir) {
  qfp8::test::SyntheticModelOptions model;
  model.hidden = 512;
  const std::string path = dir + "/in.safetensors";
  qfp8::test::write_synthetic_model(path, model);
  ::chmod(path.c_str(), 0644);
  return path;
}

/// The first CPU of this process's affinity mask, or -1.
int first_allowed_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return -1;
}

/// A cgroup with a CPU quota of one CPU (v1 cpu controller or v2 cpu.max), removed on
/// destruction; empty dir() when this system or user cannot make one.
class OneCpuCgroup {
 public:
  OneCpuCgroup() {
    const std::string name = "/qfp8-test-" + std::to_string(::getpid());
    if (make("/sys/fs/cgroup/cpu" + name)) {
      if (write_text(dir_ + "/cpu.cfs_period_us", "100000") &&
          write_text(dir_ + "/cpu.cfs_quota_us", "100000")) {
        return;
      }
    } else if (slurp("/sys/fs/cgroup/cgroup.subtree_control").find("cpu") != std::string::npos &&
               make("/sys/fs/cgroup" + name)) {
      if (write_text(dir_ + "/cpu.max", "100000 100000")) return;
    }
    remove();
  }
  ~OneCpuCgroup() { remove(); }
  OneCpuCgroup(const OneCpuCgroup&) = delete;
  OneCpuCgroup& operator=(const OneCpuCgroup&) = delete;

  const std::string& dir() const { return dir_; }

 private:
  bool make(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0) return false;
    dir_ = dir;
    return true;
  }
  void remove() {
    if (!dir_.empty()) ::rmdir(dir_.c_str());  // empty again: its one process has exited
    dir_.clear();
  }
  std::string dir_;
};

}  // namespace

TEST_CASE("threads: --threads beyond 256 is a usage error for convert, verify and dequantize",
          "[threads][cli]") {
  const std::string dir = qfp8::test::scratch_dir("threads_bound");
  const std::string model = make_model(dir);
  const std::string fp8 = dir + "/fp8.safetensors";
  REQUIRE(run_bounded(command({}, {"convert", model, fp8, "--device", "cpu", "-q"}), dir,
                      kTimeout)
              .exit_code == 0);
  for (const std::string threads : {"257", "100000"}) {
    const std::vector<std::vector<std::string>> runs = {
        {"convert", model, dir + "/out.safetensors", "--device", "cpu", "--threads", threads},
        {"verify", fp8, "--threads", threads},
        {"verify", fp8, "--against", model, "--threads", threads},
        {"dequantize", fp8, dir + "/bf16.safetensors", "--threads", threads},
    };
    for (const auto& args : runs) {
      INFO(args[0] << " --threads " << threads);
      const BoundedResult result = run_bounded(command({}, args), dir, kTimeout);
      CHECK(result.exit_code == 1);
      CHECK(result.err.find("--threads " + threads + " is out of range (0 to 256)") !=
            std::string::npos);
    }
  }
  struct stat info {};
  CHECK(::stat((dir + "/out.safetensors").c_str(), &info) != 0);  // refused before any work
  const BoundedResult most = run_bounded(
      command({}, {"convert", model, dir + "/out.safetensors", "--device", "cpu", "--threads",
                   "256", "-v"}),
      dir, kTimeout);
  CHECK(most.exit_code == 0);
  CHECK(most.err.find("cpu (256 threads)") != std::string::npos);
}

TEST_CASE("the automatic thread count follows the affinity mask (taskset)", "[threads][cli]") {
  const std::string taskset = find_program("taskset");
  const int cpu = first_allowed_cpu();
  if (taskset.empty() || cpu < 0) {
    WARN("taskset (util-linux) or the affinity mask is unavailable; not checked");
    return;
  }
  const std::string dir = qfp8::test::scratch_dir("threads_affinity");
  const std::string model = make_model(dir);
  const BoundedResult result = run_bounded(
      command({taskset, "-c", std::to_string(cpu)},
              {"convert", model, dir + "/out.safetensors", "--device", "cpu", "-v"}),
      dir, kTimeout);
  INFO(thread_lines(result.err));
  CHECK(result.exit_code == 0);
  CHECK(result.err.find("affinity mask: 1 CPU,") != std::string::npos);
  CHECK(result.err.find("cpu (1 thread)") != std::string::npos);
}

TEST_CASE("the automatic thread count follows the cgroup CPU quota", "[threads][cli]") {
  const OneCpuCgroup cgroup;
  if (cgroup.dir().empty()) {
    WARN("cannot make a cgroup with a CPU quota here (needs root and a writable cgroup "
         "file system); not checked");
    return;
  }
  const std::string dir = qfp8::test::scratch_dir("threads_quota");
  const std::string model = make_model(dir);
  // The shell moves itself into the cgroup, then becomes the converter.
  const BoundedResult result = run_bounded(
      command({"/bin/sh", "-c", "echo $$ > " + cgroup.dir() + "/cgroup.procs && exec \"$@\"",
               "sh"},
              {"convert", model, dir + "/out.safetensors", "--device", "cpu", "-v"}),
      dir, kTimeout);
  INFO(thread_lines(result.err));
  CHECK(result.exit_code == 0);
  CHECK(result.err.find("cgroup quota: 1 CPU,") != std::string::npos);
  CHECK(result.err.find("cpu (1 thread)") != std::string::npos);
}

TEST_CASE("under a process limit, --threads 100 runs with the threads it got",
          "[threads][cli]") {
  const std::string prlimit = find_program("prlimit");
  const std::string setpriv = find_program("setpriv");
  const bool root = ::geteuid() == 0;
  if (prlimit.empty() || (root && setpriv.empty())) {
    WARN("prlimit or setpriv (util-linux) is missing; the process limit is not checked");
    return;
  }
  const std::string dir = qfp8::test::scratch_dir("threads_nproc");
  const std::string model = make_model(dir);
  const std::string reference = dir + "/reference.safetensors";
  REQUIRE(run_bounded(command({}, {"convert", model, reference, "--device", "cpu", "--threads",
                                   "1", "-q"}),
                      dir, kTimeout)
              .exit_code == 0);
  const std::string out_dir = dir + "/limited";
  REQUIRE(::mkdir(out_dir.c_str(), 0777) == 0);
  ::chmod(out_dir.c_str(), 0777);  // for the unprivileged uid, whatever the umask
  // As root: an unused uid, so that only this run counts against its limit of 8 (the main
  // thread and 7 workers). Otherwise the limit of 1 leaves this user no thread to start.
  const std::string uid = std::to_string(60000 + ::getpid() % 5000);
  const std::string limit = root ? "8" : "1";
  std::vector<std::string> prefix;
  if (root) prefix = {setpriv, "--reuid=" + uid, "--regid=" + uid, "--clear-groups"};
  prefix.insert(prefix.end(), {prlimit, "--nproc=" + limit});
  const BoundedResult probe = run_bounded(command(prefix, {"--version"}), dir, kTimeout);
  if (probe.exit_code != 0) {
    WARN("cannot run under setpriv/prlimit here (" << probe.err << "); not checked");
    return;
  }
  const std::string output = out_dir + "/out.safetensors";
  const BoundedResult result = run_bounded(
      command(prefix, {"convert", model, output, "--device", "cpu", "--threads", "100"}), dir,
      kTimeout);
  INFO(result.err);
  CHECK(result.signal == 0);  // SIGALRM: it hung
  CHECK(result.exit_code == 0);
  CHECK(result.seconds < 5.0);
  CHECK(result.err.find("only " + limit + " of 100 threads for the CPU cast could be started") !=
        std::string::npos);
  CHECK(slurp(output) == slurp(reference));  // same bytes with fewer threads

  const BoundedResult verified = run_bounded(
      command(prefix, {"verify", output, "--against", model, "--threads", "100"}), dir, kTimeout);
  INFO(verified.err);
  CHECK(verified.signal == 0);
  CHECK(verified.exit_code == 0);
}
