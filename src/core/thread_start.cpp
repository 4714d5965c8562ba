// thread_start.cpp — start_threads() and its once-per-kind warning.
#include "core/thread_start.hpp"

#include <mutex>
#include <set>
#include <system_error>

#include "core/log.hpp"

namespace qfp8 {

StartedThreads start_threads(std::vector<std::thread>& threads, unsigned count,
                             const std::function<void(unsigned)>& body,
                             const ThreadStarter& starter) {
  StartedThreads result;
  threads.reserve(threads.size() + count);
  for (unsigned index = 0; index < count; ++index) {
    std::function<void()> run = [body, index] { body(index); };
    try {
      threads.push_back(starter ? starter(std::move(run)) : std::thread(std::move(run)));
    } catch (const std::system_error& error) {
      result.failure = error.code().message();
      break;
    }
    ++result.started;
  }
  return result;
}

void warn_fewer_threads(const std::string& what, unsigned got, unsigned wanted,
                        const std::string& failure) {
  static std::mutex mutex;
  static std::set<std::string> warned;  // a verify scan starts threads once per tensor
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!warned.insert(what).second) return;
  }
  log_warn("only {} of {} threads for {} could be started ({}: a process or PID limit?); "
               "continuing with {}",
               got, wanted, what, failure, got);
}

}  // namespace qfp8
