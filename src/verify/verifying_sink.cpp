// verifying_sink.cpp — verify the temporary file, then let the atomic sink rename it.
#include "verify/verifying_sink.hpp"

#include "core/error.hpp"

namespace qfp8::verify {

void require_passed(const VerifyResult& result, const std::string& file_label) {
  if (!result.passed())
    throw Error(ErrorCode::VerificationFailed, file_label, "", failure_summary(result));
}

VerifyingSink::VerifyingSink(AtomicFileSink& target, VerifyOptions options,
                             std::function<void(const VerifyResult&)> on_result)
    : target_(target), options_(std::move(options)), on_result_(std::move(on_result)) {}

void VerifyingSink::commit() {
  // The bytes were written through the file descriptor; a fresh mapping of the same file
  // sees them through the page cache, so no fsync is needed before reading them back.
  const VerifyResult result = verify_file(target_.temp_path(), options_);
  if (on_result_) on_result_(result);
  require_passed(result, target_.target());
  target_.commit();
}

}  // namespace qfp8::verify
