// bounded_child.hpp — child processes for the limits, fault and determinism tests:
// a run with a wall-clock bound (alarm() survives exec, so a hung child dies of SIGALRM
// instead of hanging CTest) that reports exit status, peak RSS and duration, a
// started-but-not-awaited child for tests that signal or disturb it mid-run, and a child
// held mid-conversion on a full stderr pipe (StalledChild).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
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

/// Replaces the (forked) process with argv[0]; exit 127 when that fails, as a shell does.
[[noreturn]] inline void exec_argv(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

[[noreturn]] inline void exec_child(const std::vector<std::string>& argv, const std::string& out,
                                    const std::string& err, unsigned timeout_s) {
  const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out_fd < 0 || err_fd < 0) ::_exit(126);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  if (timeout_s > 0) ::alarm(timeout_s);
  exec_argv(argv);
}

/// A child the test no longer waits for properly: killed and reaped, never left a zombie.
inline void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
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
  ~RunningChild() { detail::kill_and_reap(pid_); }

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

/// A child whose stdout and stderr go to one pipe of 4096 bytes (F_SETPIPE_SZ; one page,
/// the least a pipe holds) that the test reads only as far as it chooses. `convert -v` logs
/// a line per tensor (about 100 bytes), so once the test stops reading, the converter
/// blocks in write(2) a few dozen tensors in, with its output open, for as long as the test
/// likes: a signal sent then lands mid-conversion on any machine, however fast or loaded.
/// The child starts with every signal at its default action and none blocked (a test
/// runner's ignored SIGHUP must not leak into it), and without core dumps (SIGQUIT).
class StalledChild {
 public:
  StalledChild(const std::vector<std::string>& argv, unsigned timeout_s) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    ::fcntl(ends[1], F_SETPIPE_SZ, 4096);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) exec_stalled(argv, ends[1], timeout_s);
    ::close(ends[1]);
    read_fd_ = ends[0];
  }
  StalledChild(const StalledChild&) = delete;
  StalledChild& operator=(const StalledChild&) = delete;
  ~StalledChild() {
    detail::kill_and_reap(pid_);
    close_pipe();
  }

  pid_t pid() const { return pid_; }
  void signal(int number) const { ::kill(pid_, number); }

  /// Reads until `text` has appeared in the output (true), or end of file or `timeout_ms`.
  bool read_until(const std::string& text, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (output_.find(text) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }

  /// Reads everything up to end of file (the child exited), so a stalled child can finish.
  void drain(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (read_some(deadline)) {
    }
  }

  /// Closes our end: the child's next write fails with EPIPE (SIGPIPE unless ignored).
  void close_pipe() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }

  /// Waits up to `timeout_ms` for the child to end; false (and still running) otherwise.
  bool wait_for(int timeout_ms, int& status) {
    for (int waited = 0; waited <= timeout_ms; ++waited) {
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return true;
      }
      ::usleep(1000);
    }
    return false;
  }

  /// What the child wrote so far (as far as the test read).
  const std::string& output() const { return output_; }

 private:
  [[noreturn]] static void exec_stalled(const std::vector<std::string>& argv, int write_fd,
                                        unsigned timeout_s) {
    ::dup2(write_fd, 1);
    ::dup2(write_fd, 2);
    for (int number = 1; number < NSIG; ++number) ::signal(number, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    if (timeout_s > 0) ::alarm(timeout_s);
    detail::exec_argv(argv);
  }

  bool read_some(std::chrono::steady_clock::time_point deadline) {
    if (read_fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{read_fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    const ssize_t got = ::read(read_fd_, buffer, sizeof buffer);
    if (got <= 0) return false;
    output_.append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  pid_t pid_ = -1;
  int read_fd_ = -1;
  std::string output_;
};

/// True when process `pid` has a file open in directory `dir` other than one whose name
/// ends in `except` (the lock file): the output it is writing, named or not (an unnamed
/// O_TMPFILE file shows as "DIR/#INODE (deleted)").
inline bool has_output_open(pid_t pid, const std::string& dir, const std::string& except) {
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr) return false;
  const std::string prefix = std::string(resolved) + "/";
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* fds = ::opendir(fd_dir.c_str());
  if (fds == nullptr) return false;
  bool found = false;
  while (const dirent* entry = ::readdir(fds)) {
    char target[PATH_MAX];
    const ssize_t length =
        ::readlink((fd_dir + "/" + entry->d_name).c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    const std::string link(target, static_cast<std::size_t>(length));
    const bool excluded = link.size() >= except.size() &&
                          link.compare(link.size() - except.size(), except.size(), except) == 0;
    if (link.compare(0, prefix.size(), prefix) == 0 && !excluded) found = true;
  }
  ::closedir(fds);
  return found;
}

/// Polls (1 ms steps, up to `timeout_ms`) until has_output_open().
inline bool wait_for_open_output(pid_t pid, const std::string& dir, int timeout_ms) {
  for (int waited = 0; waited < timeout_ms; ++waited) {
    if (has_output_open(pid, dir, ".lock")) return true;
    ::usleep(1000);
  }
  return has_output_open(pid, dir, ".lock");
}

/// The names in `dir`, sorted, without "." and "..".
inline std::vector<std::string> names_in_directory(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* handle = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(handle)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(handle);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace qfp8::test
