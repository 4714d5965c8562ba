// cpu_thread_pool.hpp — a small persistent pool for the CPU backend: threads are created
// once per backend, not per tensor, and the calling thread works too. When the system
// refuses some threads (a process or PID limit) the pool runs with those it got.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/thread_start.hpp"

namespace qfp8 {

class CpuThreadPool {
 public:
  /// `threads` workers in all, the caller included (so threads - 1 are started); >= 1.
  /// Threads the system refuses (std::system_error from `starter`) are left out with a
  /// warning: with none started, the caller runs every task.
  explicit CpuThreadPool(unsigned threads, const ThreadStarter& starter = {});
  ~CpuThreadPool();
  CpuThreadPool(const CpuThreadPool&) = delete;
  CpuThreadPool& operator=(const CpuThreadPool&) = delete;

  unsigned size() const noexcept { return static_cast<unsigned>(workers_.size()) + 1; }

  /// Runs task(i) once for every i in [0, tasks), spread over the pool and the calling
  /// thread, and returns when all have finished. The first exception a task threw is
  /// rethrown here. Not reentrant: one parallel_for at a time.
  void parallel_for(unsigned tasks, const std::function<void(unsigned)>& task);

 private:
  void stop_and_join();
  void worker_loop();
  // Claims and runs tasks until none is left; `lock` is held on entry and on return.
  void run_claimed_tasks(std::unique_lock<std::mutex>& lock);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable all_done_;
  const std::function<void(unsigned)>* task_ = nullptr;
  unsigned tasks_ = 0;
  unsigned next_ = 0;
  unsigned finished_ = 0;
  bool stopping_ = false;
  std::exception_ptr first_error_;
};

}  // namespace qfp8
