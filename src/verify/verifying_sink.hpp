// verifying_sink.hpp — `convert --verify`: a ByteSink that wraps the converter's
// AtomicFileSink and, on commit(), verifies the complete temporary file (format rules and,
// given the source, byte-for-byte re-derivation) BEFORE it is renamed into place. A failed
// verification throws VerificationFailed and leaves the sink uncommitted, so the temporary
// file is removed and no output appears.
#pragma once

#include <cstdint>
#include <functional>

#include "safetensors/byte_sink.hpp"
#include "verify/verify.hpp"

namespace qfp8::verify {

/// Throws Error(VerificationFailed, file_label, "", failure_summary(result)) unless passed.
void require_passed(const VerifyResult& result, const std::string& file_label);

class VerifyingSink final : public ByteSink {
 public:
  /// `options.source_path` is the conversion's input (empty: format rules only).
  /// `on_result`, when set, sees the result (e.g. to log the quality summary) before the
  /// pass/fail decision.
  VerifyingSink(AtomicFileSink& target, VerifyOptions options,
                std::function<void(const VerifyResult&)> on_result = {});

  void write(const void* data, uint64_t size) override { target_.write(data, size); }
  void write_at(uint64_t offset, const void* data, uint64_t size) override {
    target_.write_at(offset, data, size);
  }
  void commit() override;

 private:
  AtomicFileSink& target_;
  VerifyOptions options_;
  std::function<void(const VerifyResult&)> on_result_;
};

}  // namespace qfp8::verify
