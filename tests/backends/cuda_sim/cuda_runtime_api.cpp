// cuda_runtime_api.cpp — the cuda* functions of fake_runtime/cuda_runtime.h on the
// simulator (sim_engine.hpp): each takes the lock through api_call(), checks its
// arguments and the rules of cuda_sim.hpp, and queues or runs work.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include "sim_engine.hpp"

using qfp8::sim::detail::api_call;
using qfp8::sim::detail::State;

cudaError_t cudaGetDeviceCount(int* count) {
  return api_call("cudaGetDeviceCount", [&](State& s) {
    *count = s.config.devices;
    return s.config.devices == 0 ? cudaErrorNoDevice : cudaSuccess;
  });
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device) {
  return api_call("cudaGetDeviceProperties", [&](State& s) {
    if (!qfp8::sim::detail::valid_device(s, device)) return cudaErrorInvalidDevice;
    *properties = cudaDeviceProp{};
    std::snprintf(properties->name, sizeof properties->name, "Simulated CUDA device %d", device);
    properties->totalGlobalMem = s.config.device_memory_bytes;
    properties->major = 9;
    properties->minor = 0;
    return cudaSuccess;
  });
}

cudaError_t cudaSetDevice(int device) {
  return api_call("cudaSetDevice", [&](State& s) {
    if (!qfp8::sim::detail::valid_device(s, device)) return cudaErrorInvalidDevice;
    qfp8::sim::detail::current_device = device;
    qfp8::sim::detail::device_set = true;
    return cudaSuccess;
  });
}

cudaError_t cudaGetDevice(int* device) {
  return api_call("cudaGetDevice", [&](State&) {
    *device = qfp8::sim::detail::current_device;
    return cudaSuccess;
  });
}

cudaError_t cudaGetLastError() {
  State& s = qfp8::sim::detail::state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  ++s.calls["cudaGetLastError"];
  const cudaError_t error = std::exchange(qfp8::sim::detail::last_error, cudaSuccess);
  return s.sticky != cudaSuccess ? s.sticky : error;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInsufficientDriver:
      return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress:
      return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    default:
      return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInsufficientDriver:
      return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorIllegalAddress:
      return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    default:
      return "simulated error";
  }
}

cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  return api_call("cudaMalloc",
                  [&](State& s) { return qfp8::sim::detail::allocate(s, pointer, bytes, false); });
}

cudaError_t cudaFree(void* pointer) {
  return api_call("cudaFree", [&](State& s) {
    return qfp8::sim::detail::release(s, pointer, false, "cudaFree");
  });
}

cudaError_t cudaMallocHost(void** pointer, std::size_t bytes) {
  return api_call("cudaMallocHost",
                  [&](State& s) { return qfp8::sim::detail::allocate(s, pointer, bytes, true); });
}

cudaError_t cudaFreeHost(void* pointer) {
  return api_call("cudaFreeHost", [&](State& s) {
    return qfp8::sim::detail::release(s, pointer, true, "cudaFreeHost");
  });
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  return api_call("cudaStreamCreateWithFlags", [&](State& s) {
    // The legacy default stream would serialize with every other: the backend asks for
    // non-blocking streams, and the simulator has no default stream to serialize with.
    if ((flags & cudaStreamNonBlocking) == 0) {
      return qfp8::sim::detail::broken(s, cudaErrorInvalidValue, "streams must be non-blocking");
    }
    s.streams.push_back(std::make_unique<CUstream_st>());
    s.streams.back()->device = qfp8::sim::detail::current_device;
    *stream = s.streams.back().get();
    return cudaSuccess;
  });
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  return api_call("cudaStreamDestroy", [&](State& s) {
    if (!qfp8::sim::detail::valid_stream(s, stream)) return cudaErrorInvalidResourceHandle;
    // CUDA returns at once and finishes the queued work in the background: the work stays.
    stream->destroyed = true;
    return cudaSuccess;
  });
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  return api_call("cudaStreamSynchronize", [&](State& s) {
    if (!qfp8::sim::detail::valid_stream(s, stream)) return cudaErrorInvalidResourceHandle;
    const cudaError_t status =
        qfp8::sim::detail::check_thread_device(s, stream->device, "cudaStreamSynchronize");
    if (status != cudaSuccess) return status;
    return qfp8::sim::detail::wait_for_stream(s, *stream, "cudaStreamSynchronize");
  });
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags) {
  return api_call("cudaStreamWaitEvent", [&](State& s) {
    if (!qfp8::sim::detail::valid_event(s, event) || flags != 0)
      return cudaErrorInvalidResourceHandle;
    const cudaError_t status = qfp8::sim::detail::check_stream(s, stream, "cudaStreamWaitEvent");
    if (status != cudaSuccess) return status;
    // CUDA waits for the event's latest record at the time of the call; none: no wait.
    if (event->records() == 0) return cudaSuccess;
    return qfp8::sim::detail::enqueue(
        s, stream,
        qfp8::sim::detail::Operation{
            qfp8::sim::detail::Kind::Wait, "wait", {}, event, event->records(), {}});
  });
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  return api_call("cudaEventCreateWithFlags", [&](State& s) {
    (void)flags;  // timing or not: the simulator keeps no times
    s.events.push_back(std::make_unique<CUevent_st>());
    s.events.back()->device = qfp8::sim::detail::current_device;
    *event = s.events.back().get();
    return cudaSuccess;
  });
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  return api_call("cudaEventDestroy", [&](State& s) {
    if (!qfp8::sim::detail::valid_event(s, event)) return cudaErrorInvalidResourceHandle;
    // Like a stream: CUDA releases it once its queued records and waits are done.
    event->destroyed = true;
    return cudaSuccess;
  });
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  return api_call("cudaEventRecord", [&](State& s) {
    if (!qfp8::sim::detail::valid_event(s, event)) return cudaErrorInvalidResourceHandle;
    const cudaError_t status = qfp8::sim::detail::check_stream(s, stream, "cudaEventRecord");
    if (status != cudaSuccess) return status;
    if (event->device != stream->device) {
      return qfp8::sim::detail::broken(s, cudaErrorInvalidResourceHandle,
                                       "cudaEventRecord: event and stream of different devices");
    }
    event->record_done.push_back(0);
    return qfp8::sim::detail::enqueue(
        s, stream,
        qfp8::sim::detail::Operation{
            qfp8::sim::detail::Kind::Record, "record", {}, event, event->records(), {}});
  });
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return api_call("cudaEventSynchronize", [&](State& s) {
    if (!qfp8::sim::detail::valid_event(s, event)) return cudaErrorInvalidResourceHandle;
    const cudaError_t status =
        qfp8::sim::detail::check_thread_device(s, event->device, "cudaEventSynchronize");
    if (status != cudaSuccess) return status;
    return qfp8::sim::detail::wait_for_record(s, *event, event->records(), "cudaEventSynchronize");
  });
}

cudaError_t cudaMemcpyAsync(void* destination, const void* source, std::size_t bytes,
                            cudaMemcpyKind kind, cudaStream_t stream) {
  return api_call("cudaMemcpyAsync", [&](State& s) {
    cudaError_t status = qfp8::sim::detail::check_stream(s, stream, "cudaMemcpyAsync");
    if (status == cudaSuccess) {
      status = qfp8::sim::detail::copy_checks(s, destination, source, bytes, kind, stream->device);
    }
    if (status != cudaSuccess) return status;
    return qfp8::sim::detail::enqueue(
        s, stream,
        qfp8::sim::detail::Operation{qfp8::sim::detail::Kind::Work,
                                     qfp8::sim::detail::copy_name(kind),
                                     [=] { std::memcpy(destination, source, bytes); },
                                     nullptr,
                                     0,
                                     {qfp8::sim::detail::range_of(source, bytes),
                                      qfp8::sim::detail::range_of(destination, bytes)}});
  });
}

cudaError_t cudaMemsetAsync(void* destination, int value, std::size_t bytes, cudaStream_t stream) {
  return api_call("cudaMemsetAsync", [&](State& s) {
    cudaError_t status = qfp8::sim::detail::check_stream(s, stream, "cudaMemsetAsync");
    if (status == cudaSuccess) {
      status = qfp8::sim::detail::check_device_range(s, destination, bytes, stream->device,
                                                     "cudaMemsetAsync");
    }
    if (status != cudaSuccess) return status;
    return qfp8::sim::detail::enqueue(
        s, stream,
        qfp8::sim::detail::Operation{qfp8::sim::detail::Kind::Work,
                                     "memset",
                                     [=] { std::memset(destination, value, bytes); },
                                     nullptr,
                                     0,
                                     {qfp8::sim::detail::range_of(destination, bytes)}});
  });
}
