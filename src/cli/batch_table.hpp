// batch_table.hpp — the table `convert --output-dir` prints at the end of a batch, and
// the line that says which share of the batch a sharded run took.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "convert/batch.hpp"
#include "convert/batch_shard.hpp"

namespace qfp8::cli {

/// One row per input with its result, sizes and time, then "N of M converted, K failed".
void print_batch_table(std::ostream& out, const std::vector<BatchResult>& results);

/// "shard 3/16 (from SLURM_ARRAY_TASK_ID=4 of array 1-16): 2 of 30 inputs", and for an empty
/// share "...: 0 of 7 inputs, nothing to convert".
std::string shard_summary(const Shard& shard, std::size_t taken, std::size_t total);

}  // namespace qfp8::cli
