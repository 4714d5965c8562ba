// error.cpp — names, exit codes and message formatting for qfp8::Error.
#include "core/error.hpp"

#include <cstring>

namespace qfp8 {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Usage: return "Usage";
    case ErrorCode::HeaderTooSmall: return "HeaderTooSmall";
    case ErrorCode::HeaderTooLarge: return "HeaderTooLarge";
    case ErrorCode::InvalidHeaderLength: return "InvalidHeaderLength";
    case ErrorCode::InvalidHeaderStart: return "InvalidHeaderStart";
    case ErrorCode::InvalidHeader: return "InvalidHeader";
    case ErrorCode::InvalidHeaderDeserialization: return "InvalidHeaderDeserialization";
    case ErrorCode::DuplicateKey: return "DuplicateKey";
    case ErrorCode::UnsupportedDtype: return "UnsupportedDtype";
    case ErrorCode::InvalidOffset: return "InvalidOffset";
    case ErrorCode::ValidationOverflow: return "ValidationOverflow";
    case ErrorCode::TensorInvalidInfo: return "TensorInvalidInfo";
    case ErrorCode::MetadataIncompleteBuffer: return "MetadataIncompleteBuffer";
    case ErrorCode::InputChanged: return "InputChanged";
    case ErrorCode::NonFiniteWeight: return "NonFiniteWeight";
    case ErrorCode::NameClash: return "NameClash";
    case ErrorCode::AlreadyQuantized: return "AlreadyQuantized";
    case ErrorCode::NotAConversionTarget: return "NotAConversionTarget";
    case ErrorCode::NothingToQuantize: return "NothingToQuantize";
    case ErrorCode::InvalidPlan: return "InvalidPlan";
    case ErrorCode::VerificationFailed: return "VerificationFailed";
    case ErrorCode::OpenFailed: return "OpenFailed";
    case ErrorCode::ReadFailed: return "ReadFailed";
    case ErrorCode::WriteFailed: return "WriteFailed";
    case ErrorCode::OutputExists: return "OutputExists";
    case ErrorCode::Interrupted: return "Interrupted";
    case ErrorCode::CudaFailure: return "CudaFailure";
    case ErrorCode::CudaUnavailable: return "CudaUnavailable";
    case ErrorCode::ThreadStartFailed: return "ThreadStartFailed";
    case ErrorCode::Internal: return "Internal";
  }
  return "Unknown";
}

int exit_code_for(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Usage:
      return kExitUsage;
    case ErrorCode::OpenFailed:
    case ErrorCode::ReadFailed:
    case ErrorCode::WriteFailed:
    case ErrorCode::OutputExists:
    case ErrorCode::Interrupted:
    case ErrorCode::CudaFailure:
    case ErrorCode::CudaUnavailable:
    case ErrorCode::ThreadStartFailed:
      return kExitIo;
    case ErrorCode::Internal:
      return kExitInternal;
    default:
      return kExitInvalid;
  }
}

namespace {
std::string compose(const std::string& file, const std::string& tensor,
                    const std::string& detail) {
  std::string out;
  // Name the file once: I/O details already read "cannot open 'x': ...".
  const bool detail_names_file = detail.find("'" + file + "'") != std::string::npos;
  if (!file.empty() && !detail_names_file) out += file + ": ";
  if (!tensor.empty()) out += "tensor '" + tensor + "': ";
  out += detail;
  return out;
}
}  // namespace

Error::Error(ErrorCode code, std::string file, std::string tensor, std::string detail)
    : std::runtime_error(compose(file, tensor, detail)),
      code_(code),
      file_(std::move(file)),
      tensor_(std::move(tensor)),
      detail_(std::move(detail)) {}

std::string error_message(const Error& error) {
  if (error.code() != ErrorCode::Internal) return error.what();
  return std::string("internal error (a bug in qfp8-cuda, please report it): ") + error.what();
}

std::string with_errno(const std::string& what, int errno_value) {
  return what + ": " + std::strerror(errno_value);
}

std::string with_error(const std::string& what, const std::error_code& error) {
  return what + ": " + error.message();
}

}  // namespace qfp8
