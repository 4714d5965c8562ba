// test_sim_backend_select.cpp — --device auto|cuda and --gpu N in a CUDA build
// (src/backends/backend_select.cpp built over the simulated CUDA backend) on the simulated runtime:
// the choices a CI machine without a GPU cannot show (a device present, the CPU preferred
// for a small model or many threads, a device that fails to start, a --gpu past the last
// device).
#include <catch2/catch.hpp>
#include <string>

#include "backends/backend_select.hpp"
#include "core/error.hpp"
#include "cuda_sim.hpp"

using namespace qfp8;

namespace {

sim::Config with_devices(int devices) {
  sim::Config config = sim::config_from_environment();
  config.devices = devices;
  return config;
}

/// Two threads and a 41 GB model: --device auto prefers the GPU (auto_device.hpp).
BackendRequest request(DeviceChoice device, int gpu) {
  BackendRequest result;
  result.device = device;
  result.gpu = gpu;
  result.threads = 2;
  result.model_bytes = 41000000000;
  return result;
}

/// The CudaUnavailable message of select_backend(`request`).
std::string unavailable(const BackendRequest& request) {
  try {
    select_backend(request);
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::CudaUnavailable);
    return error.what();
  }
  FAIL("select_backend did not refuse");
  return {};
}

}  // namespace

TEST_CASE("--device auto takes a usable GPU, --gpu picks it", "[cuda-sim]") {
  sim::reset(with_devices(2));
  CHECK(select_backend(request(DeviceChoice::Auto, 0))->description().rfind("cuda:0 ", 0) == 0);
  CHECK(select_backend(request(DeviceChoice::Auto, 1))->description().rfind("cuda:1 ", 0) == 0);
  CHECK(select_backend(request(DeviceChoice::Cuda, 1))->description().rfind("cuda:1 ", 0) == 0);
  CHECK(select_backend(request(DeviceChoice::Cpu, 0))->description() == "cpu (2 threads)");
}

TEST_CASE("--device auto takes the CPU where it is as fast, a usable GPU notwithstanding",
          "[cuda-sim]") {
  sim::reset(with_devices(1));
  BackendRequest small = request(DeviceChoice::Auto, 0);
  small.model_bytes = 12000000;
  CHECK(select_backend(small)->description() == "cpu (2 threads)");
  BackendRequest many_threads = request(DeviceChoice::Auto, 0);
  many_threads.threads = 8;
  CHECK(select_backend(many_threads)->description() == "cpu (8 threads)");
  // --device cuda is not second-guessed.
  small.device = DeviceChoice::Cuda;
  CHECK(select_backend(small)->description().rfind("cuda:0 ", 0) == 0);
}

TEST_CASE("--device auto falls back to the CPU without a device or when CUDA fails to start",
          "[cuda-sim]") {
  sim::reset(with_devices(0));
  CHECK(select_backend(request(DeviceChoice::Auto, 0))->description() == "cpu (2 threads)");
  sim::reset(with_devices(1));
  CHECK(select_backend(request(DeviceChoice::Auto, 1))->description() == "cpu (2 threads)");
  sim::fail_call("cudaMallocHost", 1, cudaErrorMemoryAllocation);
  CHECK(select_backend(request(DeviceChoice::Auto, 0))->description() == "cpu (2 threads)");
}

TEST_CASE("--device cuda without a usable device is CudaUnavailable, saying why", "[cuda-sim]") {
  sim::reset(with_devices(0));
  CHECK(unavailable(request(DeviceChoice::Cuda, 0)) ==
        "--device cuda: no usable CUDA device (no driver or no GPU)");
  sim::reset(with_devices(2));
  CHECK(unavailable(request(DeviceChoice::Cuda, 2)) ==
        "--device cuda: no usable CUDA device 2 (2 found)");
  CHECK(unavailable(request(DeviceChoice::Cuda, -1)) ==
        "--device cuda: no usable CUDA device -1 (2 found)");
}

TEST_CASE("--device cuda on a device that fails to start is CudaFailure, not a fallback",
          "[cuda-sim]") {
  sim::reset(with_devices(1));
  sim::fail_call("cudaStreamCreateWithFlags", 1, cudaErrorUnknown);
  try {
    select_backend(request(DeviceChoice::Cuda, 0));
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::CudaFailure);
    CHECK(std::string(error.what()).find("cudaStreamCreateWithFlags") != std::string::npos);
  }
}
