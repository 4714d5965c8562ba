// text_format.hpp — how shapes and sizes read in messages, logs and reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qfp8 {

/// "[3072, 64]"; "[]" for a 0-d tensor.
std::string shape_text(const std::vector<uint64_t>& shape);

/// Decimal units, as disks and checkpoints are sized: "40.9 GB", "13.2 MB", "0.4 kB".
std::string size_text(uint64_t bytes);

/// The closing line of a long job: "40.9 GB -> 20.5 GB in 38.2 s (1.07 GB/s)"; the rate is
/// of the input bytes.
std::string transfer_text(uint64_t input_bytes, uint64_t output_bytes, double seconds);

}  // namespace qfp8
