// convert_verification.cpp — see the header.
#include "cli/convert_verification.hpp"

#include <memory>
#include <string>

#include "core/log.hpp"
#include "verify/quality_report.hpp"
#include "verify/verifying_sink.hpp"

namespace qfp8::cli {
namespace {

/// convert --verify: one line for the user, whatever the outcome (failures are then thrown
/// by the VerifyingSink with the first finding).
void log_verification(const verify::VerifyResult& result, bool against_source) {
  const verify::QualitySummary quality = verify::summarize_quality(result.quality);
  if (!result.passed()) {
    log_error("verify: FAIL, {} error(s) in the converted file", result.error_count());
    return;
  }
  if (!against_source) {
    log_info("verify: PASS, {} layers (format rules only)", result.layers_verified);
    return;
  }
  log_info("verify: PASS, {} layers identical to a re-derivation from the source; "
               "SNR mean {:.1f} dB, min {:.1f} dB ({})",
               result.layers_verified, quality.mean_snr_db, quality.min_snr_db,
               quality.min_snr_layer);
}

}  // namespace

OutputStage verifying_stage(const TensorSource& input, unsigned threads) {
  std::string against = input.shard(0).path();
  if (input.shard_count() > 1) {
    // verify --against re-derives from one source file; a sharded source gets the format
    // rules only.
    log_warn("verify: '{}' has {} shards; checking the format rules only", input.label(),
                 input.shard_count());
    against.clear();
  }
  return [against, threads](AtomicFileSink& file) -> std::unique_ptr<ByteSink> {
    const bool against_source = !against.empty();
    return std::make_unique<verify::VerifyingSink>(
        file, verify::VerifyOptions{against, threads},
        [against_source](const verify::VerifyResult& result) {
          log_verification(result, against_source);
        });
  };
}

}  // namespace qfp8::cli
