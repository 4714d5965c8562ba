// thread_start.hpp — starting worker threads when the system may refuse some. Under a
// process or PID limit (ulimit -u, a container's pids.max) std::thread's constructor throws
// std::system_error (EAGAIN); every place that starts threads goes through here, so the
// program runs on with the threads it got instead of hanging or aborting.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace qfp8 {

/// Creates one thread running its argument; empty means std::thread's constructor. Tests
/// pass one that fails, as a process limit would.
using ThreadStarter = std::function<std::thread(std::function<void()>)>;

struct StartedThreads {
  unsigned started = 0;
  std::string failure;  // why the next thread could not be created; empty if all were
};

/// Appends up to `count` threads to `threads`, the i-th running body(i). Stops at the first
/// that cannot be created (std::system_error) and says how many were started. Any other
/// exception propagates, the started threads left in `threads` for the caller to stop and
/// join.
StartedThreads start_threads(std::vector<std::thread>& threads, unsigned count,
                             const std::function<void(unsigned)>& body,
                             const ThreadStarter& starter);

/// Warns, once per `what` in this process, that only `got` of `wanted` threads run:
/// "only 39 of 100 threads for the CPU cast could be started (Resource temporarily
/// unavailable: a process or PID limit?); continuing with 39".
void warn_fewer_threads(const std::string& what, unsigned got, unsigned wanted,
                        const std::string& failure);

}  // namespace qfp8
