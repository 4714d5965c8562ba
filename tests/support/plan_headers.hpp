// plan_headers.hpp — parsed headers built in code for the planner's tests (no file, no
// reader): tensors laid out contiguously in the given order; and the plan's decision for
// a tensor, which fails the test when the plan has none.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "plan/conversion_plan.hpp"
#include "safetensors/tensor_info.hpp"

namespace qfp8::test {

struct TensorSpec {
  std::string name;
  Dtype dtype;
  std::vector<uint64_t> shape;
};

inline Header make_header(const std::vector<TensorSpec>& specs,
                          std::map<std::string, std::string> metadata = {}) {
  Header header;
  uint64_t offset = 0;
  for (const auto& spec : specs) {
    TensorInfo tensor;
    tensor.name = spec.name;
    tensor.dtype = spec.dtype;
    tensor.shape = spec.shape;
    tensor.numel = 1;
    for (const auto dim : spec.shape) tensor.numel *= dim;
    tensor.begin = offset;
    offset += tensor.numel * dtype_size(spec.dtype);
    tensor.end = offset;
    header.tensors.push_back(tensor);
  }
  header.data_size = offset;
  header.has_metadata = !metadata.empty();
  header.metadata = std::move(metadata);
  return header;
}

inline const TensorDecision& decision_for(const ConversionPlan& plan, const std::string& name) {
  for (const auto& decision : plan.decisions) {
    if (decision.name == name) return decision;
  }
  FAIL("no decision for " << name);
  throw std::logic_error("unreachable");
}

inline std::string reason(const ConversionPlan& plan, const std::string& name) {
  return decision_for(plan, name).reason;
}

}  // namespace qfp8::test
