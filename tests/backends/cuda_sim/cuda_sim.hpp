// cuda_sim.hpp — control of the simulated CUDA runtime (fake_runtime/cuda_runtime.h).
//
// The simulator keeps CUDA's ordering rules and nothing more: operations run in the order
// of their stream, after the events they wait for, and otherwise whenever the schedule
// chooses. Four schedules, each the worst case for a different mistake:
//   minimal — an operation runs only when the host synchronizes on it, and then only the
//             work it depends on: a forgotten wait always shows (a kernel before its
//             upload, the host reading a slot before its download, the reader refilling a
//             slot whose upload has not run);
//   asap    — every ready operation runs right after each call, as early as it may: work
//             queued too early always shows (a download queued into a slot the writer
//             still reads);
//   random  — on a synchronization, ready operations of all streams run in random order
//             (seeded) until the host's condition holds;
//   eager   — also after every call, a few random ready operations run at once.
// A seed fixes the simulator's choices, not how the backend's two host threads interleave.
// A host buffer reused before its copy ran, or read before its copy finished, shows as
// wrong bytes. The simulator also checks what a GPU would only punish sometimes:
// asynchronous copies must use pinned host memory; every device access must lie inside an
// allocation of the stream's device; memory must not be freed while a queued operation
// uses it (also work of a destroyed stream, which CUDA still finishes); work goes to
// streams of the current device; a thread that never called cudaSetDevice touches only
// device 0. A broken rule makes the call fail (cudaErrorIllegalAddress or
// cudaErrorInvalidResourceHandle) and is recorded for take_violations(). Tests can also
// make the n-th call of an API fail, or the n-th run of an operation fail with a sticky
// error, as a GPU fault would.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qfp8::sim {

enum class Schedule { Minimal, Asap, Random, Eager };

struct Config {
  int devices = 1;
  uint64_t device_memory_bytes = uint64_t{8} << 30;  // per device; an 8 GB card by default
  uint32_t seed = 1;
  Schedule schedule = Schedule::Minimal;
};

/// Config from $QFP8_SIM_SCHEDULE (minimal, asap, random, eager) and $QFP8_SIM_SEED; CTest
/// runs the suite under each schedule, random and eager with two seeds.
Config config_from_environment();
const char* schedule_name(Schedule schedule);

/// Frees everything still allocated, forgets planned failures and the sticky error, and
/// starts over with `config`. Call with no backend alive.
void reset(const Config& config);

/// The `nth` call (1 = the next one) of `call` ("cudaMemcpyAsync", "launch", ...) from now
/// on returns `error` and does nothing else.
void fail_call(const std::string& call, uint64_t nth, cudaError_t error);
/// The `nth` run (1 = the next) of an operation named `operation` ("H2D", "D2H", "memset",
/// "absmax_kernel", ...) fails instead: every later call returns cudaErrorLaunchFailure,
/// like a kernel fault that leaves the context unusable.
void fail_execution(const std::string& operation, uint64_t nth);

/// Calls of `call` since reset().
uint64_t calls(const std::string& call);
uint64_t device_bytes_in_use();
uint64_t peak_device_bytes();
uint64_t pinned_bytes_in_use();

/// The rules broken since the last call, in words; empties the list.
std::vector<std::string> take_violations();

/// One device byte range a simulated kernel reads or writes.
struct DeviceRange {
  const void* address;
  uint64_t bytes;
};

/// For the simulated kernel launchers: queues `body` on `stream` as operation `kernel`
/// after checking the launch (current device, device ranges). A failure sets the calling
/// thread's last error, to be read by cudaGetLastError() as after a real launch.
void launch(const char* kernel, cudaStream_t stream, const std::vector<DeviceRange>& ranges,
            std::function<void()> body);

}  // namespace qfp8::sim
