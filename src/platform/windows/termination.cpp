// termination.cpp (Windows) — a console control handler (Ctrl-C, Ctrl-Break, closing the
// console window, log-off, shut-down: Windows' SIGINT/SIGHUP/SIGTERM), the C runtime's
// crash signals (SIGABRT, SIGSEGV, SIGILL, SIGFPE), and a vectored exception handler for
// EXCEPTION_IN_PAGE_ERROR: the read of a memory-mapped input failed (a network drive gone,
// a bad sector), Windows' SIGBUS.
#include "platform/termination.hpp"

#include <csignal>
#include <mutex>

#include "platform/windows/wide_path.hpp"

namespace qfp8::platform {
namespace {

void (*g_cleanup)() noexcept = nullptr;
void (*g_input_fault)() noexcept = nullptr;

// Runs on a thread of its own that Windows starts for the event. The process then ends at
// once with STATUS_CONTROL_C_EXIT (0xC000013A), what the default handler reports for
// Ctrl-C (Wine's reports 0), without running static destructors under the worker threads.
BOOL WINAPI on_console_event(DWORD event) {
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      g_cleanup();
      TerminateProcess(GetCurrentProcess(), 0xC000013A);
      return TRUE;
    default:
      return FALSE;
  }
}

void clean_up_and_die(int signal_number) {
  g_cleanup();
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

LONG WINAPI on_exception(EXCEPTION_POINTERS* exception) {
  if (exception->ExceptionRecord->ExceptionCode == EXCEPTION_IN_PAGE_ERROR) g_input_fault();
  return EXCEPTION_CONTINUE_SEARCH;
}

}  // namespace

void install_termination_handlers(void (*cleanup)() noexcept, void (*on_input_fault)() noexcept) {
  static std::once_flag installed;
  std::call_once(installed, [&] {
    g_cleanup = cleanup;
    g_input_fault = on_input_fault;
    SetConsoleCtrlHandler(on_console_event, TRUE);
    for (const int signal_number : {SIGABRT, SIGSEGV, SIGILL, SIGFPE}) {
      std::signal(signal_number, clean_up_and_die);
    }
    AddVectoredExceptionHandler(1, on_exception);
  });
}

void ignore_pipe_and_file_size_signals() {}  // Windows has neither signal

void remove_file_now(const char* path) noexcept {
  // No allocation: the handler may run while another thread holds the heap's lock.
  wchar_t wide[4096];
  const int length = MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, 4096);
  if (length > 0) DeleteFileW(wide);
}

void write_error_and_exit(const char* message, std::size_t length, int status) noexcept {
  DWORD written = 0;
  WriteFile(GetStdHandle(STD_ERROR_HANDLE), message, static_cast<DWORD>(length), &written, nullptr);
  // As _exit: no atexit handlers, no DLL detach (which could wait on a lock held by the
  // faulting thread).
  TerminateProcess(GetCurrentProcess(), static_cast<UINT>(status));
  ExitProcess(static_cast<UINT>(status));
}

}  // namespace qfp8::platform
