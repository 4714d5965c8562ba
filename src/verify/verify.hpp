// verify.hpp — the library entry point of `qfp8-cuda verify` and `convert --verify`:
// checks an FP8 scaled checkpoint against the format contract (docs/format.md#verification) and,
// given its source, re-derives every quantized layer with the shared numerics
// (docs/format.md#numerics).
#pragma once

#include <string>

#include "core/progress_meter.hpp"
#include "fp8_layout/fp8_layout.hpp"
#include "safetensors/reader.hpp"
#include "verify/findings.hpp"

namespace qfp8::verify {

struct VerifyOptions {
  std::string source_path;  // --against: empty for a format-only check
  unsigned threads = 1;     // worker threads for the per-element scans; 0 = all cores
  ProgressMeter* progress = nullptr;  // told what the re-derivation reads; may be null
};

/// Verifies the file at `path`, which need not be the final name (convert --verify passes
/// its temporary `.partial` file). Problems with the file's contents become findings
/// (container rule violations included: a file that does not open as safetensors is one
/// [ERR]); only I/O failures (OpenFailed, ReadFailed: exit 3) and a source that is itself
/// invalid are thrown as qfp8::Error. Streams tensor data: bounded memory.
VerifyResult verify_file(const std::string& path, const VerifyOptions& options);

/// The format rules as the precondition of another command (dequantize): checks `file`
/// (either layout; `threads` as in VerifyOptions) and throws the first ERR finding as
/// VerificationFailed, "cannot ACTION: input is not a valid FP8 scaled checkpoint: [ID]
/// message". Returns the layout the rules found, every layer of it usable.
fp8_layout::Fp8Layout require_valid_format(const SafetensorsFile& file, unsigned threads,
                                           const std::string& action);

/// "N errors; first: [ID] subject: message" — the detail of a VerificationFailed error.
std::string failure_summary(const VerifyResult& result);

}  // namespace qfp8::verify
