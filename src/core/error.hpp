// error.hpp — the one exception type of qfp8-cuda and the exit codes it maps to.
// Each ErrorCode is named after the rule it enforces (the safetensors reference reader's
// names where one exists). Errors are thrown below main() and caught once, in main().
// Internal is the one code no input can cause: it marks a broken invariant of our own code.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace qfp8 {

enum class ErrorCode {
  // Usage (exit 1).
  Usage,
  // Invalid input or failed verification (exit 2): safetensors container rules,
  // docs/format.md#container-reader.
  HeaderTooSmall,
  HeaderTooLarge,
  InvalidHeaderLength,
  InvalidHeaderStart,
  InvalidHeader,               // not UTF-8
  InvalidHeaderDeserialization,// not JSON / wrong structure / unknown dtype / bad metadata
  DuplicateKey,
  UnsupportedDtype,
  InvalidOffset,
  ValidationOverflow,
  TensorInvalidInfo,
  MetadataIncompleteBuffer,
  InputChanged,                // the mapped input shrank or faulted while being read
  // Conversion rules.
  NonFiniteWeight,
  NameClash,
  AlreadyQuantized,
  NotAConversionTarget,        // a LoRA/LyCORIS adapter, a VAE, or another quantization format
  NothingToQuantize,           // the plan keeps every tensor: the output would be a copy
  InvalidPlan,                 // the options make an output no reader could load
  VerificationFailed,
  // I/O or device (exit 3).
  OpenFailed,
  ReadFailed,
  WriteFailed,
  OutputExists,
  Interrupted,
  CudaFailure,
  CudaUnavailable,
  ThreadStartFailed,           // the system refused every thread a stage needs (PID limit)
  // A bug in qfp8-cuda (exit 4): an invariant our own code should keep was broken (a backend
  // given a dtype the planner never plans, bytes written out of the planned order). No file
  // or option should ever cause it; exit 2 would wrongly blame the input.
  Internal,
};

/// Short, stable name of a code, as printed in messages and JSON logs.
const char* error_code_name(ErrorCode code) noexcept;

/// Process exit code for an error: 1 usage, 2 invalid input / failed verification,
/// 3 I/O or device failure, 4 internal error (a bug in qfp8-cuda).
int exit_code_for(ErrorCode code) noexcept;

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitIo = 3;
inline constexpr int kExitInternal = 4;

/// The one exception type. what() reads "<file>: tensor '<name>': <detail>", with the
/// parts that are empty left out.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string file, std::string tensor, std::string detail);
  Error(ErrorCode code, std::string detail) : Error(code, {}, {}, std::move(detail)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& file() const noexcept { return file_; }
  const std::string& tensor() const noexcept { return tensor_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  ErrorCode code_;
  std::string file_;
  std::string tensor_;
  std::string detail_;
};

/// The line main() logs for an error: what(), and for an Internal error a prefix that tells
/// the user the fault is in the tool, not in their file ("internal error (a bug in ...): ").
std::string error_message(const Error& error);

/// "<what>: <strerror(errno_value)>" — the system's reason appended to our own words.
std::string with_errno(const std::string& what, int errno_value);
/// The same for a system error reported by the platform layer (errno on POSIX: the same
/// text as with_errno; a Windows error code's text on Windows).
std::string with_error(const std::string& what, const std::error_code& error);

}  // namespace qfp8
