// staging_reader.cpp — StagingReader: chunk k of the run goes to slot k % slots. Each slot
// cycles Free -> Filled (reader) -> Taken (caller) -> Released (caller queued its copy)
// -> WaitSlotFree -> Filled again. The caller takes chunks in order, so a slot the reader
// waits for is always one the caller will take and release: no cycle, no deadlock.
#include "convert/staging_reader.hpp"

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
                             const std::vector<QuantizeJob>& jobs, WaitSlotFree wait_slot_free)
    : buffers_(slots),
      slot_bytes_(slot_bytes),
      jobs_(jobs),
      wait_slot_free_(std::move(wait_slot_free)),
      slots_(slots.size()) {
  if (buffers_.empty() || slot_bytes_ == 0) {
    throw Error(ErrorCode::InvalidPlan, "", "", "cannot stage: no staging buffer");
  }
  for (const QuantizeJob& job : jobs_) {
    total_chunks_ += (staged_bytes(job) + slot_bytes_ - 1) / slot_bytes_;
  }
  thread_ = std::thread([this] { read_all(); });
}

StagingReader::~StagingReader() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool StagingReader::wait_for_slot(std::size_t index) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] {
    return stopping_ || slots_[index].state == SlotState::Free ||
           slots_[index].state == SlotState::Released;
  });
  if (stopping_) return false;
  const bool released = slots_[index].state == SlotState::Released;
  lock.unlock();
  // Outside the lock: this may wait on the device for a while.
  if (released) wait_slot_free_(index);
  return true;
}

void StagingReader::read_all() {
  try {
    uint64_t chunk_index = 0;
    for (std::size_t job = 0; job < jobs_.size(); ++job) {
      const uint64_t bytes = staged_bytes(jobs_[job]);
      for (uint64_t offset = 0; offset < bytes; offset += slot_bytes_, ++chunk_index) {
        const std::size_t index = chunk_index % slots_.size();
        double slot_wait_seconds = 0;
        double copy_seconds = 0;
        {
          const ScopedTimer timer(slot_wait_seconds);
          if (!wait_for_slot(index)) return;
        }
        const uint64_t size = std::min(slot_bytes_, bytes - offset);
        {
          const ScopedTimer timer(copy_seconds);
          // The slot is ours alone until it is marked Filled.
          std::memcpy(buffers_[index], jobs_[job].source + offset, size);
        }
        {
          const std::lock_guard<std::mutex> lock(mutex_);
          slots_[index].chunk = {index, job, offset, size, offset + size == bytes};
          slots_[index].state = SlotState::Filled;
          totals_.bytes += size;
          totals_.copy_seconds += copy_seconds;
          totals_.slot_wait_seconds += slot_wait_seconds;
        }
        changed_.notify_all();
      }
    }
  } catch (...) {
    const std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
  }
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    reader_done_ = true;
  }
  changed_.notify_all();
}

std::optional<StagedChunk> StagingReader::take_locked(std::unique_lock<std::mutex>& lock,
                                                      bool block, std::optional<std::size_t> job) {
  if (taken_ == total_chunks_) return std::nullopt;
  Slot& slot = slots_[taken_ % slots_.size()];
  const auto ready = [&] { return slot.state == SlotState::Filled || error_ || reader_done_; };
  if (block) changed_.wait(lock, ready);
  if (error_ && block) std::rethrow_exception(error_);
  if (slot.state != SlotState::Filled) {
    if (block) {  // the reader ended without this chunk: it stopped
      throw Error(ErrorCode::InvalidPlan, "", "", "cannot stage: the reader stopped early");
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
      throw Error(ErrorCode::InvalidPlan, "", "", "cannot release a staging slot not taken");
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
