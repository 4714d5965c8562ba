// test_sim_pipeline.cpp — the whole conversion (plan, pipeline, writer, atomic file) with
// the CUDA backend on the simulated runtime: the same bytes as the CPU backend (selftest
// part (d), the check users run on their GPU), and on a device failure or a NaN weight a
// clear error with no output and no .partial left behind.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "backends/cuda/cuda_backend.hpp"
#include "convert/pipeline.hpp"
#include "core/error.hpp"
#include "cuda_sim.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"
#include "selftest/pipeline_check.hpp"
#include "support/convert_checks.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;

namespace {

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

/// Converts `input_path` into `output_path` on a simulated GPU; returns the error it must
/// fail with.
Error failed_conversion(const std::string& input_path, const std::string& output_path) {
  const SafetensorsFile input(input_path);
  const ConversionPlan plan = make_conversion_plan(input.header(), PlanOptions{}, input.path());
  auto backend = make_cuda_backend(0, CudaBackendOptions{4096, 2});
  try {
    convert_to_file(input, plan, *backend, output_path, OutputOptions{}, nullptr);
  } catch (const Error& error) {
    return error;
  }
  FAIL("the conversion succeeded although it should have failed");
  throw std::logic_error("unreachable: FAIL throws");
}

}  // namespace

TEST_CASE("the whole pipeline on the CUDA backend writes the CPU backend's bytes", "[cuda-sim]") {
  for (const CudaBackendOptions& options :
       {CudaBackendOptions{}, CudaBackendOptions{256 * 1024, 3}}) {
    INFO(options.staging_bytes << "-byte staging");
    auto backend = make_cuda_backend(0, options);
    const selftest::SelftestCheck check = selftest::compare_pipeline(*backend, " (simulated CUDA)");
    INFO(check.summary);
    for (const std::string& detail : check.details) UNSCOPED_INFO(detail);
    REQUIRE(check.passed);
    CHECK(check.summary.find("identical to the 1-thread CPU one") != std::string::npos);
  }
}

TEST_CASE("a device failure mid-conversion leaves no output and no .partial", "[cuda-sim]") {
  const std::string dir = test::scratch_dir("sim-device-failure");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  test::SyntheticModelOptions model;
  model.blocks = 2;
  test::write_synthetic_model(input, model);
  for (const char* call : {"cudaMemcpyAsync", "cudaEventSynchronize", "launch"}) {
    INFO(call);
    sim::fail_call(call, 7, cudaErrorIllegalAddress);
    const Error error = failed_conversion(input, output);
    CHECK(error.code() == ErrorCode::CudaFailure);
    CHECK(std::string(error.what()).find("cudaErrorIllegalAddress") != std::string::npos);
    CHECK_FALSE(exists(output));
    CHECK_FALSE(exists(output + ".partial"));
  }
  std::remove(input.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("a NaN weight on the CUDA backend is NonFiniteWeight naming it, with no output",
          "[cuda-sim]") {
  const std::string dir = test::scratch_dir("sim-nan-weight");
  const std::string input = dir + "/in.safetensors";
  const std::string output = dir + "/out.safetensors";
  test::SyntheticModelOptions model;
  model.blocks = 2;
  model.nan_tensor = "transformer_blocks.1.attn.to_k.weight";
  test::write_synthetic_model(input, model);
  const Error error = failed_conversion(input, output);
  CHECK(error.code() == ErrorCode::NonFiniteWeight);
  CHECK(error.tensor() == "transformer_blocks.1.attn.to_k.weight");
  CHECK_FALSE(exists(output));
  CHECK_FALSE(exists(output + ".partial"));
  std::remove(input.c_str());
  ::rmdir(dir.c_str());
}
