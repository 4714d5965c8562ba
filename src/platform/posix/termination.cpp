// termination.cpp (POSIX) — the ending signals: clean up, then let the signal terminate
// the process as it would have (default action, re-raised); SIGBUS: the input fault.
#include "platform/termination.hpp"

#include <csignal>
#include <mutex>
#include <unistd.h>

namespace qfp8::platform {
namespace {

void (*g_cleanup)() noexcept = nullptr;
void (*g_input_fault)() noexcept = nullptr;

void clean_up_and_die(int signal_number) {
  g_cleanup();
  // Let the signal do what it would have done without us (terminate, with the right
  // status for the parent shell): default action, then re-raise. The signal stays blocked
  // until this handler returns, so it is delivered right after.
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(signal_number, &action, nullptr);
  ::raise(signal_number);
}

void input_fault(int) { g_input_fault(); }

// Every signal whose default action ends the process and that a handler can catch: the
// ones a user or the system sends (terminal hang-up, Ctrl-C, Ctrl-\, kill, timers, CPU
// limits) and the crashes (abort, a bad access or instruction). Not SIGKILL/SIGSTOP (cannot
// be caught), SIGPIPE/SIGXFSZ (main ignores them: they become EPIPE/EFBIG errors), SIGBUS
// (its own handler). The real-time signals are added at run time (SIGRTMIN is not a
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

void install_termination_handlers(void (*cleanup)() noexcept, void (*on_input_fault)() noexcept) {
  static std::once_flag installed;
  std::call_once(installed, [&] {
    g_cleanup = cleanup;
    g_input_fault = on_input_fault;
    // Every signal stays blocked while a handler runs, so the files are unlinked once and a
    // second signal cannot interrupt the cleanup.
    sigset_t mask;
    sigfillset(&mask);
    for (const int signal_number : kEndingSignals) {
      catch_unless_ignored(signal_number, clean_up_and_die, mask);
    }
    for (int signal_number = SIGRTMIN; signal_number <= SIGRTMAX; ++signal_number) {
      catch_unless_ignored(signal_number, clean_up_and_die, mask);
    }
    struct sigaction fault {};
    fault.sa_handler = input_fault;
    sigemptyset(&fault.sa_mask);
    ::sigaction(SIGBUS, &fault, nullptr);
  });
}

void ignore_pipe_and_file_size_signals() {
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
}

void remove_file_now(const char* path) noexcept { ::unlink(path); }

void write_error_and_exit(const char* message, std::size_t length, int status) noexcept {
  const ssize_t ignored = ::write(STDERR_FILENO, message, length);
  (void)ignored;
  ::_exit(status);
}

}  // namespace qfp8::platform
