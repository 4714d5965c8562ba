// staging_reader.cpp — StagingReader: chunk k of the run goes to slot k % slots. Reader
// threads claim chunks in order; each slot cycles Free -> Filling (a reader) -> Filled ->
// Taken (caller) -> Released (caller queued its copy) -> Filling (a reader, in
// WaitSlotFree, then copying) -> Filled again, with chunks k, k + slots, k + 2 slots...
#include "backends/cuda/staging_reader.hpp"

#include <algorithm>
#include <cstring>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/scoped_timer.hpp"

namespace qfp8 {

uint64_t staged_bytes(const QuantizeJob& job) {
  return is_float_source(job.dtype) ? job.numel * dtype_size(job.dtype) : 0;
}

StagingReader::StagingReader(const std::vector<uint8_t*>& slots, uint64_t slot_bytes,
                             const std::vector<QuantizeJob>& jobs, WaitSlotFree wait_slot_free,
                             unsigned threads, const ThreadStarter& starter)
    : buffers_(slots),
      slot_bytes_(slot_bytes),
      jobs_(jobs),
      wait_slot_free_(std::move(wait_slot_free)),
      slots_(slots.size()) {
  if (buffers_.empty() || slot_bytes_ == 0) {
    throw Error(ErrorCode::Internal, "", "", "cannot stage: no staging buffer");
  }
  if (!wait_slot_free_) {
    throw Error(ErrorCode::Internal, "", "", "cannot stage: no wait for a slot's last use");
  }
  for (const QuantizeJob& job : jobs_) {
    total_chunks_ += (staged_bytes(job) + slot_bytes_ - 1) / slot_bytes_;
  }
  for (std::size_t index = 0; index < slots_.size(); ++index) slots_[index].next_chunk = index;
  // More threads than slots would only wait: chunk k can go nowhere but slot k % slots.
  start_readers(std::clamp<unsigned>(threads, 1, static_cast<unsigned>(slots_.size())), starter);
}

void StagingReader::start_readers(unsigned wanted, const ThreadStarter& starter) {
  StartedThreads started;
  {
    // Counted before they start: a reader that finishes at once decrements the count.
    const std::lock_guard<std::mutex> lock(mutex_);
    readers_running_ = wanted;
  }
  try {
    started = start_threads(threads_, wanted, [this](unsigned) { read_chunks(); }, starter);
  } catch (...) {  // not a refused thread: stop those that run (no destructor will)
    stop_and_join();
    throw;
  }
  if (started.started == 0) {
    throw Error(ErrorCode::ThreadStartFailed,
                "cannot start a staging reader thread: " + started.failure +
                    " (a process or PID limit: ulimit -u, or a container's pids.max?)");
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    readers_running_ -= wanted - started.started;
    totals_.threads = started.started;
  }
  if (started.started < wanted) {
    warn_fewer_threads("the staging readers", started.started, wanted, started.failure);
  }
}

StagingReader::~StagingReader() { stop_and_join(); }

void StagingReader::stop_and_join() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

std::optional<StagingReader::Claim> StagingReader::next_claim_locked() {
  if (claimed_ == total_chunks_) return std::nullopt;
  while (claim_offset_ == staged_bytes(jobs_[claim_job_])) {  // skip done and empty jobs
    ++claim_job_;
    claim_offset_ = 0;
  }
  const uint64_t bytes = staged_bytes(jobs_[claim_job_]);
  const uint64_t size = std::min(slot_bytes_, bytes - claim_offset_);
  const std::size_t slot = claimed_ % slots_.size();
  Claim claim{claimed_, {slot, claim_job_, claim_offset_, size, claim_offset_ + size == bytes}};
  ++claimed_;
  claim_offset_ += size;
  return claim;
}

std::optional<StagingReader::Claim> StagingReader::claim_next_chunk() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopping_ || error_) return std::nullopt;
  const std::optional<Claim> claim = next_claim_locked();
  if (!claim) return std::nullopt;
  // The slot's previous chunk (claim - slots) must have been filled, taken and released.
  // Claims are made in order and the caller takes in order, so that chunk is either filled
  // or claimed by a thread not waiting on anything later: no cycle, no deadlock.
  Slot& slot = slots_[claim->chunk.slot];
  changed_.wait(lock, [&] {
    return stopping_ || error_ ||
           (slot.next_chunk == claim->index &&
            (slot.state == SlotState::Free || slot.state == SlotState::Released));
  });
  if (stopping_ || error_) return std::nullopt;
  const bool released = slot.state == SlotState::Released;
  slot.state = SlotState::Filling;
  lock.unlock();
  // Outside the lock: this may wait on the device for a while.
  if (released) wait_slot_free_(claim->chunk.slot);
  return claim;
}

void StagingReader::read_chunks() {
  try {
    while (true) {
      double slot_wait_seconds = 0;
      double copy_seconds = 0;
      std::optional<Claim> claim;
      {
        const ScopedTimer timer(slot_wait_seconds);
        claim = claim_next_chunk();
      }
      if (!claim) break;
      const StagedChunk& chunk = claim->chunk;
      {
        const ScopedTimer timer(copy_seconds);
        // The slot is this thread's alone until it is marked Filled.
        std::memcpy(buffers_[chunk.slot], jobs_[chunk.job].source + chunk.offset, chunk.size);
      }
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        Slot& slot = slots_[chunk.slot];
        slot.chunk = chunk;
        slot.state = SlotState::Filled;
        slot.next_chunk = claim->index + slots_.size();
        totals_.bytes += chunk.size;
        totals_.copy_seconds += copy_seconds;
        totals_.slot_wait_seconds += slot_wait_seconds;
      }
      changed_.notify_all();
    }
  } catch (...) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    --readers_running_;
  }
  changed_.notify_all();
}

std::optional<StagedChunk> StagingReader::take_locked(std::unique_lock<std::mutex>& lock,
                                                      bool block, std::optional<std::size_t> job) {
  if (taken_ == total_chunks_) return std::nullopt;
  Slot& slot = slots_[taken_ % slots_.size()];
  if (block && slot.state == SlotState::Taken) {  // the caller still holds chunk taken_ - slots
    throw Error(ErrorCode::Internal, "", "",
                "cannot stage: the next chunk's slot was taken and not released");
  }
  const auto ready = [&] {
    return slot.state == SlotState::Filled || error_ || readers_running_ == 0;
  };
  if (block) changed_.wait(lock, ready);
  if (error_ && block) std::rethrow_exception(error_);
  if (slot.state != SlotState::Filled) {
    if (block) {  // the readers ended without this chunk: they stopped
      throw Error(ErrorCode::Internal, "", "", "cannot stage: the readers stopped early");
    }
    return std::nullopt;
  }
  if (job && slot.chunk.job != *job) return std::nullopt;
  slot.state = SlotState::Taken;
  ++taken_;
  return slot.chunk;
}

std::optional<StagedChunk> StagingReader::take() {
  std::unique_lock<std::mutex> lock(mutex_);
  return take_locked(lock, true, std::nullopt);
}

std::optional<StagedChunk> StagingReader::try_take(std::size_t job) {
  std::unique_lock<std::mutex> lock(mutex_);
  return take_locked(lock, false, job);
}

void StagingReader::release(std::size_t slot) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (slot >= slots_.size() || slots_[slot].state != SlotState::Taken) {
      throw Error(ErrorCode::Internal, "", "", "cannot release a staging slot not taken");
    }
    slots_[slot].state = SlotState::Released;
  }
  changed_.notify_all();
}

StagingReader::Totals StagingReader::totals() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return totals_;
}

}  // namespace qfp8
