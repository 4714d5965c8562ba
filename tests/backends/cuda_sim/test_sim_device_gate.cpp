// test_sim_device_gate.cpp — when the GPU tests skip and when they fail
// (tests/support/cuda_test_gate.hpp), on the runtime's error codes: only "no GPU here" may
// read as skipped; a driver too old for the runtime, or any other error, must fail.
#include <catch2/catch.hpp>

#include "support/cuda_test_gate.hpp"

using qfp8::test::device_gate;
using qfp8::test::DeviceGate;

TEST_CASE("GPU tests run with a device and skip without one", "[gate]") {
  CHECK(device_gate(cudaSuccess, 1, 12040) == DeviceGate::Run);
  CHECK(device_gate(cudaSuccess, 8, 13000) == DeviceGate::Run);
  CHECK(device_gate(cudaSuccess, 0, 12040) == DeviceGate::Skip);
  CHECK(device_gate(cudaErrorNoDevice, 0, 12040) == DeviceGate::Skip);
  // A build machine with the toolkit and no driver: the runtime says "insufficient
  // driver" and cudaDriverGetVersion reports 0.
  CHECK(device_gate(cudaErrorInsufficientDriver, 0, 0) == DeviceGate::Skip);
}

TEST_CASE("GPU tests fail on a broken CUDA setup", "[gate]") {
  // A driver for CUDA 11.4 under a CUDA 13 runtime: the user must update the driver.
  CHECK(device_gate(cudaErrorInsufficientDriver, 0, 11040) == DeviceGate::Fail);
  CHECK(device_gate(cudaErrorUnknown, 0, 12040) == DeviceGate::Fail);
  CHECK(device_gate(cudaErrorInvalidValue, 0, 12040) == DeviceGate::Fail);
  CHECK(device_gate(cudaErrorMemoryAllocation, 0, 0) == DeviceGate::Fail);
}

TEST_CASE("a GPU test skipped for want of memory is recorded with its reason", "[gate]") {
  auto& skipped = qfp8::test::skipped_tests();
  const std::size_t before = skipped.size();
  qfp8::test::skip_test("big test", "needs 7 GiB of free device memory, 2 GiB free");
  REQUIRE(skipped.size() == before + 1);
  CHECK(skipped.back() == "big test: needs 7 GiB of free device memory, 2 GiB free");
  skipped.pop_back();
}
