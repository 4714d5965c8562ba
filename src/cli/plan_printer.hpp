// plan_printer.hpp — the human text of a ConversionPlan for `convert --dry-run`: one line
// per input tensor (action, name, shape, dtypes, reason), then the output's size.
#pragma once

#include <ostream>

#include "plan/conversion_plan.hpp"
#include "safetensors/tensor_info.hpp"

namespace qfp8 {

/// Prints `plan` for `input` (the header the plan was made from) to `out`.
void print_plan(std::ostream& out, const Header& input, const ConversionPlan& plan);

}  // namespace qfp8
