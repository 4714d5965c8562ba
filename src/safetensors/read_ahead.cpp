// read_ahead.cpp — the read-ahead thread (read_ahead.hpp).
#include "safetensors/read_ahead.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/thread_start.hpp"

namespace qfp8 {
namespace {

// Each step touches and drops this much: one fault-granule-sized folio (2 MiB) is what one
// fault may map anyway.
constexpr uint64_t kStep = uint64_t{2} << 20;
constexpr uint64_t kPage = 4096;  // touching every 4 KiB reaches every page of any size
// Asked for (MADV_WILLNEED) this far past the end of the step being touched, so that the disk
// has requests queued while this thread waits for a CPU the scan keeps busy: on 2 cores this
// took verify --against from 1.10-1.20x to 1.01-1.08x the time of `cat` (16 MiB was no
// better).
constexpr uint64_t kQueued = 4 * kStep;

/// Reads one byte of every page of [data, data + length): the kernel fills the page cache
/// (and its sequential read-ahead runs ahead of the faults).
void touch_pages(const uint8_t* data, uint64_t length) {
  if (length == 0) return;
  const volatile uint8_t* bytes = data;
  uint8_t sink = 0;
  for (uint64_t offset = 0; offset < length; offset += kPage) sink ^= bytes[offset];
  sink ^= bytes[length - 1];
  static_cast<void>(sink);
}

}  // namespace

ReadAhead::ReadAhead(std::vector<Span> spans, uint64_t window, ReadStep read_step,
                     ReadStep queue_step)
    : spans_(std::move(spans)),
      read_step_(std::move(read_step)),
      queue_step_(std::move(queue_step)),
      window_(window) {
  if (!read_step_) {
    read_step_ = [](const Span& span, uint64_t offset, uint64_t length) {
      touch_pages(span.file->bytes(*span.tensor).data + offset, length);
      span.file->release_part(*span.tensor, offset, length);
    };
  }
  if (!queue_step_) {
    queue_step_ = [](const Span& span, uint64_t offset, uint64_t length) {
      span.file->prefetch_part(*span.tensor, offset, length);
    };
  }
  uint64_t total = 0;
  for (const Span& span : spans_) span_ends_.push_back(total += span.tensor->byte_size());
  std::vector<std::thread> started;
  const StartedThreads result = start_threads(started, 1, [this](unsigned) { run(); }, {});
  if (result.started == 1) {
    thread_ = std::move(started.front());
  } else {  // a process limit: the checks read on demand instead
    log_debug("no read-ahead thread: {}", result.failure);
  }
}

ReadAhead::~ReadAhead() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  moved_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReadAhead::done(std::size_t count) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    done_ = std::max(done_, std::min(count, spans_.size()));
  }
  moved_.notify_all();
}

bool ReadAhead::wait_for_window(uint64_t position) {
  std::unique_lock<std::mutex> lock(mutex_);
  moved_.wait(lock, [&] {
    const uint64_t finished = done_ == 0 ? 0 : span_ends_[done_ - 1];
    return stop_ || position < finished + window_;
  });
  return !stop_;
}

void ReadAhead::queue_through(uint64_t end) {
  while (queued_ < end && queued_span_ < spans_.size()) {
    const uint64_t span_begin = queued_span_ == 0 ? 0 : span_ends_[queued_span_ - 1];
    const uint64_t span_end = span_ends_[queued_span_];
    const uint64_t stop = std::min(end, span_end);
    if (stop > queued_) {
      queue_step_(spans_[queued_span_], queued_ - span_begin, stop - queued_);
      queued_ = stop;
    }
    if (queued_ == span_end) ++queued_span_;
  }
}

void ReadAhead::run() {
  uint64_t position = 0;
  for (const Span& span : spans_) {
    const uint64_t size = span.tensor->byte_size();
    for (uint64_t offset = 0; offset < size; offset += kStep) {
      if (!wait_for_window(position + offset)) return;
      const uint64_t length = std::min(kStep, size - offset);
      queue_through(position + offset + length + kQueued);
      read_step_(span, offset, length);
    }
    position += size;
  }
}

}  // namespace qfp8
