// fuzz_inspect_verify.cpp — libFuzzer target: any byte string stored as a file must go
// through `inspect` (open, summarize, both renderings) and `verify` (format rules, and a
// re-derivation against itself as the source) ending only in a report, findings, or a
// qfp8::Error. Any other exception escapes the harness and libFuzzer reports it as a crash,
// as it does a sanitizer report. The bytes live in a memfd, opened by path through
// /proc/self/fd, so the real file-opening and mapping code runs without touching the disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "inspect/inspect_summary.hpp"
#include "safetensors/reader.hpp"
#include "verify/verify.hpp"

namespace {

// One memfd for the whole run, rewritten for each input: creating one per input would
// spend most of the time in the kernel.
const std::string& memfd_path() {
  static const std::string path = [] {
    const int fd = ::memfd_create("fuzz.safetensors", 0);
    if (fd < 0) std::abort();
    return "/proc/self/fd/" + std::to_string(fd);
  }();
  return path;
}

int memfd_fd() { return std::stoi(memfd_path().substr(std::string("/proc/self/fd/").size())); }

void store(const uint8_t* data, size_t size) {
  const int fd = memfd_fd();
  if (::ftruncate(fd, 0) != 0) std::abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
}

void run_inspect(const std::string& path) {
  try {
    const qfp8::SafetensorsFile file(path);
    const qfp8::InspectSummary summary = qfp8::summarize(file);
    if (summary.tensor_count() != file.header().tensors.size()) std::abort();
    (void)qfp8::summary_to_json(summary, true).dump();
    (void)qfp8::summary_to_text(summary, true);
  } catch (const qfp8::Error&) {
    // Rejected with a named rule: the expected outcome for malformed input.
  }
}

void run_verify(const std::string& path, bool against_itself) {
  qfp8::verify::VerifyOptions options;
  options.threads = 1;
  if (against_itself) options.source_path = path;
  try {
    const auto result = qfp8::verify::verify_file(path, options);
    if (result.findings.empty()) std::abort();  // every run reports at least the container
    (void)qfp8::verify::failure_summary(result);
  } catch (const qfp8::Error&) {
    // Only I/O failures and an invalid source may be thrown; both are qfp8::Error.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  store(data, size);
  const std::string& path = memfd_path();
  run_inspect(path);
  run_verify(path, false);
  run_verify(path, true);
  return 0;
}
