// cmd_synth.cpp — the 'synth' subcommand: parses its options and streams a synthetic
// BF16 checkpoint of a known model's shape (src/synth/) into OUT through an atomic file sink.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/logging.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "safetensors/byte_sink.hpp"
#include "synth/synth_checkpoint.hpp"
#include "synth/synth_models.hpp"

namespace qfp8::cli {
namespace {

cxxopts::Options synth_options() {
  cxxopts::Options options("qfp8-cuda synth",
                           "Write a synthetic BF16 checkpoint with a real model's tensor names and "
                           "shapes (deterministic values from --seed), for tests and benchmarks.");
  options.add_options()
      ("model", "Model whose structure to copy: " + synth_model_names(), cxxopts::value<std::string>())
      ("blocks", "Number of transformer blocks (default: the model's full depth)",
       cxxopts::value<unsigned>())
      ("width-div", "Divide the model widths by this power of two (1 = full size)",
       cxxopts::value<unsigned>()->default_value("1"))
      ("seed", "Seed of the values", cxxopts::value<uint64_t>()->default_value("0"))
      ("prefix", "Prefix every name with 'model.diffusion_model.'")
      ("force", "Replace OUT if it exists")
      ("output", "Output .safetensors file", cxxopts::value<std::string>());
  options.parse_positional({"output"});
  options.positional_help("OUT");
  add_common_options(options);
  return options;
}

SynthConfig config_from(const cxxopts::ParseResult& result) {
  if (result.count("model") == 0) {
    throw Error(ErrorCode::Usage, "synth needs --model NAME, one of " + synth_model_names());
  }
  SynthConfig config;
  config.model = result["model"].as<std::string>();
  if (result.count("blocks") > 0) {
    config.blocks = result["blocks"].as<unsigned>();
    if (config.blocks == 0) throw Error(ErrorCode::Usage, "cannot synthesize 0 blocks: expected at least 1");
  }
  config.width_div = result["width-div"].as<unsigned>();
  config.seed = result["seed"].as<uint64_t>();
  config.prefix = result.count("prefix") > 0;
  validate_synth_config(config);
  return config;
}

double gigabytes(uint64_t bytes) { return static_cast<double>(bytes) / 1e9; }

}  // namespace

int run_synth(const Args& args) {
  auto options = synth_options();
  const auto result = parse_or_throw(options, args);
  if (wants_help(result)) {
    std::printf("%s\n", options.help().c_str());
    return kExitOk;
  }
  if (result.count("output") == 0) throw Error(ErrorCode::Usage, "synth needs an output file OUT");
  const SynthConfig config = config_from(result);
  const std::string output = result["output"].as<std::string>();

  AtomicFileOptions sink_options;
  sink_options.overwrite = result.count("force") > 0;
  AtomicFileSink sink(output, sink_options);
  log_info("synthesizing {} ({} blocks, width / {}, seed {}) into '{}'", config.model,
               config.blocks == 0 ? std::string("all") : std::to_string(config.blocks),
               config.width_div, config.seed, output);

  const auto start = std::chrono::steady_clock::now();
  const SynthSummary planned = synth_summary(config);
  Progress progress(progress_style(),
                    planned.tensors, planned.file_size);
  const SynthSummary summary = write_synth_checkpoint(config, sink, &progress);
  progress.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s: %zu tensors, %.3f B parameters, %.3f GB (BF16) in %.1f s (%.2f GB/s)\n",
              output.c_str(), summary.tensors, static_cast<double>(summary.parameters) / 1e9,
              gigabytes(summary.file_size), seconds, gigabytes(summary.file_size) / seconds);
  return kExitOk;
}

}  // namespace qfp8::cli
