// cmd_convert.cpp — the 'convert' subcommand: command line -> plan -> backend -> pipeline.
//   qfp8-cuda convert -i IN -o OUT [--device cuda|cpu|auto] [--preset ...] [--dry-run] ...
//   qfp8-cuda convert IN1 IN2 ... --output-dir DIR [--input-list FILE]   (batch, one backend)
//   ... [--shard INDEX/COUNT | --shard auto [--shard-count N]]   (one task of a job array)
// IN and OUT may also be given as positionals; IN may be a sharded checkpoint directory.
// Only wiring lives here.

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend_select.hpp"
#include "cli/batch_table.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/convert_json.hpp"
#include "cli/convert_verification.hpp"
#include "cli/logging.hpp"
#include "cli/plan_printer.hpp"
#include "cli/progress.hpp"
#include "convert/batch.hpp"
#include "convert/pipeline.hpp"
#include "convert/batch_shard.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "input/tensor_source.hpp"
#include "plan/conversion_plan.hpp"
#include "safetensors/output_target.hpp"
#include "safetensors/reader.hpp"

namespace qfp8::cli {
namespace {

void add_convert_options(cxxopts::Options& options) {
  options.add_options("Convert")
      ("i,input", "Input safetensors checkpoint (BF16/F16/F32): a file, or a directory of shards "
       "(with a *.safetensors.index.json, or all its *.safetensors)", cxxopts::value<std::string>())
      ("o,output", "Output FP8 checkpoint (written atomically)", cxxopts::value<std::string>())
      ("output-dir", "Batch: convert every input into DIR/<stem>-fp8-e4m3fn.safetensors (-fp8-e5m2, "
       "-mxfp8, -nvfp4 after --format; -mixed added with --format-for or --layer-config)",
       cxxopts::value<std::string>())
      ("input-list", "Batch: read more inputs from FILE, one path per line", cxxopts::value<std::string>())
      ("shard", "Batch: convert only this task's share, INDEX/COUNT (e.g. 3/16): the inputs i "
       "(from 0, in order) with i mod COUNT = INDEX; 'auto': the job-array task's share, from "
       "SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with --shard-count", cxxopts::value<std::string>())
      ("shard-count", "Batch: the number of shards when the index comes from SLURM_ARRAY_TASK_ID "
       "or JOB_COMPLETION_INDEX (required with the latter; implies --shard auto)",
       cxxopts::value<std::string>())
      ("d,device", "Compute device: cuda, cpu or auto (the GPU where it is expected to be "
       "faster than the CPU's threads for this model's size, else the CPU; logged with why)",
       cxxopts::value<std::string>()->default_value("auto"))
      ("gpu", "CUDA device index", cxxopts::value<int>()->default_value("0"))
      ("threads", "Host threads: CPU cast workers, or CUDA staging readers " +
       threads_range_help(),
       cxxopts::value<unsigned>()->default_value("0"))
      ("preset", "Layers kept in high precision: auto (the detected model family), none (the bare "
       "rule), a family name, or list (print the families and exit)",
       cxxopts::value<std::string>()->default_value("auto"))
      ("include", "Also quantize tensors matching REGEX (repeatable; .weight, float, 2-D only)",
       cxxopts::value<std::string>())
      ("exclude", "Keep tensors matching REGEX (repeatable; wins over --include)",
       cxxopts::value<std::string>())
      ("format", "Format of the quantized layers: float8_e4m3fn, float8_e5m2, mxfp8 or nvfp4 "
       "(docs/format.md#formats)", cxxopts::value<std::string>()->default_value("float8_e4m3fn"))
      ("format-for", "REGEX=FORMAT: layers whose name matches REGEX get FORMAT, or stay in their "
       "dtype with 'keep' (repeatable; the first matching rule wins; before --layer-config's)",
       cxxopts::value<std::string>())
      ("layer-config", "JSON file of ordered rules REGEX -> FORMAT or keep: "
       "[{\"match\": REGEX, \"format\": FORMAT}, ...] or {REGEX: FORMAT, ...}",
       cxxopts::value<std::string>())
      ("no-comfy-quant", "Do not write L.comfy_quant tensors (metadata only)")
      ("write-input-scale", "Write L.input_scale = 1.0 for every quantized layer")
      ("full-precision-mm", "Mark layers \"full_precision_matrix_mult\": true")
      ("layout", "Output layout: comfy (_quantization_metadata) or legacy (scaled_fp8 + "
       "scale_weight); default: legacy for a text encoder, else comfy", cxxopts::value<std::string>())
      ("strip-prefix", "Remove prefix P from tensor names that start with it", cxxopts::value<std::string>())
      ("add-prefix", "Prepend P to every tensor name (after --strip-prefix)", cxxopts::value<std::string>())
      ("keep-dtype", "Kept float tensors: keep (unchanged) or bf16 (F16/F32 rounded to BF16)",
       cxxopts::value<std::string>()->default_value("keep"))
      ("requantize", "Re-quantize an FP8 input (not supported yet: use dequantize first)")
      ("dry-run", "Print the plan (every tensor, action and reason); write nothing (OUT optional)")
      ("force", "Replace an existing output file")
      ("verify", "Before the output appears, verify it against the input (as verify --against)")
      ("json", "Print one JSON object on stdout saying what was converted (counts, bytes, "
       "seconds, backend); with --dry-run instead of the plan (one conversion only)");
  // No parse_positional: positionals stay unmatched, so any number can be batch inputs
  // (a vector option would split paths at commas). select_inputs() assigns them.
  options.custom_help("-i|--input IN -o|--output OUT [OPTION...]\n"
                      "  qfp8-cuda convert IN OUT [OPTION...]\n"
                      "  qfp8-cuda convert IN... --output-dir DIR [--input-list FILE] "
                      "[--shard INDEX/COUNT] [OPTION...]");
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

/// Where inputs and outputs come from: `-i IN -o OUT` / `IN OUT` (one conversion), or
/// `IN... --output-dir DIR` and `--input-list FILE` (a batch: every positional is an input).
struct InputSelection {
  std::vector<std::string> inputs;
  std::string output;      // one conversion; empty for a dry run without one
  std::string output_dir;  // a batch when set
};

/// `--name`'s value, else the next positional, else "".
std::string option_or_next(const cxxopts::ParseResult& result, const char* name,
                           const std::vector<std::string>& positionals, std::size_t& next) {
  if (result.count(name) > 0) return result[name].as<std::string>();
  return next < positionals.size() ? positionals[next++] : std::string();
}

InputSelection select_single(const cxxopts::ParseResult& result, bool dry_run) {
  const std::vector<std::string>& positionals = result.unmatched();
  if (result.count("input-list") > 0) {
    throw Error(ErrorCode::Usage, "--input-list needs --output-dir DIR (see qfp8-cuda convert --help)");
  }
  for (const char* batch_only : {"shard", "shard-count"}) {
    if (result.count(batch_only) > 0) {
      throw Error(ErrorCode::Usage, std::string("--") + batch_only + " shares out a batch's inputs: "
                                    "it needs --output-dir DIR with IN... or --input-list FILE");
    }
  }
  std::size_t next = 0;
  InputSelection selection;
  const std::string input = option_or_next(result, "input", positionals, next);
  selection.output = option_or_next(result, "output", positionals, next);
  if (next < positionals.size()) {
    throw Error(ErrorCode::Usage, "unexpected argument '" + positionals[next] +
                                      "' (several inputs need --output-dir DIR)");
  }
  if (input.empty()) throw Error(ErrorCode::Usage, "missing --input (see qfp8-cuda convert --help)");
  if (selection.output.empty() && !dry_run) {
    throw Error(ErrorCode::Usage, "missing --output (see qfp8-cuda convert --help)");
  }
  selection.inputs.push_back(input);
  return selection;
}

InputSelection select_inputs(const cxxopts::ParseResult& result, bool dry_run) {
  if (result.count("output-dir") == 0) return select_single(result, dry_run);
  if (result.count("output") > 0) {
    throw Error(ErrorCode::Usage, "cannot combine --output with --output-dir (batch outputs are "
                                  "named DIR/<stem>-<format>.safetensors)");
  }
  InputSelection selection;
  selection.output_dir = result["output-dir"].as<std::string>();
  if (result.count("input") > 0) selection.inputs.push_back(result["input"].as<std::string>());
  const auto& positionals = result.unmatched();
  selection.inputs.insert(selection.inputs.end(), positionals.begin(), positionals.end());
  if (result.count("input-list") > 0) {
    const auto listed = read_input_list(result["input-list"].as<std::string>());
    selection.inputs.insert(selection.inputs.end(), listed.begin(), listed.end());
  }
  if (selection.inputs.empty()) {
    throw Error(ErrorCode::Usage, "missing inputs: give IN... or --input-list FILE with --output-dir");
  }
  return selection;
}

/// The share of a batch this run converts: --shard INDEX/COUNT; with --shard auto or
/// --shard-count, a job-array task's from the environment (docs/cluster.md); else all
/// (nullopt). The environment is read only when asked: a batch that happens to run inside
/// an array task must not silently convert a part of its list.
std::optional<Shard> select_shard(const cxxopts::ParseResult& result) {
  const bool has_count = result.count("shard-count") > 0;
  const std::string value = result.count("shard") > 0 ? result["shard"].as<std::string>() : "";
  if (!value.empty() && value != "auto") {
    if (has_count) {
      throw Error(ErrorCode::Usage, "cannot combine --shard INDEX/COUNT with --shard-count "
                                    "(use --shard auto --shard-count N)");
    }
    return parse_shard(value);
  }
  if (value.empty() && !has_count) return std::nullopt;
  std::optional<std::size_t> count;
  if (has_count) count = parse_shard_count(result["shard-count"].as<std::string>());
  std::optional<Shard> shard =
      shard_from_environment([](const char* name) { return std::getenv(name); }, count);
  if (!shard) {
    throw Error(ErrorCode::Usage, "--shard auto: neither SLURM_ARRAY_TASK_ID nor "
                                  "JOB_COMPLETION_INDEX is set (give --shard INDEX/COUNT)");
  }
  return shard;
}

/// --format, then the rules: --format-for in command-line order, then --layer-config's.
void add_format_options(const cxxopts::ParseResult& result,
                        const std::vector<std::string>& format_for, PlanOptions& options) {
  const std::string name = result["format"].as<std::string>();
  const auto format = quant_format_from_name(name);
  if (!format) {
    throw Error(ErrorCode::Usage,
                "unknown --format '" + name + "' (expected " + quant_format_list() + ")");
  }
  options.format = *format;
  for (const auto& text : format_for) options.format_rules.push_back(format_rule_from_flag(text));
  if (result.count("layer-config") > 0) {
    for (auto& rule : format_rules_from_file(result["layer-config"].as<std::string>())) {
      options.format_rules.push_back(std::move(rule));
    }
  }
}

PlanOptions plan_options(const cxxopts::ParseResult& result, std::vector<std::string> include,
                         std::vector<std::string> exclude,
                         const std::vector<std::string>& format_for) {
  PlanOptions options;
  add_format_options(result, format_for, options);
  options.preset = preset_from_name(result["preset"].as<std::string>());
  options.include_patterns = std::move(include);
  options.exclude_patterns = std::move(exclude);
  options.write_comfy_quant = result.count("no-comfy-quant") == 0;
  options.write_input_scale = result.count("write-input-scale") > 0;
  options.full_precision_mm = result.count("full-precision-mm") > 0;
  if (result.count("layout") > 0) {
    options.layout = output_layout_from_name(result["layout"].as<std::string>());
  }
  if (result.count("strip-prefix") > 0) options.strip_prefix = result["strip-prefix"].as<std::string>();
  if (result.count("add-prefix") > 0) options.add_prefix = result["add-prefix"].as<std::string>();
  const std::string keep_dtype = result["keep-dtype"].as<std::string>();
  if (keep_dtype != "keep" && keep_dtype != "bf16") {
    throw Error(ErrorCode::Usage, "unknown --keep-dtype '" + keep_dtype + "' (expected keep or bf16)");
  }
  options.keep_as_bf16 = keep_dtype == "bf16";
  if (result.count("requantize") > 0) {
    throw Error(ErrorCode::Usage,
                "--requantize is not supported yet: run 'qfp8-cuda dequantize IN BF16_OUT', then "
                "convert BF16_OUT (the FP8 codes would otherwise be rounded twice)");
  }
  // verify --against compares output and input tensor by tensor, under the same names and
  // dtypes: renamed or BF16-converted outputs would all be reported as changed.
  const bool renames = !options.strip_prefix.empty() || !options.add_prefix.empty();
  if (result.count("verify") > 0 && (renames || options.keep_as_bf16)) {
    throw Error(ErrorCode::Usage,
                "--verify cannot check renamed (--strip-prefix/--add-prefix) or --keep-dtype bf16 "
                "outputs against the input; run 'qfp8-cuda verify OUT' afterwards instead");
  }
  return options;
}

BackendRequest backend_request(const cxxopts::ParseResult& result, const PlanOptions& plan) {
  BackendRequest request;
  request.formats = FormatRules(plan.format, plan.format_rules).formats();
  request.device = device_choice_from_name(result["device"].as<std::string>());
  request.gpu = result["gpu"].as<int>();
  request.threads = threads_option(result);
  return request;
}

/// Everything one conversion needs besides its input and output.
struct ConvertSettings {
  PlanOptions plan;
  bool overwrite = false;       // --force
  bool verify = false;          // --verify: verify --against the input before it appears
  unsigned verify_threads = 0;  // 0 = all cores
  bool dry_run = false;
  bool json = false;            // --json: the summary object on stdout, not the plan
};

/// Selects the backend on first use, so an input that fails to plan never touches the
/// device, and a batch selects it once: for its first input's size (auto's choice and the
/// CUDA staging; the staging grows for a later, larger model).
class LazyBackend {
 public:
  explicit LazyBackend(const BackendRequest& request) : request_(request) {}
  QuantizeBackend& get(const TensorSource& input) {
    if (!backend_) {
      request_.model_bytes = input.total_bytes();
      for (const auto& tensor : input.header().tensors) {
        request_.largest_tensor_bytes = std::max(request_.largest_tensor_bytes, tensor.byte_size());
      }
      backend_ = select_backend(request_);
    }
    return *backend_;
  }

 private:
  BackendRequest request_;
  std::unique_ptr<QuantizeBackend> backend_;
};

/// Says which model family the plan applies and from which tensors; auto without exactly
/// one match is a warning that names the decision. The same in a dry run, so that the plan
/// says from which tensors its family was detected.
void log_model_family(const std::string& input_path, const ConversionPlan& plan,
                      const PlanOptions& options) {
  const FamilyDetection& detection = plan.detection;
  const FamilyMatch* match = detection.unique();
  if (match != nullptr) {
    const std::string text = "'" + input_path + "': model family " + describe_match(*match) +
                             "; preset " + preset_name(plan.applied_preset);
    log_info("{}", text);
    return;
  }
  if (options.preset != Preset::Auto) return;  // forced: the user's decision, stated in the plan
  const char* fallback = "using the bare rule (every 2-D float .weight of at least 4096 "
                         "elements); --preset NAME forces a family, --preset list shows them";
  if (detection.matches.empty()) {
    log_warn("'{}': no model family matches its tensor names ({}); {}", input_path,
                 model_family_names(), fallback);
    return;
  }
  std::string matches;
  for (const auto& each : detection.matches) {
    matches += (matches.empty() ? "" : "; ") + describe_match(each);
  }
  log_warn("'{}': ambiguous model family, several match ({}); {}", input_path, matches,
               fallback);
}

/// Opens and plans `input_path`; a dry run prints the plan (and returns its sizes), else
/// the output is written.
ConvertSummary convert_one(const std::string& input_path, const std::string& output,
                           const ConvertSettings& settings, LazyBackend& lazy_backend) {
  if (!settings.dry_run) {
    // An output that can never be written (it exists without --force, or it is a device,
    // FIFO, socket or directory) is refused before the input is even opened.
    check_not_same_file(input_path, output);
    check_output_target(output, settings.overwrite);
  }
  const TensorSource input = TensorSource::open(input_path);
  const ConversionPlan plan = make_conversion_plan(input.header(), settings.plan, input_path);
  log_model_family(input_path, plan, settings.plan);
  if (!plan.layout_reason.empty()) log_info("'{}': {}", input_path, plan.layout_reason);
  if (settings.dry_run && !settings.json) print_plan(std::cout, input.header(), plan);
  require_quantized_layers(plan, input_path);
  if (settings.dry_run) {
    ConvertSummary planned;
    planned.quantized = plan.quantized_count;
    planned.kept = plan.kept_count;
    planned.input_bytes = input.total_bytes();
    planned.output_bytes = plan.layout.file_size();
    return planned;
  }
  for (std::size_t i = 0; i < input.shard_count(); ++i) {
    check_not_same_file(input.shard(i).path(), output);
  }
  QuantizeBackend* backend = &lazy_backend.get(input);
  log_info("converting '{}' -> '{}': {} quantized, {} kept (preset {}) on {}", input_path,
               output, plan.quantized_count, plan.kept_count, preset_name(plan.applied_preset),
               backend->description());
  Progress progress(progress_style(), plan.decisions.size(), input.header().data_size);
  // The output chain: the atomic file, and with --verify the verifying stage before it.
  OutputOptions chain;
  chain.overwrite = settings.overwrite;
  if (settings.verify) chain.stage = verifying_stage(input, settings.verify_threads);
  const ConvertSummary summary = convert_to_file(input, plan, *backend, output, chain, &progress);
  log_info("{}", format_summary(summary));
  return summary;
}

/// A batch: one backend for all inputs; a failed input is reported and the rest go on.
/// With a shard, only its share: the outputs are named (and name clashes found) over all
/// inputs, so that every task of an array agrees on them and no two write the same file.
int convert_batch(const InputSelection& selection, const std::optional<Shard>& shard,
                  const ConvertSettings& settings, const BackendRequest& request) {
  const std::string tag =
      batch_format_tag(settings.plan.format, !settings.plan.format_rules.empty());
  std::vector<BatchItem> items = plan_batch(selection.inputs, selection.output_dir, tag);
  if (shard) {
    const std::size_t total = items.size();
    items = shard_items(items, *shard);
    const std::string text = shard_summary(*shard, items.size(), total);
    log_info("{}", text);
    std::cout << text << "\n";
    if (items.empty()) return kExitOk;
  }
  if (!settings.dry_run) make_output_dir(selection.output_dir);
  LazyBackend backend(request);
  const auto results = run_batch(items, [&](const BatchItem& item) {
    return convert_one(item.input, item.output, settings, backend);
  });
  print_batch_table(std::cout, results);
  return batch_exit_code(results);
}

}  // namespace

int run_convert(const Args& args_in) {
  Args args = args_in;
  std::vector<std::string> include = extract_repeated(args, "--include");
  std::vector<std::string> exclude = extract_repeated(args, "--exclude");
  const std::vector<std::string> format_for = extract_repeated(args, "--format-for");
  cxxopts::Options options("qfp8-cuda convert",
                           "Convert a BF16/F16/F32 safetensors checkpoint to ComfyUI FP8 E4M3FN scaled "
                           "(or float8_e5m2, mxfp8, nvfp4)");
  add_common_options(options);
  add_convert_options(options);
  // Positionals are the inputs (and output): select_inputs() assigns and checks them.
  const auto result = parse_or_throw(options, args, ExtraArguments::Keep);
  if (wants_help(result)) {
    std::cout << options.help({"", "Convert", "Common"});
    return kExitOk;
  }
  if (result["preset"].as<std::string>() == "list") {
    print_model_families(std::cout);
    return kExitOk;
  }
  ConvertSettings settings;
  settings.dry_run = result.count("dry-run") > 0;
  const InputSelection selection = select_inputs(result, settings.dry_run);
  const std::optional<Shard> shard =
      selection.output_dir.empty() ? std::nullopt : select_shard(result);
  settings.plan = plan_options(result, std::move(include), std::move(exclude), format_for);
  check_plan_options(settings.plan);
  const BackendRequest request = backend_request(result, settings.plan);
  settings.overwrite = result.count("force") > 0;
  settings.verify = result.count("verify") > 0;
  settings.verify_threads = request.threads;
  settings.json = result.count("json") > 0;
  if (!selection.output_dir.empty()) {
    if (settings.json) {
      throw Error(ErrorCode::Usage, "--json reports one conversion: it cannot be combined with "
                                    "--output-dir (the batch prints a table)");
    }
    return convert_batch(selection, shard, settings, request);
  }

  LazyBackend backend(request);
  ConvertReport report{selection.inputs.front(), selection.output, settings.dry_run,
                       settings.verify && !settings.dry_run, {}};
  report.summary = convert_one(report.input, report.output, settings, backend);
  if (settings.json) std::cout << convert_json_text(report) << std::flush;
  return kExitOk;
}

}  // namespace qfp8::cli
