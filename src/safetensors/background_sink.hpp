// background_sink.hpp — a ByteSink that hands its writes to a thread of its own. On a CPU
// conversion the kernel's copy of the output into the page cache (pwrite) is the largest
// single cost after the cast (docs/benchmarks.md#where-convert-time-goes), and it ran on the
// thread that also casts: with the writes queued here, the cast of the next chunk runs while
// the previous one is written.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/thread_start.hpp"
#include "safetensors/byte_sink.hpp"

namespace qfp8 {

class BackgroundWriteSink final : public ByteSink {
 public:
  /// Bytes queued at most: kSlots pieces of kSlotBytes, copied from the caller's buffer (the
  /// caller reuses it at once). 16 MiB keeps the CPU path's peak memory flat and small.
  static constexpr std::size_t kSlots = 4;
  static constexpr uint64_t kSlotBytes = uint64_t{4} << 20;

  /// `target` receives the same calls, in the same order, on this sink's thread (commit on
  /// the caller's). When the system refuses the thread, every call goes straight to
  /// `target` on the caller's thread.
  explicit BackgroundWriteSink(ByteSink& target, const ThreadStarter& starter = {});
  ~BackgroundWriteSink() override;
  BackgroundWriteSink(const BackgroundWriteSink&) = delete;
  BackgroundWriteSink& operator=(const BackgroundWriteSink&) = delete;

  /// Queue the bytes; throws the first error a queued write threw (e.g. WriteFailed on a
  /// full disk), from whichever call comes next.
  void write(const void* data, uint64_t size) override;
  void write_at(uint64_t offset, const void* data, uint64_t size) override;
  /// Waits for every queued write, throws the first error one threw, then commits `target`.
  void commit() override;

 private:
  struct Piece {
    std::size_t slot = 0;
    uint64_t size = 0;
    bool at_offset = false;  // write_at(offset, ...) rather than write(...)
    uint64_t offset = 0;
  };

  void enqueue(bool at_offset, uint64_t offset, const void* data, uint64_t size);
  void writer_loop();
  // Throws the queued writes' first error, if any; `lock` held.
  void rethrow_error_locked();

  ByteSink& target_;
  std::vector<std::vector<uint8_t>> slots_;
  std::vector<std::size_t> free_slots_;
  std::deque<Piece> queue_;
  bool writing_ = false;   // the thread is inside a call to target_
  bool stopping_ = false;
  std::exception_ptr error_;
  std::mutex mutex_;
  std::condition_variable queued_;    // a piece was queued, or stopping_
  std::condition_variable progress_;  // a slot came free, or the queue ran empty
  std::vector<std::thread> thread_;   // empty: synchronous
};

}  // namespace qfp8
