// main.cpp — picks the subcommand, runs it, and maps qfp8::Error to exit codes
// (0 ok, 1 usage, 2 invalid input or failed verification, 3 I/O or device failure,
// 4 internal error: a bug in qfp8-cuda).
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/build_info.hpp"
#include "cli/commands.hpp"
#include "cli/logging.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "platform/process.hpp"
#include "platform/termination.hpp"
#include "safetensors/byte_sink.hpp"

namespace {

struct Command {
  const char* name;
  int (*run)(const qfp8::cli::Args&);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"convert", qfp8::cli::run_convert, "convert a checkpoint to ComfyUI FP8 E4M3FN scaled"},
    {"verify", qfp8::cli::run_verify, "check an FP8 checkpoint (and re-derive it from its source)"},
    {"inspect", qfp8::cli::run_inspect, "summarize a safetensors file"},
    {"synth", qfp8::cli::run_synth, "write a synthetic Qwen-Image-shaped BF16 checkpoint"},
    {"dequantize", qfp8::cli::run_dequantize, "turn an FP8 scaled checkpoint back into BF16"},
    {"selftest", qfp8::cli::run_selftest, "compare the device numerics with the shared host cast"},
};

// One line, first words "qfp8-cuda VERSION" as before, e.g.
// "qfp8-cuda 0.1.0 (commit 93b8e7b1c2d3, CUDA 13.0 compiled in)".
void print_version() {
  const qfp8::cli::BuildInfo info = qfp8::cli::build_info();
  const std::string cuda = info.cuda[0] != '\0'
                               ? std::string("CUDA ") + info.cuda + " compiled in"
                               : std::string("CUDA not compiled in");
  std::printf("qfp8-cuda %s (commit %s, %s)\n", info.version, info.commit, cuda.c_str());
}

void print_usage() {
  std::printf("qfp8-cuda %s — BF16/F16/F32 safetensors to ComfyUI FP8 E4M3FN scaled\n\n",
              QFP8_VERSION);
  std::printf("usage: qfp8-cuda <command> [options]   (qfp8-cuda <command> --help)\n");
  std::printf("       qfp8-cuda -i IN -o OUT [options]   (same as convert)\n\ncommands:\n");
  for (const auto& command : kCommands) std::printf("  %-11s %s\n", command.name, command.summary);
  std::printf("\nexit codes: 0 ok, 1 usage, 2 invalid input or failed verification,\n"
              "            3 I/O or device failure, 4 internal error (a bug in qfp8-cuda)\n");
}

int dispatch(const std::vector<std::string>& argv) {
  if (argv.size() < 2 || argv[1] == "help") {
    print_usage();
    return argv.size() < 2 ? qfp8::kExitUsage : qfp8::kExitOk;
  }
  const std::string& first = argv[1];
  if (first == "-h" || first == "--help") {
    print_usage();
    return qfp8::kExitOk;
  }
  if (first == "--version" || first == "-V") {
    print_version();
    return qfp8::kExitOk;
  }
  for (const auto& command : kCommands) {
    if (first == command.name) {
      qfp8::cli::Args args{std::string("qfp8-cuda ") + command.name};
      args.insert(args.end(), argv.begin() + 2, argv.end());
      return command.run(args);
    }
  }
  // The reference converter's command line (`-i IN -o OUT ...`) means convert.
  if (!first.empty() && first[0] == '-') {
    qfp8::cli::Args args{"qfp8-cuda convert"};
    args.insert(args.end(), argv.begin() + 1, argv.end());
    return qfp8::cli::run_convert(args);
  }
  throw qfp8::Error(qfp8::ErrorCode::Usage, "unknown command '" + first + "' (see qfp8-cuda --help)");
}

}  // namespace

int main(int argc, char** argv) {
  // Process-wide signal set-up, once, here. A file-size limit (ulimit -f) must surface as a
  // clean EFBIG write error that removes the temporary output, not as a SIGXFSZ kill.
  // A closed stdout/stderr pipe (`qfp8-cuda convert ... -v 2>&1 | head -3`) must not kill a
  // conversion mid-write: writes to it fail with EPIPE instead, which printing and logging
  // ignore, and the output is still completed.
  qfp8::platform::ignore_pipe_and_file_size_signals();
  // Every other ending signal removes temporary outputs first; SIGBUS (input truncated
  // under its memory map) becomes a clean exit 2.
  qfp8::install_interrupt_cleanup();
  // UTF-8 on every system (Windows: from the UTF-16 command line).
  const std::vector<std::string> args = qfp8::platform::utf8_arguments(argc, argv);
  // Text logging on stderr until a subcommand parses its own --log-format.
  qfp8::cli::set_up_logging(qfp8::cli::LogFormat::Text, false, false);
  try {
    return dispatch(args);
  } catch (const qfp8::Error& error) {
    qfp8::log_error("{}", qfp8::error_message(error));
    return qfp8::exit_code_for(error.code());
  } catch (const std::bad_alloc&) {
    qfp8::log_error("out of memory");
    return qfp8::kExitIo;
  } catch (const std::exception& error) {
    qfp8::log_error("unexpected error: {}", error.what());
    return qfp8::kExitIo;
  }
}
