// refused_threads.hpp — a ThreadStarter that fails like a process or PID limit, for the
// tests of every place that starts threads.
#pragma once

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <system_error>
#include <thread>

#include "core/thread_start.hpp"

namespace qfp8::test {

/// Creates `allowed` threads, then throws what std::thread throws when clone() fails under
/// ulimit -u or a pids.max: std::system_error(EAGAIN).
inline ThreadStarter refuse_after(unsigned allowed) {
  auto created = std::make_shared<std::atomic<unsigned>>(0);
  return [created, allowed](std::function<void()> body) {
    if (created->fetch_add(1) >= allowed) {
      throw std::system_error(EAGAIN, std::generic_category(), "thread creation refused");
    }
    return std::thread(std::move(body));
  };
}

}  // namespace qfp8::test
