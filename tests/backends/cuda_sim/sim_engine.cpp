// sim_engine.cpp — the simulated CUDA runtime (see cuda_sim.hpp for what it models and
// checks): its state, the three schedules, the rule checks, and the test controls. One
// lock guards everything: the CUDA backend calls the runtime from its main thread and
// from its staging reader thread, as it would call the real one.
#include "sim_engine.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace qfp8::sim::detail {

State& state() {
  static State instance;
  return instance;
}

thread_local int current_device = 0;
thread_local bool device_set = false;
thread_local cudaError_t last_error = cudaSuccess;

std::string hex(const void* address) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", address);
  return text;
}

/// Records a broken rule and returns the error the call reports for it.
cudaError_t broken(State& s, cudaError_t error, const std::string& rule) {
  s.violations.push_back(rule);
  return error;
}

bool valid_device(const State& s, int device) { return device >= 0 && device < s.config.devices; }

bool valid_stream(const State& s, cudaStream_t stream) {
  return std::any_of(s.streams.begin(), s.streams.end(),
                     [&](const auto& owned) { return owned.get() == stream && !owned->destroyed; });
}

bool valid_event(const State& s, cudaEvent_t event) {
  return std::any_of(s.events.begin(), s.events.end(),
                     [&](const auto& owned) { return owned.get() == event && !owned->destroyed; });
}

/// The allocation holding all of [address, address + bytes), or null.
const std::pair<const uintptr_t, Allocation>* find_allocation(const State& s, const void* address,
                                                              uint64_t bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(address);
  auto after = s.allocations.upper_bound(begin);
  if (after == s.allocations.begin()) return nullptr;
  const auto& found = *std::prev(after);
  if (begin + bytes > found.first + found.second.bytes) return nullptr;
  return &found;
}

cudaError_t check_device_range(State& s, const void* address, uint64_t bytes, int device,
                               const std::string& what) {
  const auto* found = find_allocation(s, address, bytes);
  if (found == nullptr || found->second.pinned) {
    return broken(s, cudaErrorIllegalAddress,
                  what + ": " + std::to_string(bytes) + " bytes at " + hex(address) +
                      " are not inside one device allocation");
  }
  if (found->second.device != device) {
    return broken(s, cudaErrorIllegalAddress,
                  what + ": memory of device " + std::to_string(found->second.device) +
                      " used on a stream of device " + std::to_string(device));
  }
  return cudaSuccess;
}

cudaError_t check_pinned_range(State& s, const void* address, uint64_t bytes,
                               const std::string& what) {
  const auto* found = find_allocation(s, address, bytes);
  if (found == nullptr || !found->second.pinned) {
    return broken(s, cudaErrorIllegalAddress,
                  what + ": " + std::to_string(bytes) + " host bytes at " + hex(address) +
                      " are not inside one pinned (cudaMallocHost) allocation");
  }
  return cudaSuccess;
}

Range range_of(const void* address, uint64_t bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(address);
  return Range{begin, begin + bytes};
}

bool runnable(const Operation& operation) {
  return operation.kind != Kind::Wait || operation.event->done(operation.generation);
}

void execute_front(State& s, CUstream_st& stream) {
  Operation operation = std::move(stream.queue.front());
  stream.queue.pop_front();
  switch (operation.kind) {
    case Kind::Record:
      operation.event->record_done[operation.generation - 1] = 1;
      return;
    case Kind::Wait:
      return;
    case Kind::Work: {
      const uint64_t number = ++s.executed[operation.name];
      const auto planned = s.execution_failures.find(operation.name);
      if (planned != s.execution_failures.end() && planned->second == number) {
        s.sticky = cudaErrorLaunchFailure;  // a fault: the context is unusable from now on
        return;
      }
      operation.body();
      return;
    }
  }
}

/// Runs one ready operation, chosen at random among the streams; false when none is ready.
bool step(State& s) {
  std::vector<CUstream_st*> ready;
  for (const auto& stream : s.streams) {
    if (!stream->queue.empty() && runnable(stream->queue.front())) ready.push_back(stream.get());
  }
  if (ready.empty()) return false;
  execute_front(s, *ready[s.random() % ready.size()]);
  return true;
}

cudaError_t deadlock(State& s, const std::string& waiter) {
  return broken(s, cudaErrorLaunchFailure,
                waiter + " waits for work that can never run (a GPU would hang)");
}

/// Random and eager schedules: runs ready operations of any stream until `done`.
template <class Done>
cudaError_t run_until(State& s, Done done, const std::string& waiter) {
  while (!done()) {
    if (s.sticky != cudaSuccess) return s.sticky;
    if (!step(s)) return deadlock(s, waiter);
  }
  return s.sticky;
}

CUstream_st* stream_holding_record(const State& s, const CUevent_st* event, uint64_t generation) {
  for (const auto& stream : s.streams) {
    for (const auto& operation : stream->queue) {
      if (operation.kind == Kind::Record && operation.event == event &&
          operation.generation == generation) {
        return stream.get();
      }
    }
  }
  return nullptr;
}

/// Minimal schedule: runs the front operation of `stream`, and before it only the work it
/// waits for, on whichever streams that is.
cudaError_t advance(State& s, CUstream_st& stream, const std::string& waiter) {
  while (s.sticky == cudaSuccess && !runnable(stream.queue.front())) {
    const Operation& wait = stream.queue.front();
    CUstream_st* holder = stream_holding_record(s, wait.event, wait.generation);
    if (holder == nullptr) return deadlock(s, waiter);
    const cudaError_t status = advance(s, *holder, waiter);
    if (status != cudaSuccess) return status;
  }
  if (s.sticky == cudaSuccess) execute_front(s, stream);
  return s.sticky;
}

cudaError_t wait_for_stream(State& s, CUstream_st& stream, const std::string& waiter) {
  if (s.config.schedule != Schedule::Minimal) {
    return run_until(
        s, [&] { return stream.queue.empty(); }, waiter);
  }
  while (s.sticky == cudaSuccess && !stream.queue.empty()) {
    const cudaError_t status = advance(s, stream, waiter);
    if (status != cudaSuccess) return status;
  }
  return s.sticky;
}

cudaError_t wait_for_record(State& s, CUevent_st& event, uint64_t generation,
                            const std::string& waiter) {
  if (s.config.schedule != Schedule::Minimal) {
    return run_until(
        s, [&] { return event.done(generation); }, waiter);
  }
  while (s.sticky == cudaSuccess && !event.done(generation)) {
    CUstream_st* holder = stream_holding_record(s, &event, generation);
    if (holder == nullptr) return deadlock(s, waiter);
    const cudaError_t status = advance(s, *holder, waiter);
    if (status != cudaSuccess) return status;
  }
  return s.sticky;
}

cudaError_t enqueue(State& s, CUstream_st* stream, Operation operation) {
  stream->queue.push_back(std::move(operation));
  if (s.config.schedule == Schedule::Asap) {
    while (step(s)) {
    }
  }
  if (s.config.schedule == Schedule::Eager) {
    for (uint32_t runs = s.random() % 4; runs > 0 && step(s); --runs) {
    }
  }
  return cudaSuccess;
}

/// A stream the calling thread may enqueue on: one of ours, of the current device.
cudaError_t check_stream(State& s, cudaStream_t stream, const std::string& what) {
  if (!valid_stream(s, stream)) {
    return broken(s, cudaErrorInvalidResourceHandle, what + ": not a live stream");
  }
  if (stream->device != current_device) {
    return broken(s, cudaErrorInvalidResourceHandle,
                  what + ": stream of device " + std::to_string(stream->device) +
                      " used while device " + std::to_string(current_device) + " is current");
  }
  return cudaSuccess;
}

cudaError_t check_thread_device(State& s, int device, const std::string& what) {
  if (!device_set && device != 0) {
    return broken(s, cudaErrorInvalidResourceHandle,
                  what + ": a resource of device " + std::to_string(device) +
                      " used by a thread that never called cudaSetDevice (a real runtime "
                      "would create a context on device 0 for it)");
  }
  return cudaSuccess;
}

bool touches(const Operation& operation, const Range& range) {
  return std::any_of(operation.touches.begin(), operation.touches.end(), [&](const Range& used) {
    return used.begin < range.end && range.begin < used.end;
  });
}

bool queued_use(const State& s, const Range& range) {
  for (const auto& stream : s.streams) {
    for (const auto& operation : stream->queue) {
      if (touches(operation, range)) return true;
    }
  }
  return false;
}

cudaError_t allocate(State& s, void** pointer, std::size_t bytes, bool pinned) {
  if (pointer == nullptr || bytes == 0) return cudaErrorInvalidValue;
  if (!pinned && s.device_in_use[current_device] + bytes > s.config.device_memory_bytes) {
    return cudaErrorMemoryAllocation;
  }
  // cudaMalloc aligns to 256 bytes; pinned memory comes in whole pages.
  const std::size_t alignment = pinned ? 4096 : 256;
  const std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  void* memory = std::aligned_alloc(alignment, rounded);
  if (memory == nullptr) return cudaErrorMemoryAllocation;
  std::memset(memory, 0xA5, rounded);  // never zero: reads of unwritten memory show
  s.allocations[reinterpret_cast<uintptr_t>(memory)] =
      Allocation{bytes, pinned ? -1 : current_device, pinned};
  if (pinned) {
    s.pinned_in_use += bytes;
  } else {
    s.device_in_use[current_device] += bytes;
    s.device_total += bytes;
    s.device_peak = std::max(s.device_peak, s.device_total);
  }
  *pointer = memory;
  return cudaSuccess;
}

// Stricter than CUDA, whose cudaFree may synchronize: the backend must not rely on that.
cudaError_t release(State& s, void* pointer, bool pinned, const char* call) {
  if (pointer == nullptr) return cudaSuccess;
  const auto found = s.allocations.find(reinterpret_cast<uintptr_t>(pointer));
  if (found == s.allocations.end() || found->second.pinned != pinned) {
    return broken(
        s, cudaErrorInvalidValue,
        std::string(call) + " of " + hex(pointer) + ": not a live allocation of its kind");
  }
  if (queued_use(s, range_of(pointer, found->second.bytes))) {
    return broken(
        s, cudaErrorIllegalAddress,
        std::string(call) + " of " + hex(pointer) + " while a queued operation still uses it");
  }
  if (pinned) {
    s.pinned_in_use -= found->second.bytes;
  } else {
    s.device_in_use[found->second.device] -= found->second.bytes;
    s.device_total -= found->second.bytes;
  }
  std::free(pointer);
  s.allocations.erase(found);
  return cudaSuccess;
}

cudaError_t copy_checks(State& s, void* destination, const void* source, std::size_t bytes,
                        cudaMemcpyKind kind, int device) {
  switch (kind) {
    case cudaMemcpyHostToDevice: {
      const cudaError_t status = check_pinned_range(s, source, bytes, "H2D copy source");
      return status != cudaSuccess
                 ? status
                 : check_device_range(s, destination, bytes, device, "H2D copy destination");
    }
    case cudaMemcpyDeviceToHost: {
      const cudaError_t status = check_device_range(s, source, bytes, device, "D2H copy source");
      return status != cudaSuccess
                 ? status
                 : check_pinned_range(s, destination, bytes, "D2H copy destination");
    }
    case cudaMemcpyDeviceToDevice: {
      const cudaError_t status = check_device_range(s, source, bytes, device, "D2D copy source");
      return status != cudaSuccess
                 ? status
                 : check_device_range(s, destination, bytes, device, "D2D copy destination");
    }
    default:
      return broken(s, cudaErrorInvalidValue, "cudaMemcpyAsync: give the copy's direction");
  }
}

const char* copy_name(cudaMemcpyKind kind) {
  return kind == cudaMemcpyHostToDevice ? "H2D" : kind == cudaMemcpyDeviceToHost ? "D2H" : "D2D";
}

uint32_t environment_number(const char* name, uint32_t fallback) {
  const char* text = std::getenv(name);
  return text == nullptr || *text == '\0' ? fallback
                                          : static_cast<uint32_t>(std::strtoul(text, nullptr, 10));
}

}  // namespace qfp8::sim::detail

namespace qfp8::sim {

using namespace detail;

Config config_from_environment() {
  Config config;
  config.seed = environment_number("QFP8_SIM_SEED", 1);
  const char* schedule = std::getenv("QFP8_SIM_SCHEDULE");
  const std::string name = schedule == nullptr ? "minimal" : schedule;
  config.schedule = name == "eager"    ? Schedule::Eager
                    : name == "asap"   ? Schedule::Asap
                    : name == "random" ? Schedule::Random
                                       : Schedule::Minimal;
  return config;
}

const char* schedule_name(Schedule schedule) {
  switch (schedule) {
    case Schedule::Minimal:
      return "minimal";
    case Schedule::Random:
      return "random";
    case Schedule::Eager:
      return "eager";
    case Schedule::Asap:
      return "asap";
  }
  return "?";
}

void reset(const Config& config) {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  for (const auto& allocation : s.allocations) std::free(reinterpret_cast<void*>(allocation.first));
  s.allocations.clear();
  s.streams.clear();
  s.events.clear();
  s.device_in_use.clear();
  s.device_total = s.device_peak = s.pinned_in_use = 0;
  s.calls.clear();
  s.executed.clear();
  s.call_failures.clear();
  s.execution_failures.clear();
  s.sticky = cudaSuccess;
  s.violations.clear();
  s.config = config;
  s.random.seed(config.seed);
  current_device = 0;
  device_set = false;
  last_error = cudaSuccess;
}

void fail_call(const std::string& call, uint64_t nth, cudaError_t error) {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  s.call_failures[call].push_back(PlannedFailure{s.calls[call] + nth, error});
}

void fail_execution(const std::string& operation, uint64_t nth) {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  s.execution_failures[operation] = s.executed[operation] + nth;
}

uint64_t calls(const std::string& call) {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  return s.calls[call];
}

uint64_t device_bytes_in_use() {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  return s.device_total;
}

uint64_t peak_device_bytes() {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  return s.device_peak;
}

uint64_t pinned_bytes_in_use() {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  return s.pinned_in_use;
}

std::vector<std::string> take_violations() {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  return std::exchange(s.violations, {});
}

void launch(const char* kernel, cudaStream_t stream, const std::vector<DeviceRange>& ranges,
            std::function<void()> body) {
  (void)api_call("launch", [&](State& s) {
    const std::string what = std::string("launch ") + kernel;
    cudaError_t status = check_stream(s, stream, what);
    Operation operation{Kind::Work, kernel, std::move(body), nullptr, 0, {}};
    for (const DeviceRange& range : ranges) {
      if (status == cudaSuccess) {
        status = check_device_range(s, range.address, range.bytes, stream->device, what);
      }
      operation.touches.push_back(range_of(range.address, range.bytes));
    }
    return status != cudaSuccess ? status : enqueue(s, stream, std::move(operation));
  });
}

}  // namespace qfp8::sim
