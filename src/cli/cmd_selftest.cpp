// cmd_selftest.cpp — `qfp8-cuda selftest [--device cuda|cpu] [--gpu N] [--quick]`: proves on
// this machine that a backend gives the reference twins' bytes (docs/format.md#numerics).
// With CUDA: the device parts (src/selftest/cuda: (a) the shared cast on the device vs the
// host for all 2^32 floats, (b) the kernels vs the reference, then (c)-(d) through the
// CUDA backend); with --device cpu, (c)-(d) through the CPU backend (src/selftest).
// Exit 0 all passed, 2 something differs, 3 no usable device.
#include <cstdio>
#include <string>

#include "backends/cpu/backend_cpu.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "core/error.hpp"
#include "selftest/backend_checks.hpp"

#ifdef QFP8_HAVE_CUDA
#include "selftest/cuda/device_checks.hpp"
#endif
namespace qfp8::cli {

int run_selftest(const Args& args) {
  cxxopts::Options options(
      "qfp8-cuda selftest",
      "Compare the device (or CPU) numerics with the reference, byte for byte");
  options.add_options()
      ("device", "cuda or cpu", cxxopts::value<std::string>()->default_value("cuda"))
      ("gpu", "CUDA device index", cxxopts::value<int>()->default_value("0"))
      ("quick", "Skip the 2^32-float cast sweep");
  add_common_options(options);
  const auto parsed = parse_or_throw(options, args);
  if (wants_help(parsed)) {
    std::printf("%s\n", options.help().c_str());
    return kExitOk;
  }
  const std::string device = parsed["device"].as<std::string>();
  if (device != "cuda" && device != "cpu") {
    throw Error(ErrorCode::Usage, "invalid --device '" + device + "': expected cuda or cpu");
  }
  selftest::Tally tally;
  if (device == "cuda") {
#ifdef QFP8_HAVE_CUDA
    selftest::run_cuda_checks(tally, parsed["gpu"].as<int>(), parsed.count("quick") > 0);
#else
    // Asked for the device and unable to run it: an error (exit 3), never a PASS that a
    // script could mistake for a tested GPU.
    throw Error(ErrorCode::CudaUnavailable,
                "cannot run the selftest on cuda: this binary was built without CUDA "
                "(use --device cpu for the CPU checks)");
#endif
  } else {
    auto backend = make_cpu_backend(0u);
    std::printf("selftest on %s (device checks not run)\n", backend->description().c_str());
    selftest::run_backend_checks(tally, *backend, "", 4 << 20);
  }
  std::printf("selftest: %s\n", tally.failed == 0 ? "PASS" : "FAIL");
  return tally.failed == 0 ? kExitOk : kExitInvalid;
}

}  // namespace qfp8::cli
