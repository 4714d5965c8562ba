// read_ahead.hpp — a thread that reads the tensors a scan is about to read, in the order it
// will read them, a bounded number of bytes ahead of it: the disk stays busy while the scan
// computes. Reading is done by touching each page of the mapping and dropping the pages from
// the resident set again: the data lands in the page cache, and the memory this process holds
// does not grow with the window.
//
// Why not MADV_WILLNEED on the next tensor: it queues the whole tensor at once, behind or
// in front of the pages the scan waits for; on a 2-core VM it read two files at
// 0.75-0.85 GB/s where `cat` read them at 1.2-1.4 GB/s (docs/benchmarks.md#verify-one-pass).
// What is asked for (MADV_WILLNEED) is a few MiB past the step being touched, counted over
// all spans: the next tensor's first bytes, in the other file, are queued while the current
// one's last step is touched, so the disk never waits for a tensor boundary.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "safetensors/reader.hpp"

namespace qfp8 {

class ReadAhead {
 public:
  /// A tensor the scan will read, in the file that holds it.
  struct Span {
    const SafetensorsFile* file = nullptr;
    const TensorInfo* tensor = nullptr;
  };

  /// Does something with bytes [offset, offset + length) of a span. The read step, empty:
  /// touch the pages, then drop them from the resident set; the queue step, empty: ask for
  /// them (MADV_WILLNEED). Tests pass ones that record the steps.
  using ReadStep = std::function<void(const Span& span, uint64_t offset, uint64_t length)>;

  /// Starts reading `spans` in order, in steps of 2 MiB, each step starting less than `window`
  /// bytes past the end of the spans finished (done()), and queueing the spans' bytes up to
  /// 8 MiB past the end of the step. When the system refuses the thread, nothing is read
  /// ahead (the scan reads on demand).
  ReadAhead(std::vector<Span> spans, uint64_t window, ReadStep read_step = {},
            ReadStep queue_step = {});
  /// Stops the thread (it may be waiting for the disk: at most one step).
  ~ReadAhead();
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  /// The scan has finished the first `count` spans: the window moves on.
  void done(std::size_t count);

 private:
  void run();
  /// Waits until the byte at `position` (counted over all spans) is inside the window.
  /// False when stopped.
  bool wait_for_window(uint64_t position);
  /// Queues the spans' bytes from where the last call stopped up to `end` (counted over all
  /// spans), across span and file boundaries.
  void queue_through(uint64_t end);

  std::vector<Span> spans_;
  ReadStep read_step_;
  ReadStep queue_step_;
  uint64_t queued_ = 0;            // bytes of the spans queued so far
  std::size_t queued_span_ = 0;    // the span holding byte `queued_`
  std::vector<uint64_t> span_ends_;  // bytes of spans 0..i together
  uint64_t window_;
  std::mutex mutex_;
  std::condition_variable moved_;
  std::size_t done_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace qfp8
