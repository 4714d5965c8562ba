// cuda_check.cpp — builds the CudaFailure message for QFP8_CUDA_CHECK.
#include "kernels/cuda_check.hpp"

#include <cstring>
#include <string>

#include "core/error.hpp"

namespace qfp8 {

[[noreturn]] void throw_cuda_failure(cudaError_t status, const char* statement, const char* file,
                                     int line) {
  // Reset the (non-sticky) error so a caller that recovers does not trip over it again.
  (void)cudaGetLastError();
  int device = -1;
  const std::string device_text =
      cudaGetDevice(&device) == cudaSuccess ? std::to_string(device) : std::string("?");
  (void)cudaGetLastError();
  const char* slash = std::strrchr(file, '/');
  const char* base = slash != nullptr ? slash + 1 : file;
  throw Error(ErrorCode::CudaFailure, "cannot run '" + std::string(statement) + "' (" + base + ":" +
                                          std::to_string(line) + ", cuda:" + device_text +
                                          "): " + cudaGetErrorString(status) + " (" +
                                          cudaGetErrorName(status) + ")");
}

}  // namespace qfp8
