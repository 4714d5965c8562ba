// test_limits_child.hpp — child processes for the limits, fault and determinism tests:
// a run with a wall-clock bound (alarm() survives exec, so a hung child dies of SIGALRM
// instead of hanging CTest) that reports exit status, peak RSS and duration, and a
// started-but-not-awaited child for tests that signal or disturb it mid-run.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace qfp8::test {

struct BoundedResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // SIGALRM: it ran past its time bound
  long max_rss_kib = 0;
  double seconds = 0.0;
  std::string out;
  std::string err;
};

namespace detail {

[[noreturn]] inline void exec_child(const std::vector<std::string>& argv, const std::string& out,
                                    const std::string& err, unsigned timeout_s) {
  const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out_fd < 0 || err_fd < 0) ::_exit(126);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  if (timeout_s > 0) ::alarm(timeout_s);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

}  // namespace detail

/// Runs argv (no shell) for at most `timeout_s` seconds and waits for it.
inline BoundedResult run_bounded(const std::vector<std::string>& argv, const std::string& scratch,
                                 unsigned timeout_s) {
  static int counter = 0;
  const std::string stem = scratch + "/bounded." + std::to_string(::getpid()) + "." +
                           std::to_string(counter++);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) detail::exec_child(argv, stem + ".out", stem + ".err", timeout_s);
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid, &status, 0, &usage) != pid) throw std::runtime_error("wait4 failed");
  BoundedResult result;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.max_rss_kib = usage.ru_maxrss;
  result.out = slurp_and_remove(stem + ".out");
  result.err = slurp_and_remove(stem + ".err");
  return result;
}

/// A child started in the background (output to files under `scratch`), for tests that
/// signal it or change its input while it runs. The destructor kills and reaps it if the
/// test did not.
class RunningChild {
 public:
  RunningChild(const std::vector<std::string>& argv, const std::string& scratch, unsigned timeout_s)
      : stem_(scratch + "/running." + std::to_string(::getpid()) + "." + std::to_string(counter()++)) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) detail::exec_child(argv, stem_ + ".out", stem_ + ".err", timeout_s);
  }
  RunningChild(const RunningChild&) = delete;
  RunningChild& operator=(const RunningChild&) = delete;
  ~RunningChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  void signal(int number) const { ::kill(pid_, number); }

  /// True while the child has not exited (it is reaped by wait()).
  bool running() const {
    siginfo_t info {};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0;
  }

  /// Waits for the child; returns its status as run_bounded reports it.
  BoundedResult wait() {
    int status = 0;
    struct rusage usage {};
    if (::wait4(pid_, &status, 0, &usage) != pid_) throw std::runtime_error("wait4 failed");
    pid_ = -1;
    BoundedResult result;
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
    result.max_rss_kib = usage.ru_maxrss;
    result.out = slurp_and_remove(stem_ + ".out");
    result.err = slurp_and_remove(stem_ + ".err");
    return result;
  }

 private:
  static int& counter() {
    static int value = 0;
    return value;
  }
  std::string stem_;
  pid_t pid_ = -1;
};

/// Polls (1 ms steps, up to `timeout_ms`) until `path` exists; false if it never did.
inline bool wait_for_path(const std::string& path, int timeout_ms) {
  struct stat info {};
  for (int waited = 0; waited < timeout_ms; ++waited) {
    if (::lstat(path.c_str(), &info) == 0) return true;
    ::usleep(1000);
  }
  return ::lstat(path.c_str(), &info) == 0;
}

}  // namespace qfp8::test
