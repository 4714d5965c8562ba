// launch_config.cuh — the one launch shape the grid-stride kernels share, and the split of
// a buffer into a scalar head, a 16-byte-vector body and a scalar tail.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace qfp8 {

/// 256 threads = 8 warps: enough for latency hiding, small enough for any SM.
inline constexpr unsigned kThreadsPerBlock = 256;
/// Grid-stride loops make any grid correct; 4096 blocks fill an H100 (132 SMs x 8 blocks
/// resident) several times over without a launch per element.
inline constexpr uint64_t kMaxBlocks = 4096;

inline unsigned blocks_for(uint64_t work_items) {
  uint64_t blocks = (work_items + kThreadsPerBlock - 1) / kThreadsPerBlock;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  if (blocks == 0) blocks = 1;
  return static_cast<unsigned>(blocks);
}

/// Elements before the first 16-byte-aligned one (at most numel). `address` must be a
/// multiple of the element size, or the vector body would straddle elements: CudaFailure
/// naming `kernel` otherwise.
inline uint64_t elements_before_alignment(const void* address, uint64_t element_size,
                                          uint64_t numel, const char* kernel) {
  if (reinterpret_cast<uintptr_t>(address) % element_size != 0) {
    throw Error(ErrorCode::CudaFailure, std::string("cannot run ") + kernel +
                                            ": device source is not aligned to its element size");
  }
  const uint64_t misalignment = reinterpret_cast<uintptr_t>(address) % 16;
  const uint64_t head = misalignment == 0 ? 0 : (16 - misalignment) / element_size;
  return head < numel ? head : numel;
}

}  // namespace qfp8
