// text_format.hpp — how shapes, sizes and untrusted names read in messages, logs and reports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qfp8 {

/// "[3072, 64]"; "[]" for a 0-d tensor.
std::string shape_text(const std::vector<uint64_t>& shape);

/// Decimal units, as disks and checkpoints are sized: "40.9 GB", "13.2 MB", "0.4 kB".
std::string size_text(uint64_t bytes);

/// The closing line of a long job: "<in> GB -> <out> GB in <t> s (<rate> GB/s)", sizes in
/// decimal units as size_text() writes them; the rate is of the input bytes.
std::string transfer_text(uint64_t input_bytes, uint64_t output_bytes, double seconds);

/// `text` as a terminal may show it: every byte of a C0 control (\n, \r, ESC...), DEL, a C1
/// control (U+0080..U+009F), a bidi override or isolate (U+202A..U+202E, U+2066..U+2069)
/// and every byte that is not UTF-8 becomes \xNN, so a tensor, metadata or file name cannot
/// move the cursor, clear the screen, start a new line or reorder what is shown. Everything
/// else, other UTF-8 included, is kept as it is. For text output only: JSON has its own
/// escaping and must keep the exact name.
std::string printable(std::string_view text);

}  // namespace qfp8
