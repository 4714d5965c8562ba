// cmd_convert.cpp — the 'convert' subcommand: command line -> plan -> backend -> pipeline.
//   qfp8-cuda convert -i IN -o OUT [--device cuda|cpu|auto] [--preset ...] [--dry-run] ...
// IN and OUT may also be given as positionals. Only wiring lives here.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/logging.hpp"
#include "convert/backend_select.hpp"
#include "convert/pipeline.hpp"
#include "convert/plan_printer.hpp"
#include "convert/progress.hpp"
#include "core/error.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/reader.hpp"

namespace qfp8::cli {
namespace {

void add_convert_options(cxxopts::Options& options) {
  options.add_options("Convert")
      ("i,input", "Input safetensors checkpoint (BF16/F16/F32)", cxxopts::value<std::string>())
      ("o,output", "Output FP8 checkpoint (written atomically)", cxxopts::value<std::string>())
      ("d,device", "Compute device: cuda, cpu or auto", cxxopts::value<std::string>()->default_value("auto"))
      ("gpu", "CUDA device index", cxxopts::value<int>()->default_value("0"))
      ("threads", "CPU threads (0 = all cores)", cxxopts::value<unsigned>()->default_value("0"))
      ("preset", "Layer preset: auto, none or qwen-image", cxxopts::value<std::string>()->default_value("auto"))
      ("include", "Also quantize tensors matching REGEX (repeatable; .weight, float, 2-D only)",
       cxxopts::value<std::string>())
      ("exclude", "Keep tensors matching REGEX (repeatable; wins over --include)",
       cxxopts::value<std::string>())
      ("no-comfy-quant", "Do not write L.comfy_quant tensors (metadata only)")
      ("write-input-scale", "Write L.input_scale = 1.0 for every quantized layer")
      ("full-precision-mm", "Mark layers \"full_precision_matrix_mult\": true")
      ("dry-run", "Print the plan (every tensor, action and reason); write nothing (OUT optional)")
      ("force", "Replace an existing output file")
      ("verify", "Before the output appears, verify it against the input (as verify --against)");
  // cxxopts leaves positional options out of the option list, so the usage line names them.
  options.parse_positional({"input", "output"});
  options.custom_help("-i|--input IN -o|--output OUT [OPTION...]");
  options.positional_help("(or: IN OUT)");
}

/// Takes every `--flag VALUE` / `--flag=VALUE` out of `args`. Done by hand because cxxopts
/// splits vector values at commas, which regexes (`{1,3}`) legitimately contain.
std::vector<std::string> extract_repeated(Args& args, const std::string& flag) {
  std::vector<std::string> values;
  Args rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && args[i] == flag) {
      if (i + 1 >= args.size()) throw Error(ErrorCode::Usage, "option '" + flag + "' requires a value");
      values.push_back(args[++i]);
    } else if (i > 0 && args[i].rfind(flag + "=", 0) == 0) {
      values.push_back(args[i].substr(flag.size() + 1));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = std::move(rest);
  return values;
}

std::string required(const cxxopts::ParseResult& result, const char* name) {
  if (result.count(name) == 0) {
    throw Error(ErrorCode::Usage, std::string("missing --") + name + " (see qfp8-cuda convert --help)");
  }
  return result[name].as<std::string>();
}

/// Writing over the input while it is mapped would corrupt what is being read.
void check_not_same_file(const std::string& input, const std::string& output) {
  struct stat in_stat {};
  struct stat out_stat {};
  if (::stat(input.c_str(), &in_stat) == 0 && ::stat(output.c_str(), &out_stat) == 0 &&
      in_stat.st_dev == out_stat.st_dev && in_stat.st_ino == out_stat.st_ino) {
    throw Error(ErrorCode::Usage, "cannot write '" + output + "': it is the input file");
  }
}

PlanOptions plan_options(const cxxopts::ParseResult& result, std::vector<std::string> include,
                         std::vector<std::string> exclude) {
  PlanOptions options;
  options.preset = preset_from_name(result["preset"].as<std::string>());
  options.include_patterns = std::move(include);
  options.exclude_patterns = std::move(exclude);
  options.write_comfy_quant = result.count("no-comfy-quant") == 0;
  options.write_input_scale = result.count("write-input-scale") > 0;
  options.full_precision_mm = result.count("full-precision-mm") > 0;
  return options;
}

BackendRequest backend_request(const cxxopts::ParseResult& result) {
  BackendRequest request;
  request.device = device_choice_from_name(result["device"].as<std::string>());
  request.gpu = result["gpu"].as<int>();
  request.threads = result["threads"].as<unsigned>();
  return request;
}

int convert(const SafetensorsFile& input, const ConversionPlan& plan,
            const BackendRequest& request, const std::string& output,
            const OutputOptions& output_options) {
  check_not_same_file(input.path(), output);
  const auto backend = select_backend(request);
  spdlog::info("converting '{}' -> '{}': {} quantized, {} kept (preset {}) on {}", input.path(),
               output, plan.quantized_count, plan.kept_count, preset_name(plan.applied_preset),
               backend->description());
  Progress progress(progress_style_for(logging_is_quiet(), logging_is_json(), ::isatty(2) != 0),
                    plan.decisions.size(), input.header().data_size);
  const ConvertSummary summary = convert_to_file(input, plan, *backend, output, output_options, &progress);
  spdlog::info("{}", format_summary(summary));
  return kExitOk;
}

}  // namespace

int run_convert(const Args& args_in) {
  Args args = args_in;
  std::vector<std::string> include = extract_repeated(args, "--include");
  std::vector<std::string> exclude = extract_repeated(args, "--exclude");
  cxxopts::Options options("qfp8-cuda convert",
                           "Convert a BF16/F16/F32 safetensors checkpoint to ComfyUI FP8 E4M3FN scaled");
  add_common_options(options);
  add_convert_options(options);
  const auto result = parse_or_throw(options, args);
  if (wants_help(result)) {
    std::cout << options.help({"", "Convert", "Common"});
    return kExitOk;
  }
  if (!result.unmatched().empty()) {
    throw Error(ErrorCode::Usage, "unexpected argument '" + result.unmatched().front() + "'");
  }
  const bool dry_run = result.count("dry-run") > 0;
  const std::string input_path = required(result, "input");
  const std::string output_path = dry_run && result.count("output") == 0 ? "" : required(result, "output");
  const PlanOptions options_for_plan = plan_options(result, std::move(include), std::move(exclude));
  check_plan_options(options_for_plan);
  const BackendRequest request = backend_request(result);

  const SafetensorsFile input(input_path);
  const ConversionPlan plan = make_conversion_plan(input.header(), options_for_plan, input_path);
  if (dry_run) {
    print_plan(std::cout, input.header(), plan);
    return kExitOk;
  }
  OutputOptions output_options;
  output_options.overwrite = result.count("force") > 0;
  output_options.verify = result.count("verify") > 0;
  output_options.verify_threads = request.threads;
  return convert(input, plan, request, output_path, output_options);
}

}  // namespace qfp8::cli
