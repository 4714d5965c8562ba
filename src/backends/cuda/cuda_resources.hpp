// cuda_resources.hpp — RAII owners for device memory, pinned host memory, streams and
// events. Allocation failures throw CudaFailure (via QFP8_CUDA_CHECK); release never
// throws, because it runs in destructors, also while an exception unwinds.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace qfp8 {

struct DeviceFree {
  void operator()(uint8_t* pointer) const noexcept { (void)cudaFree(pointer); }
};
struct PinnedFree {
  void operator()(uint8_t* pointer) const noexcept { (void)cudaFreeHost(pointer); }
};
struct StreamDestroy {
  void operator()(cudaStream_t stream) const noexcept { (void)cudaStreamDestroy(stream); }
};
struct EventDestroy {
  void operator()(cudaEvent_t event) const noexcept { (void)cudaEventDestroy(event); }
};

using DeviceBytes = std::unique_ptr<uint8_t, DeviceFree>;
using PinnedBytes = std::unique_ptr<uint8_t, PinnedFree>;
// cudaStream_t and cudaEvent_t are pointers to opaque structs, so unique_ptr can own them.
using Stream = std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDestroy>;
using Event = std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, EventDestroy>;

/// cudaMalloc of at least one byte (cudaMalloc(0) would hand back null).
DeviceBytes allocate_device_bytes(std::size_t bytes);
/// cudaMallocHost: page-locked, so cudaMemcpyAsync can DMA it without a bounce copy.
PinnedBytes allocate_pinned_bytes(std::size_t bytes);
/// A non-blocking stream: no implicit sync with the legacy default stream.
Stream create_stream();
/// How the host waits in cudaEventSynchronize on an event.
enum class HostWait {
  None,   // the event only orders streams (cudaStreamWaitEvent)
  Block,  // the thread sleeps until the event completes instead of spinning on a core
          // that the staging reader's copies and the writer need (tens of microseconds
          // later, per chunk of milliseconds)
};

/// An event without timing, the cheapest kind to record and wait on.
Event create_event(HostWait host_wait = HostWait::None);

}  // namespace qfp8
