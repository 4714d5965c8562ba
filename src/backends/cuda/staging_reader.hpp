// staging_reader.hpp — threads that copy the source bytes of a run of quantize jobs, chunk
// by chunk, into a ring of caller-owned staging buffers (the CUDA backend's pinned slots),
// for the caller to take strictly in order. The copy out of the memory map — the host's
// share of an upload, and where page faults on a cold input are paid — then runs while the
// caller transfers, launches kernels and hands the previous tensor's FP8 bytes to the
// writer. One thread copies at one core's memcpy speed, below what a PCIe 5 link takes
// (docs/benchmarks.md#staging-readers), so several copy different chunks at once. Plain
// C++: tested on the CPU with a fake transfer.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "backends/backend.hpp"
#include "core/thread_start.hpp"

namespace qfp8 {

/// The source bytes a job stages: all of an F16/BF16/F32 job's, none of a job the backends
/// reject (it must not size buffers or cost a copy before it is refused).
uint64_t staged_bytes(const QuantizeJob& job);

/// One filled staging slot: bytes [offset, offset + size) of job `job`'s source.
struct StagedChunk {
  std::size_t slot = 0;
  std::size_t job = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  bool last_of_job = false;
};

class StagingReader {
 public:
  /// Wait until the caller's use of a released slot is over (the CUDA backend: until the
  /// slot's host-to-device copy has finished). Called on the reader thread, before the
  /// slot is filled again; may throw (the error reaches the caller's next take()).
  using WaitSlotFree = std::function<void(std::size_t slot)>;

  /// Starts `threads` reader threads (clamped to 1..slots); when the system refuses some
  /// (std::system_error from `starter`, empty = std::thread) it runs with those it got and
  /// warns, and throws ThreadStartFailed if it got none. `slots` buffers of `slot_bytes`
  /// each stay owned by the caller and must outlive this object; `jobs` too. Jobs of 0
  /// staged_bytes() have no chunks. WaitSlotFree may be called on several threads at once,
  /// never twice at once for the same slot.
  StagingReader(const std::vector<uint8_t*>& slots, uint64_t slot_bytes,
                const std::vector<QuantizeJob>& jobs, WaitSlotFree wait_slot_free,
                unsigned threads = 1, const ThreadStarter& starter = {});
  // The jobs are read by the threads after the constructor returns: no temporaries.
  StagingReader(const std::vector<uint8_t*>& slots, uint64_t slot_bytes,
                std::vector<QuantizeJob>&& jobs, WaitSlotFree wait_slot_free,
                unsigned threads = 1, const ThreadStarter& starter = {}) = delete;
  /// Stops the threads and waits for them (after their current copy or wait, never longer).
  ~StagingReader();
  StagingReader(const StagingReader&) = delete;
  StagingReader& operator=(const StagingReader&) = delete;

  /// Blocks until the next chunk in order is filled and returns it; nullopt when every
  /// chunk has been taken. Rethrows the first error of a reader thread as soon as there is
  /// one (the run is lost anyway). Throws Internal instead of waiting forever when the
  /// next chunk's slot is still taken: release each chunk before taking `slots` more.
  std::optional<StagedChunk> take();
  /// The next chunk in order if it is already filled and belongs to `job`; never blocks
  /// and never throws for a reader thread's error (a peek must not cut the current tensor
  /// short): the next take() throws it.
  std::optional<StagedChunk> try_take(std::size_t job);
  /// The caller has queued its use of the taken chunk's slot; once WaitSlotFree says that
  /// use is over, the reader may refill the slot.
  void release(std::size_t slot);

  /// What the reader threads have done so far: bytes copied out of the input, and their
  /// seconds spent copying and waiting for a slot (for the caller to release it, then in
  /// WaitSlotFree), summed over the threads.
  struct Totals {
    unsigned threads = 0;
    uint64_t bytes = 0;
    double copy_seconds = 0;
    double slot_wait_seconds = 0;
  };
  Totals totals();

 private:
  // Filling: a reader owns the slot (waits in WaitSlotFree, or copies into it).
  enum class SlotState { Free, Filling, Filled, Taken, Released };
  struct Slot {
    SlotState state = SlotState::Free;
    uint64_t next_chunk = 0;  // the chunk this slot is filled with next (k, k + slots, ...)
    StagedChunk chunk;
  };
  // A chunk a reader thread has claimed: chunk number `index` of the run.
  struct Claim {
    uint64_t index = 0;
    StagedChunk chunk;
  };

  void start_readers(unsigned wanted, const ThreadStarter& starter);
  void stop_and_join();
  void read_chunks();
  // Claims the next chunk in order and waits until its slot may take it; nullopt when
  // every chunk is claimed, or on stop or another thread's error.
  std::optional<Claim> claim_next_chunk();
  // Under the lock: the next chunk in order, or nullopt when all are claimed.
  std::optional<Claim> next_claim_locked();
  std::optional<StagedChunk> take_locked(std::unique_lock<std::mutex>& lock, bool block,
                                         std::optional<std::size_t> job);

  std::vector<uint8_t*> buffers_;
  uint64_t slot_bytes_;
  const std::vector<QuantizeJob>& jobs_;
  WaitSlotFree wait_slot_free_;
  uint64_t total_chunks_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;  // any slot's state, stop, error or reader exit
  std::vector<Slot> slots_;
  uint64_t claimed_ = 0;         // chunks claimed by reader threads so far
  std::size_t claim_job_ = 0;    // where the next claim starts: job and byte offset
  uint64_t claim_offset_ = 0;
  uint64_t taken_ = 0;  // chunks handed to the caller so far (the next is taken_)
  Totals totals_;
  bool stopping_ = false;
  unsigned readers_running_ = 0;
  std::exception_ptr error_;  // the first error of any reader thread
  std::vector<std::thread> threads_;  // last: started once everything above is ready
};

}  // namespace qfp8
