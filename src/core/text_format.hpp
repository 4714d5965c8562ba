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

}  // namespace qfp8
