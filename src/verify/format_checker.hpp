// format_checker.hpp — the format contract of an FP8 scaled checkpoint on EVERY layer:
// the reference verifier's rules (docs/format.md#verification) plus ours (finite positive scales, no NaN codes,
// .comfy_quant agreeing with the metadata, no undeclared FP8 weight, no stray companion,
// metadata names matching tensor names), files declared only by `.comfy_quant` tensors,
// and the legacy `scaled_fp8` layout. The layout is parsed by fp8_layout/.
#pragma once

#include "fp8_layout/fp8_layout.hpp"
#include "safetensors/reader.hpp"
#include "verify/findings.hpp"
#include "verify/nonfinite_codes.hpp"

namespace qfp8::verify {

using fp8_layout::Fp8Layout;
using fp8_layout::UsableLayer;

/// Every format rule but the non-finite code scan: the header, the declarations, the layers'
/// tensors and the small ones they read (scales, markers). Dispatches on the legacy marker.
/// Returns what the rules found the layers to be (usable ones only, when some fail).
Fp8Layout check_layout(const SafetensorsFile& file, FindingList& findings);

/// The non-finite code rule over every FP8 tensor but a legacy marker (check_nan_codes);
/// `counted` holds tensors already counted.
void check_codes_finite(const SafetensorsFile& file, unsigned threads, FindingList& findings,
                        const NonfiniteCounts& counted = {});

/// Every format rule: check_layout, then check_codes_finite.
Fp8Layout check_format(const SafetensorsFile& file, unsigned threads, FindingList& findings);

/// The legacy `scaled_fp8` layout's rules but the non-finite code scan (check_layout
/// dispatches here).
Fp8Layout check_legacy_layout(const SafetensorsFile& file, FindingList& findings);

}  // namespace qfp8::verify
