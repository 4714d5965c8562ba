// plan_error.hpp — the ErrorCode make_conversion_plan throws for a header, for the tests
// that check which rule refuses a plan; a plan that is made fails the test.
#pragma once

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "plan/conversion_plan.hpp"

namespace qfp8::test {

inline ErrorCode plan_error_code(const Header& header, const PlanOptions& options = {}) {
  try {
    make_conversion_plan(header, options, "in.safetensors");
  } catch (const Error& error) {
    return error.code();
  }
  FAIL("the plan was made");
  return ErrorCode::Internal;
}

}  // namespace qfp8::test
