// sim_engine.hpp — the simulated CUDA runtime's insides, shared by sim_engine.cpp (state,
// scheduling, checks, the test controls of cuda_sim.hpp) and cuda_runtime_api.cpp (the
// cuda* functions). Tests use cuda_sim.hpp, not this.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "cuda_sim.hpp"

namespace qfp8::sim::detail {

struct Range {
  uintptr_t begin;
  uintptr_t end;
};

struct Operation {
  enum class Kind { Work, Record, Wait };
  Kind kind = Kind::Work;
  std::string name;             // "H2D", "D2H", "D2D", "memset", a kernel, "record", "wait"
  std::function<void()> body;   // Work only
  CUevent_st* event = nullptr;  // Record and Wait
  uint64_t generation = 0;      // Record: its number; Wait: the record it waits for
  std::vector<Range> touches;   // memory a Work reads or writes
};

}  // namespace qfp8::sim::detail

/// A destroyed stream stays here until reset(): CUDA finishes its queued work in the
/// background, so that work is still checked against frees and still runs.
struct CUstream_st {
  int device = 0;
  bool destroyed = false;
  std::deque<qfp8::sim::detail::Operation> queue;
};

/// Each record of an event completes on its own, once the operations before it on its
/// stream ran: a wait is for one record, not for "some record as late" (a later record on
/// another stream may finish first). Destroyed events are kept like streams.
struct CUevent_st {
  int device = 0;
  bool destroyed = false;
  std::vector<char> record_done;  // per record (cudaEventRecord call), in order
  uint64_t records() const { return record_done.size(); }
  bool done(uint64_t record) const { return record == 0 || record_done[record - 1] != 0; }
};

namespace qfp8::sim::detail {

using Kind = Operation::Kind;

struct Allocation {
  std::size_t bytes = 0;
  int device = 0;  // device memory: its device; pinned host memory: -1
  bool pinned = false;
};

struct PlannedFailure {
  uint64_t call_number;
  cudaError_t error;
};

struct State {
  std::mutex mutex;
  Config config;
  std::mt19937 random;
  std::map<uintptr_t, Allocation> allocations;
  std::vector<std::unique_ptr<CUstream_st>> streams;  // creation order: seeds replay exactly
  std::vector<std::unique_ptr<CUevent_st>> events;
  std::map<int, uint64_t> device_in_use;
  uint64_t device_total = 0;
  uint64_t device_peak = 0;
  uint64_t pinned_in_use = 0;
  std::map<std::string, uint64_t> calls;
  std::map<std::string, uint64_t> executed;
  std::map<std::string, std::vector<PlannedFailure>> call_failures;
  std::map<std::string, uint64_t> execution_failures;  // operation -> run number that fails
  cudaError_t sticky = cudaSuccess;
  std::vector<std::string> violations;
};

State& state();
extern thread_local int current_device;
extern thread_local bool device_set;  // cudaSetDevice was called on this thread
extern thread_local cudaError_t last_error;

/// Records a broken rule and returns the error the call reports for it.
cudaError_t broken(State& s, cudaError_t error, const std::string& rule);
bool valid_device(const State& s, int device);
bool valid_stream(const State& s, cudaStream_t stream);
bool valid_event(const State& s, cudaEvent_t event);
cudaError_t check_device_range(State& s, const void* address, uint64_t bytes, int device,
                               const std::string& what);
/// A stream the calling thread may enqueue on: one of ours, of the current device.
cudaError_t check_stream(State& s, cudaStream_t stream, const std::string& what);
/// The checks of an asynchronous copy in direction `kind` on a stream of `device`.
cudaError_t copy_checks(State& s, void* destination, const void* source, std::size_t bytes,
                        cudaMemcpyKind kind, int device);
const char* copy_name(cudaMemcpyKind kind);
Range range_of(const void* address, uint64_t bytes);

cudaError_t enqueue(State& s, CUstream_st* stream, Operation operation);
/// Runs queued work, as the schedule says, until the stream is empty / the event's record
/// `generation` has run; a fault's sticky error or a deadlock (recorded) otherwise.
cudaError_t wait_for_stream(State& s, CUstream_st& stream, const std::string& waiter);
cudaError_t wait_for_record(State& s, CUevent_st& event, uint64_t generation,
                            const std::string& waiter);
/// A thread that never called cudaSetDevice may only touch device 0's resources (a real
/// runtime would make device 0's context for it); `device` is the resource's.
cudaError_t check_thread_device(State& s, int device, const std::string& what);

cudaError_t allocate(State& s, void** pointer, std::size_t bytes, bool pinned);
cudaError_t release(State& s, void* pointer, bool pinned, const char* call);

/// Every API call: takes the lock, counts the call, applies a planned failure or the
/// sticky error, and leaves a failure in the calling thread's last-error slot.
template <class Body>
cudaError_t api_call(const char* call, Body body) {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  const uint64_t number = ++s.calls[call];
  cudaError_t status = s.sticky;
  if (status == cudaSuccess) {
    for (const PlannedFailure& planned : s.call_failures[call]) {
      if (planned.call_number == number) status = planned.error;
    }
  }
  if (status == cudaSuccess) status = body(s);
  if (status != cudaSuccess) last_error = status;
  return status;
}

}  // namespace qfp8::sim::detail
