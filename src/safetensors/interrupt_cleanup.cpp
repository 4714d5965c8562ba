// interrupt_cleanup.cpp — unlinks live `.partial` and lock files when a signal ends the
// process. The handler may only use async-signal-safe calls, so the paths live in a fixed
// table of char arrays (no allocation), each guarded by a lock-free atomic "in use" flag.
#include "safetensors/byte_sink.hpp"
#include "safetensors/interrupt_cleanup.hpp"

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>
#include <unistd.h>

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

void unlink_temp_files();

void unlink_temp_files_and_die(int signal_number) {
  unlink_temp_files();
  // Let the signal do what it would have done without us (terminate, with the right
  // status for the parent shell): default action, then re-raise. The signal stays blocked
  // until this handler returns, so it is delivered right after.
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(signal_number, &action, nullptr);
  ::raise(signal_number);
}

void unlink_temp_files() {
  for (auto& slot : g_slots) {
    if (slot.used.load(std::memory_order_acquire)) ::unlink(slot.path);
  }
}

// SIGBUS on a read of the memory-mapped input means the file shrank (or its storage failed)
// after it was validated. Unwinding out of a fault in arbitrary code is not possible
// safely, so the handler does what main() would do for an InputChanged error: remove the
// partial output, say why, and exit 2 — a clean error instead of a crash.
void report_input_fault_and_exit(int) {
  unlink_temp_files();
  static const char kMessage[] =
      "error: the input file was truncated or became unreadable while being read "
      "(SIGBUS on its memory map); no output was written\n";
  const ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  ::_exit(2);
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

namespace {

// Every signal whose default action ends the process and that a handler can catch: the
// ones a user or the system sends (terminal hang-up, Ctrl-C, Ctrl-\, kill, timers, CPU
// limits) and the crashes (abort, a bad access or instruction). Not SIGKILL/SIGSTOP (cannot
// be caught), SIGPIPE/SIGXFSZ (main ignores them: they become EPIPE/EFBIG errors), SIGBUS
// (its own handler below). The real-time signals are added at run time (SIGRTMIN is not a
// constant).
constexpr int kEndingSignals[] = {SIGHUP,  SIGINT,    SIGQUIT,  SIGTERM,   SIGUSR1,
                                  SIGUSR2, SIGALRM,   SIGXCPU,  SIGVTALRM, SIGPROF,
                                  SIGPOLL, SIGPWR,    SIGSTKFLT, SIGSYS,   SIGTRAP,
                                  SIGABRT, SIGSEGV,   SIGILL,   SIGFPE};

// Installs `handler` for `signal_number` unless the process started with the signal
// ignored: `nohup` (SIGHUP) and `cmd &` in a script (SIGINT, SIGQUIT) mean "do not die of
// it", and the conversion must then go on.
void catch_unless_ignored(int signal_number, void (*handler)(int), const sigset_t& mask) {
  struct sigaction previous {};
  if (::sigaction(signal_number, nullptr, &previous) != 0) return;
  if (previous.sa_handler == SIG_IGN) return;
  struct sigaction action {};
  action.sa_handler = handler;
  action.sa_mask = mask;
  ::sigaction(signal_number, &action, nullptr);
}

}  // namespace

void install_interrupt_cleanup() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    // Every signal stays blocked while a handler runs, so the files are unlinked once and a
    // second signal cannot interrupt the cleanup.
    sigset_t mask;
    sigfillset(&mask);
    for (const int signal_number : kEndingSignals) {
      catch_unless_ignored(signal_number, unlink_temp_files_and_die, mask);
    }
    for (int signal_number = SIGRTMIN; signal_number <= SIGRTMAX; ++signal_number) {
      catch_unless_ignored(signal_number, unlink_temp_files_and_die, mask);
    }
    struct sigaction fault {};
    fault.sa_handler = report_input_fault_and_exit;
    sigemptyset(&fault.sa_mask);
    ::sigaction(SIGBUS, &fault, nullptr);
  });
}

}  // namespace qfp8
