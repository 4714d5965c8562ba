// batch_shard.hpp — `convert ... --output-dir DIR --shard INDEX/COUNT`: which share of a
// batch's inputs one task of a job array converts, and where INDEX and COUNT come from (the
// command line, a Slurm job array, or a Kubernetes Indexed Job).
//
// The assignment is round-robin over the batch's inputs in the user's order: input i
// (counting from 0) belongs to shard i mod COUNT. It depends only on the list, never on the
// machine, and the shards' sizes differ by at most one input (hashing names would leave
// some of 16 shards with 2-3 models and others with none).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "convert/batch.hpp"

namespace qfp8 {

struct Shard {
  std::size_t index = 0;  // 0-based, below count
  std::size_t count = 1;
  std::string source;     // where index and count came from, for the log
};

/// The value of an environment variable, or nullptr when it is not set (std::getenv).
using EnvLookup = std::function<const char*(const char* name)>;

/// Parses `--shard INDEX/COUNT` (decimal, INDEX < COUNT). Throws Error(Usage).
Shard parse_shard(const std::string& text);

/// Parses `--shard-count N` (decimal, at least 1). Throws Error(Usage).
std::size_t parse_shard_count(const std::string& text);

/// The shard of a job-array task, from the environment:
///  - Slurm (SLURM_ARRAY_TASK_ID set): without `count`, index (ID - MIN) / STEP of
///    SLURM_ARRAY_TASK_COUNT, the array being one range (MIN, MIN+STEP, ..., MAX); with
///    `count` (--shard-count), index = the ID itself.
///  - Kubernetes Indexed Job (JOB_COMPLETION_INDEX set): that index, of `count`, which
///    is required: Kubernetes publishes no count.
/// nullopt when neither is set and `count` is not given. Throws Error(Usage) on a value
/// that is not a number, an index outside the count, both schedulers' variables at once,
/// a missing count, or `count` without an index.
std::optional<Shard> shard_from_environment(const EnvLookup& env,
                                           std::optional<std::size_t> count);

/// The items of `shard`: item i when i mod count == index, in their order.
std::vector<BatchItem> shard_items(const std::vector<BatchItem>& items, const Shard& shard);

}  // namespace qfp8
