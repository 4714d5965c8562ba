// format_checker.hpp — the format contract of an FP8 scaled checkpoint on EVERY layer:
// the reference verifier's rules (docs/format.md#verification) plus ours (finite positive scales, no NaN codes,
// .comfy_quant agreeing with the metadata, no undeclared FP8 weight, no stray companion,
// metadata names matching tensor names), files declared only by `.comfy_quant` tensors,
// and the legacy `scaled_fp8` layout. The layout is parsed by fp8_layout/.
#pragma once

#include "fp8_layout/fp8_layout.hpp"
#include "safetensors/reader.hpp"
#include "verify/findings.hpp"

namespace qfp8::verify {

using fp8_layout::Fp8Layout;
using fp8_layout::UsableLayer;

/// Runs every format rule; findings go to `findings`. Dispatches on the legacy marker.
/// Returns what the rules found the layers to be (usable ones only, when some fail).
Fp8Layout check_format(const SafetensorsFile& file, unsigned threads, FindingList& findings);

/// The legacy `scaled_fp8` layout's rules (format_checker dispatches here).
Fp8Layout check_legacy_format(const SafetensorsFile& file, unsigned threads,
                              FindingList& findings);

}  // namespace qfp8::verify
