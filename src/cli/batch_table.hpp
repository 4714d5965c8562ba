// batch_table.hpp — the table `convert --output-dir` prints at the end of a batch.
#pragma once

#include <ostream>
#include <vector>

#include "convert/batch.hpp"

namespace qfp8::cli {

/// One row per input with its result, sizes and time, then "N of M converted, K failed".
void print_batch_table(std::ostream& out, const std::vector<BatchResult>& results);

}  // namespace qfp8::cli
