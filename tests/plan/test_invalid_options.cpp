// test_invalid_options.cpp — renames that make an output no reader could load are the
// user's input, so they stay InvalidPlan (exit 2), not Internal (exit 4, a bug in the tool):
// a --strip-prefix that cuts into ".weight", an --add-prefix that spells "__metadata__",
// prefixed layers declared only in the metadata (--no-comfy-quant).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/conversion_plan.hpp"

using namespace qfp8;

namespace {

/// A header of one tensor at offset 0 (the plan reads names, dtypes and shapes only).
Header one_tensor(const std::string& name, Dtype dtype, std::vector<uint64_t> shape) {
  TensorInfo tensor;
  tensor.name = name;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.numel = 1;
  for (const uint64_t dim : tensor.shape) tensor.numel *= dim;
  tensor.begin = 0;
  tensor.end = tensor.numel * dtype_size(dtype);
  Header header;
  header.tensors.push_back(tensor);
  header.data_size = tensor.end;
  return header;
}

ErrorCode code_of_plan(const Header& header, const PlanOptions& options) {
  try {
    make_conversion_plan(header, options, "in");
  } catch (const Error& error) {
    return error.code();
  }
  FAIL("no error");
  return ErrorCode::Usage;
}

}  // namespace

TEST_CASE("a strip-prefix into '.weight' of a quantized layer is invalid input", "[plan][error]") {
  PlanOptions options;
  options.strip_prefix = "a.w";  // "a.weight" -> "eight": no layer name left
  const Header header = one_tensor("a.weight", Dtype::BF16, {64, 64});
  CHECK(code_of_plan(header, options) == ErrorCode::InvalidPlan);
  CHECK(exit_code_for(code_of_plan(header, options)) == 2);
}

TEST_CASE("an add-prefix that makes '__metadata__' is invalid input", "[plan][error]") {
  PlanOptions options;
  options.add_prefix = "__meta";  // "data__" -> "__metadata__", the header's reserved key
  const Header header = one_tensor("data__", Dtype::U8, {4});
  CHECK(code_of_plan(header, options) == ErrorCode::InvalidPlan);
}

TEST_CASE("prefixed layers without .comfy_quant tensors are invalid input, bare ones are not",
          "[plan][error]") {
  // Loaded through ComfyUI's Load Diffusion Model, such a file's FP8 weights had no scale
  // (docs/format.md#metadata); --strip-prefix makes the names bare, which both loaders read.
  PlanOptions options;
  options.write_comfy_quant = false;
  const Header prefixed = one_tensor("model.diffusion_model.a.weight", Dtype::BF16, {64, 64});
  CHECK(code_of_plan(prefixed, options) == ErrorCode::InvalidPlan);
  options.strip_prefix = "model.diffusion_model.";
  CHECK(make_conversion_plan(prefixed, options, "in").quantized_count == 1);
  options.strip_prefix.clear();
  CHECK(make_conversion_plan(one_tensor("a.weight", Dtype::BF16, {64, 64}), options, "in").quantized_count == 1);
  options.write_comfy_quant = true;  // the default: the tensors name each layer's format
  CHECK(make_conversion_plan(prefixed, options, "in").quantized_count == 1);
}
