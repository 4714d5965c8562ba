// cpu_thread_pool.cpp — claim-a-task-under-the-lock pool. Tasks are few (about one per
// thread, each a multi-megabyte range), so one mutex is never contended enough to matter.
#include "backends/cpu/cpu_thread_pool.hpp"

namespace qfp8 {

CpuThreadPool::CpuThreadPool(unsigned threads, const ThreadStarter& starter) {
  const unsigned extra = threads > 1 ? threads - 1 : 0;
  // A constructor that throws runs no destructor: the started workers must be stopped
  // here, or destroying the condition variables they wait on hangs (glibc waits for the
  // waiters) and a joinable std::thread aborts.
  try {
    const StartedThreads started =
        start_threads(workers_, extra, [this](unsigned) { worker_loop(); }, starter);
    if (started.started < extra) {
      warn_fewer_threads("the CPU cast", size(), threads, started.failure);
    }
  } catch (...) {
    stop_and_join();
    throw;
  }
}

CpuThreadPool::~CpuThreadPool() { stop_and_join(); }

void CpuThreadPool::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void CpuThreadPool::parallel_for(unsigned tasks, const std::function<void(unsigned)>& task) {
  if (tasks == 0) return;
  std::unique_lock<std::mutex> lock(mutex_);
  task_ = &task;
  tasks_ = tasks;
  next_ = 0;
  finished_ = 0;
  first_error_ = nullptr;
  if (tasks > 1) work_ready_.notify_all();
  run_claimed_tasks(lock);
  all_done_.wait(lock, [this] { return finished_ == tasks_; });
  task_ = nullptr;
  if (first_error_) std::rethrow_exception(first_error_);
}

void CpuThreadPool::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [this] { return stopping_ || next_ < tasks_; });
    if (stopping_) return;
    run_claimed_tasks(lock);
  }
}

void CpuThreadPool::run_claimed_tasks(std::unique_lock<std::mutex>& lock) {
  while (next_ < tasks_) {
    const unsigned index = next_++;
    const auto* task = task_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*task)(index);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !first_error_) first_error_ = error;
    if (++finished_ == tasks_) all_done_.notify_all();
  }
}

}  // namespace qfp8
