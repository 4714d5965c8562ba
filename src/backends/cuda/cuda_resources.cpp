// cuda_resources.cu — checked allocation of the RAII-owned CUDA resources.
#include "backends/cuda/cuda_resources.hpp"

#include "kernels/cuda_check.hpp"

namespace qfp8 {

DeviceBytes allocate_device_bytes(std::size_t bytes) {
  void* pointer = nullptr;
  QFP8_CUDA_CHECK(cudaMalloc(&pointer, bytes == 0 ? 1 : bytes));
  return DeviceBytes(static_cast<uint8_t*>(pointer));
}

PinnedBytes allocate_pinned_bytes(std::size_t bytes) {
  void* pointer = nullptr;
  QFP8_CUDA_CHECK(cudaMallocHost(&pointer, bytes == 0 ? 1 : bytes));
  return PinnedBytes(static_cast<uint8_t*>(pointer));
}

Stream create_stream() {
  cudaStream_t stream = nullptr;
  QFP8_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  return Stream(stream);
}

Event create_event(HostWait host_wait) {
  cudaEvent_t event = nullptr;
  const unsigned flags = cudaEventDisableTiming |
                         (host_wait == HostWait::Block ? cudaEventBlockingSync : 0u);
  QFP8_CUDA_CHECK(cudaEventCreateWithFlags(&event, flags));
  return Event(event);
}

}  // namespace qfp8
