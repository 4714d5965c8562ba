// test_cuda_sim.cpp — the simulator itself: it must expose the mistakes it exists to find
// (a host buffer reused before its copy ran, a missing cross-stream wait, pageable memory
// in an asynchronous copy, memory freed under queued work, a stream of another device, a
// thread that never set its device), and keep CUDA's semantics where they are subtle (a
// wait is for one record; a destroyed stream's work still runs),
// or the backend tests on it would prove nothing.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cuda_sim.hpp"

using namespace qfp8;

namespace {

sim::Config scheduled(sim::Schedule schedule, uint32_t seed) {
  sim::Config config;
  config.seed = seed;
  config.schedule = schedule;
  return config;
}

struct Buffers {
  uint8_t* host = nullptr;    // pinned
  uint8_t* device = nullptr;  // device 0
  cudaStream_t first = nullptr;
  cudaStream_t second = nullptr;
  Buffers() {
    REQUIRE(cudaMallocHost(reinterpret_cast<void**>(&host), 64) == cudaSuccess);
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&device), 64) == cudaSuccess);
    REQUIRE(cudaStreamCreateWithFlags(&first, cudaStreamNonBlocking) == cudaSuccess);
    REQUIRE(cudaStreamCreateWithFlags(&second, cudaStreamNonBlocking) == cudaSuccess);
  }
};

bool violation_mentions(const std::vector<std::string>& violations, const std::string& text) {
  for (const auto& violation : violations) {
    if (violation.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("simulator: a queued copy reads host memory when it runs, not when it is queued",
          "[cuda-sim]") {
  sim::reset(scheduled(sim::Schedule::Minimal, 1));
  Buffers buffers;
  buffers.host[0] = 1;
  REQUIRE(cudaMemcpyAsync(buffers.device, buffers.host, 1, cudaMemcpyHostToDevice, buffers.first) ==
          cudaSuccess);
  buffers.host[0] = 2;  // too early: the copy has not run
  REQUIRE(cudaMemcpyAsync(buffers.host + 1, buffers.device, 1, cudaMemcpyDeviceToHost,
                          buffers.first) == cudaSuccess);
  CHECK(buffers.host[1] != 2);  // nothing ran yet
  REQUIRE(cudaStreamSynchronize(buffers.first) == cudaSuccess);
  CHECK(buffers.host[1] == 2);  // the reuse shows as wrong bytes
}

/// The byte a D2H copy on the second stream sees of a memset queued on the first stream,
/// with or without the second stream waiting for the memset's event.
int byte_seen_across_streams(const sim::Config& config, bool wait) {
  sim::reset(config);
  Buffers buffers;
  cudaEvent_t written = nullptr;
  REQUIRE(cudaEventCreateWithFlags(&written, cudaEventDisableTiming) == cudaSuccess);
  REQUIRE(cudaMemsetAsync(buffers.device, 7, 1, buffers.first) == cudaSuccess);
  REQUIRE(cudaEventRecord(written, buffers.first) == cudaSuccess);
  if (wait) REQUIRE(cudaStreamWaitEvent(buffers.second, written, 0) == cudaSuccess);
  REQUIRE(cudaMemcpyAsync(buffers.host, buffers.device, 1, cudaMemcpyDeviceToHost,
                          buffers.second) == cudaSuccess);
  REQUIRE(cudaStreamSynchronize(buffers.second) == cudaSuccess);
  const int seen = buffers.host[0];
  REQUIRE(cudaStreamSynchronize(buffers.first) == cudaSuccess);
  return seen;
}

TEST_CASE("simulator: without an event wait, another stream's work may run first", "[cuda-sim]") {
  constexpr int kUnwritten = 0xA5;  // what fresh simulated memory holds
  // Minimal: the other stream's memset never runs unless waited for.
  CHECK(byte_seen_across_streams(scheduled(sim::Schedule::Minimal, 1), false) == kUnwritten);
  CHECK(byte_seen_across_streams(scheduled(sim::Schedule::Minimal, 1), true) == 7);
  // Random: either order, depending on the seed; with the wait, only one. Eager runs the
  // memset early (at its own or a later call) nearly always: only the wait is checked.
  std::set<int> without_wait;
  std::set<int> with_wait;
  for (uint32_t seed = 1; seed <= 32; ++seed) {
    without_wait.insert(byte_seen_across_streams(scheduled(sim::Schedule::Random, seed), false));
    with_wait.insert(byte_seen_across_streams(scheduled(sim::Schedule::Random, seed), true));
    with_wait.insert(byte_seen_across_streams(scheduled(sim::Schedule::Eager, seed), true));
  }
  CHECK(without_wait == std::set<int>{7, kUnwritten});
  CHECK(with_wait == std::set<int>{7});
}

TEST_CASE("simulator: the eager schedule may run queued work before any synchronization",
          "[cuda-sim]") {
  std::set<int> seen;
  for (uint32_t seed = 1; seed <= 32; ++seed) {
    sim::reset(scheduled(sim::Schedule::Eager, seed));
    Buffers buffers;
    buffers.host[0] = 1;
    REQUIRE(cudaMemcpyAsync(buffers.device, buffers.host, 1, cudaMemcpyHostToDevice,
                            buffers.first) == cudaSuccess);
    buffers.host[0] = 2;
    REQUIRE(cudaMemcpyAsync(buffers.host + 1, buffers.device, 1, cudaMemcpyDeviceToHost,
                            buffers.first) == cudaSuccess);
    REQUIRE(cudaStreamSynchronize(buffers.first) == cudaSuccess);
    seen.insert(buffers.host[1]);
  }
  CHECK(seen == std::set<int>{1, 2});
}

TEST_CASE("simulator: rules a GPU punishes only sometimes are errors and recorded", "[cuda-sim]") {
  sim::Config two_devices = scheduled(sim::Schedule::Minimal, 1);
  two_devices.devices = 2;
  sim::reset(two_devices);
  Buffers buffers;
  std::vector<uint8_t> pageable(64);

  CHECK(cudaMemcpyAsync(buffers.device, pageable.data(), 8, cudaMemcpyHostToDevice,
                        buffers.first) == cudaErrorIllegalAddress);
  CHECK(violation_mentions(sim::take_violations(), "not inside one pinned"));

  CHECK(cudaMemcpyAsync(buffers.device + 60, buffers.host, 8, cudaMemcpyHostToDevice,
                        buffers.first) == cudaErrorIllegalAddress);
  CHECK(violation_mentions(sim::take_violations(), "not inside one device allocation"));

  REQUIRE(cudaMemcpyAsync(buffers.host, buffers.device, 8, cudaMemcpyDeviceToHost, buffers.first) ==
          cudaSuccess);
  CHECK(cudaFreeHost(buffers.host) == cudaErrorIllegalAddress);
  CHECK(violation_mentions(sim::take_violations(), "while a queued operation still uses it"));
  REQUIRE(cudaStreamSynchronize(buffers.first) == cudaSuccess);
  CHECK(cudaFreeHost(buffers.host) == cudaSuccess);

  REQUIRE(cudaSetDevice(1) == cudaSuccess);
  CHECK(cudaMemsetAsync(buffers.device, 0, 8, buffers.first) == cudaErrorInvalidResourceHandle);
  CHECK(violation_mentions(sim::take_violations(), "used while device 1 is current"));
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  CHECK(sim::take_violations().empty());
}

TEST_CASE("simulator: planned failures hit the n-th call, and a fault is sticky", "[cuda-sim]") {
  sim::reset(scheduled(sim::Schedule::Minimal, 1));
  Buffers buffers;
  sim::fail_call("cudaMemsetAsync", 2, cudaErrorUnknown);
  CHECK(cudaMemsetAsync(buffers.device, 1, 8, buffers.first) == cudaSuccess);
  CHECK(cudaMemsetAsync(buffers.device, 1, 8, buffers.first) == cudaErrorUnknown);
  CHECK(cudaGetLastError() == cudaErrorUnknown);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaMemsetAsync(buffers.device, 1, 8, buffers.first) == cudaSuccess);

  sim::fail_execution("memset", 1);
  CHECK(cudaStreamSynchronize(buffers.first) == cudaErrorLaunchFailure);
  CHECK(cudaMemsetAsync(buffers.device, 1, 8, buffers.first) == cudaErrorLaunchFailure);
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
}

TEST_CASE("simulator: a wait is for its own record, not a later one on another stream",
          "[cuda-sim]") {
  sim::reset(scheduled(sim::Schedule::Minimal, 1));
  Buffers buffers;
  cudaStream_t third = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&third, cudaStreamNonBlocking) == cudaSuccess);
  cudaEvent_t event = nullptr;
  REQUIRE(cudaEventCreateWithFlags(&event, cudaEventDisableTiming) == cudaSuccess);
  REQUIRE(cudaMemsetAsync(buffers.device, 7, 1, buffers.first) == cudaSuccess);
  REQUIRE(cudaEventRecord(event, buffers.first) == cudaSuccess);
  REQUIRE(cudaStreamWaitEvent(third, event, 0) == cudaSuccess);
  REQUIRE(cudaEventRecord(event, buffers.second) == cudaSuccess);  // re-recorded, finishes first
  REQUIRE(cudaStreamSynchronize(buffers.second) == cudaSuccess);
  REQUIRE(cudaMemcpyAsync(buffers.host, buffers.device, 1, cudaMemcpyDeviceToHost, third) ==
          cudaSuccess);
  REQUIRE(cudaStreamSynchronize(third) == cudaSuccess);
  CHECK(buffers.host[0] == 7);
}

TEST_CASE("simulator: the asap schedule runs queued work at once", "[cuda-sim]") {
  sim::reset(scheduled(sim::Schedule::Asap, 1));
  Buffers buffers;
  buffers.host[0] = 1;
  REQUIRE(cudaMemcpyAsync(buffers.device, buffers.host, 1, cudaMemcpyHostToDevice, buffers.first) ==
          cudaSuccess);
  buffers.host[0] = 2;  // after the copy ran: the device keeps 1
  REQUIRE(cudaMemcpyAsync(buffers.host + 1, buffers.device, 1, cudaMemcpyDeviceToHost,
                          buffers.first) == cudaSuccess);
  CHECK(buffers.host[1] == 1);  // already there, before any synchronization
}

TEST_CASE("simulator: a destroyed stream's queued work still counts, as CUDA finishes it",
          "[cuda-sim]") {
  sim::reset(scheduled(sim::Schedule::Minimal, 1));
  Buffers buffers;
  REQUIRE(cudaMemcpyAsync(buffers.host, buffers.device, 8, cudaMemcpyDeviceToHost, buffers.first) ==
          cudaSuccess);
  REQUIRE(cudaStreamDestroy(buffers.first) == cudaSuccess);
  CHECK(cudaFreeHost(buffers.host) == cudaErrorIllegalAddress);
  CHECK(violation_mentions(sim::take_violations(), "while a queued operation still uses it"));
  CHECK(cudaStreamSynchronize(buffers.first) == cudaErrorInvalidResourceHandle);
}

TEST_CASE("simulator: a thread that never set its device may only touch device 0", "[cuda-sim]") {
  sim::Config two_devices = scheduled(sim::Schedule::Minimal, 1);
  two_devices.devices = 2;
  sim::reset(two_devices);
  REQUIRE(cudaSetDevice(1) == cudaSuccess);
  cudaEvent_t event = nullptr;
  REQUIRE(cudaEventCreateWithFlags(&event, cudaEventDisableTiming) == cudaSuccess);
  cudaError_t from_fresh_thread = cudaSuccess;
  cudaError_t after_set_device = cudaSuccess;
  std::thread([&] {
    from_fresh_thread = cudaEventSynchronize(event);
    (void)cudaSetDevice(1);
    after_set_device = cudaEventSynchronize(event);
  }).join();
  CHECK(from_fresh_thread == cudaErrorInvalidResourceHandle);
  CHECK(violation_mentions(sim::take_violations(), "never called cudaSetDevice"));
  CHECK(after_set_device == cudaSuccess);
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
}
