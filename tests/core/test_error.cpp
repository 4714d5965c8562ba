// test_error.cpp — the exit code and name of every ErrorCode, written out by hand, and
// the line main() logs: an Internal error says it is a bug in qfp8-cuda, others are what().
#include <catch2/catch.hpp>

#include <string>

#include "core/error.hpp"

namespace {

using qfp8::ErrorCode;

struct CodeRow {
  ErrorCode code;
  int exit_code;
  const char* name;
};

// One row per ErrorCode, in declaration order; the expected numbers are literals so that a
// change of the mapping shows here (docs/usage.md's exit code table says the same).
constexpr CodeRow kRows[] = {
    {ErrorCode::Usage, 1, "Usage"},
    {ErrorCode::HeaderTooSmall, 2, "HeaderTooSmall"},
    {ErrorCode::HeaderTooLarge, 2, "HeaderTooLarge"},
    {ErrorCode::InvalidHeaderLength, 2, "InvalidHeaderLength"},
    {ErrorCode::InvalidHeaderStart, 2, "InvalidHeaderStart"},
    {ErrorCode::InvalidHeader, 2, "InvalidHeader"},
    {ErrorCode::InvalidHeaderDeserialization, 2, "InvalidHeaderDeserialization"},
    {ErrorCode::DuplicateKey, 2, "DuplicateKey"},
    {ErrorCode::UnsupportedDtype, 2, "UnsupportedDtype"},
    {ErrorCode::InvalidOffset, 2, "InvalidOffset"},
    {ErrorCode::ValidationOverflow, 2, "ValidationOverflow"},
    {ErrorCode::TensorInvalidInfo, 2, "TensorInvalidInfo"},
    {ErrorCode::MetadataIncompleteBuffer, 2, "MetadataIncompleteBuffer"},
    {ErrorCode::InputChanged, 2, "InputChanged"},
    {ErrorCode::NonFiniteWeight, 2, "NonFiniteWeight"},
    {ErrorCode::NameClash, 2, "NameClash"},
    {ErrorCode::AlreadyQuantized, 2, "AlreadyQuantized"},
    {ErrorCode::NotAConversionTarget, 2, "NotAConversionTarget"},
    {ErrorCode::NothingToQuantize, 2, "NothingToQuantize"},
    {ErrorCode::InvalidPlan, 2, "InvalidPlan"},
    {ErrorCode::VerificationFailed, 2, "VerificationFailed"},
    {ErrorCode::OpenFailed, 3, "OpenFailed"},
    {ErrorCode::ReadFailed, 3, "ReadFailed"},
    {ErrorCode::WriteFailed, 3, "WriteFailed"},
    {ErrorCode::OutputExists, 3, "OutputExists"},
    {ErrorCode::Interrupted, 3, "Interrupted"},
    {ErrorCode::CudaFailure, 3, "CudaFailure"},
    {ErrorCode::CudaUnavailable, 3, "CudaUnavailable"},
    {ErrorCode::ThreadStartFailed, 3, "ThreadStartFailed"},
    {ErrorCode::Internal, 4, "Internal"},
};

}  // namespace

TEST_CASE("every ErrorCode maps to its exit code and name", "[error]") {
  // Internal is the last enumerator: a code added after it, or a row missing, fails here.
  CHECK(sizeof kRows / sizeof kRows[0] == static_cast<std::size_t>(ErrorCode::Internal) + 1);
  for (std::size_t i = 0; i < sizeof kRows / sizeof kRows[0]; ++i) {
    const CodeRow& row = kRows[i];
    INFO(row.name);
    CHECK(static_cast<std::size_t>(row.code) == i);
    CHECK(qfp8::exit_code_for(row.code) == row.exit_code);
    CHECK(std::string(qfp8::error_code_name(row.code)) == row.name);
  }
}

TEST_CASE("an Internal error is logged as a bug in the tool, others as they read", "[error]") {
  const qfp8::Error internal(ErrorCode::Internal, "", "a.weight", "written out of order");
  CHECK(qfp8::error_message(internal) ==
        "internal error (a bug in qfp8-cuda, please report it): tensor 'a.weight': "
        "written out of order");
  const qfp8::Error invalid(ErrorCode::InvalidPlan, "in.safetensors", "", "header too large");
  CHECK(qfp8::error_message(invalid) == "in.safetensors: header too large");
}
