// cmd_dequantize.cpp — the 'dequantize' subcommand: an FP8 scaled checkpoint (comfy or
// legacy layout) back to BF16 weights.
//   qfp8-cuda dequantize IN.fp8.safetensors OUT.safetensors [--force] [--threads N]
//   (or -i/--input IN -o/--output OUT, as for convert)
// Only wiring lives here; the work is in src/dequantize/.

#include <chrono>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/logging.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text_format.hpp"
#include "dequantize/dequantize.hpp"
#include "safetensors/output_target.hpp"
#include "safetensors/reader.hpp"
#include "verify/verify.hpp"

namespace qfp8::cli {
namespace {

cxxopts::Options dequantize_options() {
  cxxopts::Options options("qfp8-cuda dequantize",
                           "Turn a quantized checkpoint (float8_e4m3fn, float8_e5m2, mxfp8 or "
                           "nvfp4; comfy or legacy layout) back into BF16 weights; every other "
                           "tensor is copied unchanged");
  options.positional_help("IN.fp8.safetensors OUT.safetensors");
  // clang-format off
  options.add_options("Dequantize")
      ("i,input", "FP8 scaled checkpoint (or the first positional)", cxxopts::value<std::string>())
      ("o,output", "BF16 checkpoint to write, atomically (or the second positional)",
       cxxopts::value<std::string>())
      ("force", "Replace an existing output file")
      ("threads", "Threads for the input's NaN-code scan " + threads_range_help(),
       cxxopts::value<unsigned>()->default_value("0"));
  // clang-format on
  options.parse_positional({"input", "output"});
  add_common_options(options);
  return options;
}

}  // namespace

int run_dequantize(const Args& args) {
  cxxopts::Options options = dequantize_options();
  const auto parsed = parse_or_throw(options, args);
  if (wants_help(parsed)) {
    std::cout << options.help({"", "Dequantize", "Common"});
    return kExitOk;
  }
  if (parsed.count("input") == 0 || parsed.count("output") == 0) {
    throw Error(ErrorCode::Usage, "missing IN or OUT (see qfp8-cuda dequantize --help)");
  }
  const std::string input_path = parsed["input"].as<std::string>();
  const std::string output_path = parsed["output"].as<std::string>();
  check_not_same_file(input_path, output_path);
  check_output_target(output_path, parsed.count("force") > 0);  // before reading the input
  const SafetensorsFile input(input_path);
  const DequantizePlan plan = make_dequantize_plan(
      input, verify::require_valid_format(input, threads_option(parsed), "dequantize"));
  uint64_t input_bytes = 0;  // of the tensors written: the dropped companions are not read
  for (const auto& output : plan.outputs) input_bytes += input.find(output.name)->byte_size();
  const auto start = std::chrono::steady_clock::now();
  Progress progress(progress_style(), plan.outputs.size(), input_bytes);
  dequantize_to_file(input, plan, output_path, parsed.count("force") > 0, &progress);
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log_info("dequantized '{}' ({} layout) -> '{}': {}, {} layers to BF16, {} tensors copied, "
               "{} companions dropped",
               input_path, plan.legacy ? "legacy" : "comfy", output_path,
               transfer_text(input_bytes, plan.layout.file_size(), seconds), plan.layers,
               plan.copied, plan.dropped);
  return kExitOk;
}

}  // namespace qfp8::cli
