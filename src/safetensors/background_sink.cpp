// background_sink.cpp — the writer thread of BackgroundWriteSink: pieces in FIFO order (a
// write_at of a deferred scale always follows the write of the bytes it overwrites), the
// first error kept for the caller, the rest of the queue dropped after it.
#include "safetensors/background_sink.hpp"

#include <algorithm>
#include <cstring>

namespace qfp8 {

BackgroundWriteSink::BackgroundWriteSink(ByteSink& target, const ThreadStarter& starter)
    : target_(target), slots_(kSlots) {
  for (std::size_t slot = kSlots; slot-- > 0;) free_slots_.push_back(slot);
  const StartedThreads started =
      start_threads(thread_, 1, [this](unsigned) { writer_loop(); }, starter);
  if (started.started == 0) warn_fewer_threads("the output writer", 0, 1, started.failure);
}

BackgroundWriteSink::~BackgroundWriteSink() {
  if (thread_.empty()) return;
  {
    // Not committed (an error elsewhere): what is still queued is not needed.
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  thread_.front().join();
}

void BackgroundWriteSink::write(const void* data, uint64_t size) {
  if (thread_.empty()) return target_.write(data, size);
  enqueue(false, 0, data, size);
}

void BackgroundWriteSink::write_at(uint64_t offset, const void* data, uint64_t size) {
  if (thread_.empty()) return target_.write_at(offset, data, size);
  enqueue(true, offset, data, size);
}

void BackgroundWriteSink::commit() {
  if (!thread_.empty()) {
    std::unique_lock<std::mutex> lock(mutex_);
    progress_.wait(lock, [this] { return (queue_.empty() && !writing_) || error_ != nullptr; });
    rethrow_error_locked();
  }
  target_.commit();
}

void BackgroundWriteSink::enqueue(bool at_offset, uint64_t offset, const void* data,
                                  uint64_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint64_t done = 0;
  do {  // a zero-byte write is queued too: the target sees every call
    const uint64_t piece_size = std::min(kSlotBytes, size - done);
    std::unique_lock<std::mutex> lock(mutex_);
    progress_.wait(lock, [this] { return !free_slots_.empty() || error_ != nullptr; });
    rethrow_error_locked();
    const std::size_t slot = free_slots_.back();
    free_slots_.pop_back();
    lock.unlock();
    // Only this thread touches a slot between taking it and queueing it.
    std::vector<uint8_t>& buffer = slots_[slot];
    if (buffer.size() < piece_size) buffer.resize(kSlotBytes);
    if (piece_size != 0) std::memcpy(buffer.data(), bytes + done, piece_size);
    lock.lock();
    if (error_ != nullptr) {  // a write failed meanwhile: this piece must not follow it
      free_slots_.push_back(slot);
      rethrow_error_locked();
    }
    queue_.push_back({slot, piece_size, at_offset, offset + done});
    lock.unlock();
    queued_.notify_one();
    done += piece_size;
  } while (done < size);
}

void BackgroundWriteSink::writer_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    queued_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (stopping_) return;
    const Piece piece = queue_.front();
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    std::exception_ptr failure;
    try {
      const uint8_t* bytes = slots_[piece.slot].data();
      if (piece.at_offset) {
        target_.write_at(piece.offset, bytes, piece.size);
      } else {
        target_.write(bytes, piece.size);
      }
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    writing_ = false;
    free_slots_.push_back(piece.slot);
    if (failure != nullptr && error_ == nullptr) error_ = failure;
    if (error_ != nullptr) {
      // Nothing after a failed write may reach the target: the output is abandoned.
      for (const Piece& dropped : queue_) free_slots_.push_back(dropped.slot);
      queue_.clear();
    }
    progress_.notify_all();
  }
}

void BackgroundWriteSink::rethrow_error_locked() {
  if (error_ != nullptr) std::rethrow_exception(error_);
}

}  // namespace qfp8
