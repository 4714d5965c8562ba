// backend_checks.hpp — the selftest's checks that run through a QuantizeBackend (CPU or
// CUDA), and the tally that prints each result as it comes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "backends/backend.hpp"
#include "selftest/selftest_check.hpp"

namespace qfp8::selftest {

/// Prints each check ("[PASS] name: summary" and its detail lines) and counts failures.
struct Tally {
  int failed = 0;
  void print(const SelftestCheck& check);
  /// Runs `body`; an Error other than CudaFailure becomes a failed check named `name`,
  /// CudaFailure propagates (the device is broken: exit 3).
  void run(const std::string& name, const std::function<SelftestCheck()>& body);
};

/// Value sweep, synthetic tensors, Inf/NaN handling, a rerun after the errors and the whole
/// pipeline through `backend`. `label` tells apart two configurations of one backend in
/// the output; `big_bytes` is the staging size the "big" tensors exceed.
void run_backend_checks(Tally& tally, QuantizeBackend& backend, const std::string& label,
                        uint64_t big_bytes);

}  // namespace qfp8::selftest
