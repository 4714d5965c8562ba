// termination.hpp — the process-wide handlers that remove partial outputs when the
// process is ended from outside: POSIX signals (SIGINT, SIGTERM, ... and the crash
// signals; SIGBUS on a truncated memory-mapped input) or Windows console control events
// (Ctrl-C, Ctrl-Break, closing the console, log-off, shut-down).
#pragma once

#include <cstddef>

namespace qfp8::platform {

/// Installs the handlers once: `cleanup` runs (async-signal-safe: it may only call
/// remove_file_now) and the process then ends as it would have without them;
/// `input_fault` runs for a fault on a memory-mapped input (SIGBUS; Windows has no such
/// event: a mapped file cannot be truncated there) and must end the process itself. A
/// signal inherited as ignored (nohup) stays ignored.
void install_termination_handlers(void (*cleanup)() noexcept, void (*input_fault)() noexcept);
/// Ignores SIGPIPE and SIGXFSZ, so that they surface as EPIPE/EFBIG errors (no-op on
/// Windows, which has neither).
void ignore_pipe_and_file_size_signals();

/// Async-signal-safe: removes `path` (a NUL-terminated UTF-8 path), ignoring failures.
void remove_file_now(const char* path) noexcept;
/// Async-signal-safe: writes to stderr and ends the process with `status`, no clean-up.
[[noreturn]] void write_error_and_exit(const char* message, std::size_t length, int status) noexcept;

}  // namespace qfp8::platform
