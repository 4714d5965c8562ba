// backend_select.cpp — --device auto|cpu|cuda (+ --gpu, --threads) to a backend. Auto takes
// a usable CUDA device when choose_auto_device() expects it to be faster, else the CPU, and
// falls back to the CPU when CUDA fails to start, saying why in the log.
#include "backends/backend_select.hpp"

#include "backends/auto_device.hpp"
#include "backends/cpu/backend_cpu.hpp"
#include "core/cpu_count.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#ifdef QFP8_HAVE_CUDA
#include "backends/cuda/cuda_backend.hpp"
#endif

namespace qfp8 {
namespace {

std::unique_ptr<QuantizeBackend> cpu_backend(unsigned threads, const char* why) {
  auto backend = make_cpu_backend(threads);
  log_info("backend: {} ({})", backend->description(), why);
  return backend;
}

#ifdef QFP8_HAVE_CUDA
// Empty when device `gpu` is usable, else the reason it is not.
std::string cuda_unusable_reason(int gpu) {
  const int count = cuda_usable_device_count();
  if (count == 0) return "no usable CUDA device (no driver or no GPU)";
  if (gpu < 0 || gpu >= count) {
    return "no usable CUDA device " + std::to_string(gpu) + " (" + std::to_string(count) +
           " found)";
  }
  return {};
}

// Empty when the CUDA backend writes every requested format, else the first it does not.
std::string cuda_format_gap(const BackendRequest& request) {
  for (const QuantFormat format : request.formats) {
    if (!cuda_backend_supports(format)) {
      return std::string("the CUDA backend does not write ") + quant_format_name(format) + " yet";
    }
  }
  return {};
}

std::unique_ptr<QuantizeBackend> cuda_backend(const BackendRequest& request) {
  CudaBackendOptions options;
  options.reader_threads = request.threads;  // the host's share: copying out of the input
  options.largest_tensor_bytes = request.largest_tensor_bytes;
  auto backend = make_cuda_backend(request.gpu, options);
  log_info("backend: {}", backend->description());
  return backend;
}
#endif

}  // namespace

DeviceChoice device_choice_from_name(const std::string& name) {
  if (name == "auto") return DeviceChoice::Auto;
  if (name == "cpu") return DeviceChoice::Cpu;
  if (name == "cuda") return DeviceChoice::Cuda;
  throw Error(ErrorCode::Usage,
              "invalid --device '" + name + "': expected auto, cpu or cuda");
}

std::unique_ptr<QuantizeBackend> select_backend(const BackendRequest& request) {
  if (request.device == DeviceChoice::Cpu) return cpu_backend(request.threads, "--device cpu");
#ifdef QFP8_HAVE_CUDA
  const std::string gap = cuda_format_gap(request);
  if (request.device == DeviceChoice::Cuda && !gap.empty()) {
    throw Error(ErrorCode::Usage, "--device cuda: " + gap + " (--device cpu writes it)");
  }
  if (!gap.empty()) return cpu_backend(request.threads, ("--device auto, " + gap).c_str());
  const std::string reason = cuda_unusable_reason(request.gpu);
  if (request.device == DeviceChoice::Cuda) {
    if (!reason.empty()) throw Error(ErrorCode::CudaUnavailable, "--device cuda: " + reason);
    return cuda_backend(request);
  }
  if (reason.empty()) {
    const unsigned cpu_threads = request.threads != 0 ? request.threads : default_thread_count();
    const AutoDeviceChoice choice = choose_auto_device(cpu_threads, request.model_bytes);
    log_info("--device auto: {}: {}", choice.cuda ? "the GPU" : "the CPU", choice.why);
    if (!choice.cuda) return cpu_backend(request.threads, "--device auto, faster here");
    try {
      return cuda_backend(request);
    } catch (const Error& error) {
      log_warn("cannot start the CUDA backend: {}; using the CPU", error.what());
      return cpu_backend(request.threads, "--device auto, CUDA failed to start");
    }
  }
  log_info("--device auto: {}", reason);
  return cpu_backend(request.threads, "--device auto, no usable CUDA device");
#else
  if (request.device == DeviceChoice::Cuda) {
    throw Error(ErrorCode::CudaUnavailable,
                "--device cuda: this binary was built without CUDA");
  }
  return cpu_backend(request.threads, "--device auto, built without CUDA");
#endif
}

}  // namespace qfp8
