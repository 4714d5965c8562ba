// output_tensors.hpp — the output tensors a plan's decisions produce, per layout
// (docs/format.md#layer, #legacy): kept tensors (copied, or rounded to BF16 with --keep-dtype
// bf16), and for each quantized layer its FP8 weight plus the layout's companions. Internal to
// src/plan.
#pragma once

#include <string>
#include <vector>

#include "plan/conversion_plan.hpp"

namespace qfp8 {

struct PlannedOutput {
  OutputTensorPlan plan;
  PlannedTensor tensor;
};

/// The suffixes a quantized layer of `format` adds in `layout`: names the input must not
/// hold already.
std::vector<std::string> companion_suffixes(OutputLayout layout, QuantFormat format);

/// The output tensors (unordered) for `decisions`, whose output names are already set and
/// whose input tensors are `sources` (same order); with `Legacy` and at least one quantized
/// layer, the `scaled_fp8` marker too.
std::vector<PlannedOutput> plan_output_tensors(const std::vector<const TensorInfo*>& sources,
                                               const std::vector<TensorDecision>& decisions,
                                               const PlanOptions& options);

}  // namespace qfp8
