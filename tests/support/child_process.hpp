// child_process.hpp — runs the qfp8-cuda binary (or any program) from a test: fork/exec,
// stdout and stderr captured through temporary files, exit status and peak RSS from wait4.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace qfp8::test {

struct ChildResult {
  int exit_code = -1;       // -1 when killed by a signal
  int signal = 0;           // the signal that killed it, else 0
  std::string out;          // stdout
  std::string err;          // stderr
  long max_rss_kib = 0;     // peak resident set (ru_maxrss, KiB on Linux)
};

inline std::string slurp_and_remove(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return text;
}

/// Runs argv[0] with argv (no shell), waits, and returns what it did. `scratch_dir` holds
/// the capture files while it runs.
inline ChildResult run_child(const std::vector<std::string>& argv, const std::string& scratch_dir) {
  static int counter = 0;
  const std::string stem = scratch_dir + "/child." + std::to_string(::getpid()) + "." +
                           std::to_string(counter++);
  const std::string out_path = stem + ".out";
  const std::string err_path = stem + ".err";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(126);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid, &status, 0, &usage) != pid) throw std::runtime_error("wait4 failed");
  ChildResult result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.max_rss_kib = usage.ru_maxrss;
  result.out = slurp_and_remove(out_path);
  result.err = slurp_and_remove(err_path);
  return result;
}

}  // namespace qfp8::test
