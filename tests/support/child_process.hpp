// child_process.hpp — runs the qfp8-cuda binary (or any program) from a test: fork/exec,
// stdout and stderr captured through temporary files, exit status and peak RSS from wait4;
// optionally with a changed environment, and several children at the same time.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
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

/// Changes to a child's environment: "NAME=VALUE" sets NAME, a bare "NAME" removes it.
using EnvChanges = std::vector<std::string>;

/// This process's environment with `changes` applied, as execve wants it.
inline std::vector<std::string> changed_environment(const EnvChanges& changes) {
  const auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    bool changed = false;
    for (const auto& change : changes) changed = changed || name_of(change) == name_of(*entry);
    if (!changed) env.emplace_back(*entry);
  }
  for (const auto& change : changes) {
    if (change.find('=') != std::string::npos) env.push_back(change);
  }
  return env;
}

struct ChildSpec {
  std::vector<std::string> argv;
  EnvChanges env;
};

/// Starts every child before waiting for any (they run at the same time), then waits for
/// them all; results in the children's order. Every argument vector is built before the
/// first fork, so a child only redirects and execs.
inline std::vector<ChildResult> run_children(const std::vector<ChildSpec>& children,
                                             const std::string& scratch_dir) {
  static int counter = 0;
  struct Started {
    std::vector<std::string> env;
    std::vector<char*> argv, envp;
    std::string out_path, err_path;
    pid_t pid = -1;
  };
  std::vector<Started> started(children.size());
  for (std::size_t i = 0; i < children.size(); ++i) {
    Started& child = started[i];
    const std::string stem = scratch_dir + "/children." + std::to_string(::getpid()) + "." +
                             std::to_string(counter++);
    child.out_path = stem + ".out";
    child.err_path = stem + ".err";
    child.env = changed_environment(children[i].env);
    for (const auto& arg : children[i].argv) child.argv.push_back(const_cast<char*>(arg.c_str()));
    child.argv.push_back(nullptr);
    for (auto& entry : child.env) child.envp.push_back(entry.data());
    child.envp.push_back(nullptr);
  }
  for (auto& child : started) {
    child.pid = ::fork();
    if (child.pid < 0) throw std::runtime_error("fork failed");
    if (child.pid == 0) {
      const int out = ::open(child.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(child.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || err < 0) ::_exit(126);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execve(child.argv[0], child.argv.data(), child.envp.data());
      ::_exit(127);
    }
  }
  std::vector<ChildResult> results(started.size());
  for (std::size_t i = 0; i < started.size(); ++i) {
    int status = 0;
    struct rusage usage {};
    if (::wait4(started[i].pid, &status, 0, &usage) != started[i].pid) {
      throw std::runtime_error("wait4 failed");
    }
    if (WIFEXITED(status)) results[i].exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) results[i].signal = WTERMSIG(status);
    results[i].max_rss_kib = usage.ru_maxrss;
    results[i].out = slurp_and_remove(started[i].out_path);
    results[i].err = slurp_and_remove(started[i].err_path);
  }
  return results;
}

/// One child with a changed environment.
inline ChildResult run_child(const std::vector<std::string>& argv, const std::string& scratch_dir,
                             const EnvChanges& env) {
  return run_children({{argv, env}}, scratch_dir).front();
}

}  // namespace qfp8::test
