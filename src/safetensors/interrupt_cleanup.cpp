// interrupt_cleanup.cpp — unlinks live `.partial` and lock files when a signal (or, on
// Windows, a console control event) ends the process (platform/termination.hpp). The
// handler may only use async-signal-safe calls, so the paths live in a fixed table of char
// arrays (no allocation), each guarded by a lock-free atomic "in use" flag.
#include "safetensors/byte_sink.hpp"
#include "safetensors/interrupt_cleanup.hpp"

#include <atomic>
#include <cstring>
#include <mutex>

#include "platform/termination.hpp"

namespace qfp8 {
namespace {

constexpr std::size_t kMaxLiveSinks = 16;  // a sink has a lock file and at most one
                                           // `.partial`; a conversion has one sink
constexpr std::size_t kMaxPathBytes = 4096;  // PATH_MAX on Linux, NUL included

struct Slot {
  std::atomic<bool> used{false};
  char path[kMaxPathBytes];
};

Slot g_slots[kMaxLiveSinks];
std::mutex g_table_mutex;  // between threads; the handler only reads
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs lock-free flags");

void unlink_temp_files() noexcept {
  for (auto& slot : g_slots) {
    if (slot.used.load(std::memory_order_acquire)) platform::remove_file_now(slot.path);
  }
}

// SIGBUS on a read of the memory-mapped input means the file shrank (or its storage failed)
// after it was validated. Unwinding out of a fault in arbitrary code is not possible
// safely, so the handler does what main() would do for an InputChanged error: remove the
// partial output, say why, and exit 2 — a clean error instead of a crash.
void report_input_fault_and_exit() noexcept {
  unlink_temp_files();
  static const char kMessage[] =
      "error: the input file was truncated or became unreadable while being read "
      "(SIGBUS on its memory map); no output was written\n";
  platform::write_error_and_exit(kMessage, sizeof kMessage - 1, 2);
}

}  // namespace

namespace detail {

void register_temp_path(const std::string& path) noexcept {
  if (path.size() >= kMaxPathBytes) return;
  std::lock_guard<std::mutex> lock(g_table_mutex);
  for (auto& slot : g_slots) {
    if (slot.used.load(std::memory_order_relaxed)) continue;
    std::memcpy(slot.path, path.c_str(), path.size() + 1);
    slot.used.store(true, std::memory_order_release);  // publish the path before the flag
    return;
  }
}

void unregister_temp_path(const std::string& path) noexcept {
  std::lock_guard<std::mutex> lock(g_table_mutex);
  for (auto& slot : g_slots) {
    if (slot.used.load(std::memory_order_relaxed) && path == slot.path) {
      slot.used.store(false, std::memory_order_release);
      return;
    }
  }
}

}  // namespace detail

void install_interrupt_cleanup() {
  platform::install_termination_handlers(unlink_temp_files, report_input_fault_and_exit);
}

}  // namespace qfp8
