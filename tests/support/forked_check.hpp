// forked_check.hpp — runs a piece of a test in a forked child with a wall-clock bound, for
// code that may hang or abort when it is wrong (a thread pool whose error path waits
// forever): the parent sees an exit status instead of a stalled or killed test run.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <stdexcept>

namespace qfp8::test {

/// Exit status of `body` run in a forked child (its return value; 99 if it threw), or
/// 128 + the signal that ended it: 128 + SIGALRM (142) when it ran past `seconds`,
/// 128 + SIGABRT (134) when it aborted. Catch assertions belong in the parent only.
inline int run_forked(const std::function<int()>& body, unsigned seconds) {
  std::cout.flush();  // else the child's copy of pending output is printed twice
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::signal(SIGALRM, SIG_DFL);
    ::alarm(seconds);
    int code = 99;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) throw std::runtime_error("waitpid failed");
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace qfp8::test
