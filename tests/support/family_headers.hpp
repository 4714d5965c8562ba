// family_headers.hpp — headers for the model-family tests: a model written as a list of
// (name, shape) pairs, every tensor BF16 (detection and keep rules read names and shapes
// only), optionally under a prefix, combined with `+` and edited with `without`; and what
// the planner detects in one.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "plan/conversion_plan.hpp"
#include "plan/model_families.hpp"
#include "safetensors/tensor_info.hpp"
#include "support/plan_headers.hpp"

namespace qfp8::test {

struct ShapeSpec {
  std::string name;
  std::vector<uint64_t> shape;
};

/// A BF16 header of `specs`, every name prefixed with `prefix`.
inline Header family_header(const std::vector<ShapeSpec>& specs, const std::string& prefix = "") {
  std::vector<TensorSpec> tensors;
  for (const auto& spec : specs) tensors.push_back({prefix + spec.name, Dtype::BF16, spec.shape});
  return make_header(tensors);
}

inline std::vector<ShapeSpec> operator+(std::vector<ShapeSpec> a, const std::vector<ShapeSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// `specs` less the tensor called `name`.
inline std::vector<ShapeSpec> without(std::vector<ShapeSpec> specs, const std::string& name) {
  std::vector<ShapeSpec> kept;
  for (auto& spec : specs) {
    if (spec.name != name) kept.push_back(std::move(spec));
  }
  return kept;
}

/// The family the plan applies (as --preset auto does), "" when none or several match.
inline std::string detected(const std::vector<ShapeSpec>& specs, const std::string& prefix = "") {
  return make_conversion_plan(family_header(specs, prefix), {}, "in").detected_model;
}

/// The detection line of the one family that matches ("flux1 from ... (variant: ...)").
inline std::string describe_only(const std::vector<ShapeSpec>& specs) {
  const FamilyDetection detection = detect_model_family(family_header(specs));
  REQUIRE(detection.unique() != nullptr);
  return describe_match(*detection.unique());
}

}  // namespace qfp8::test
