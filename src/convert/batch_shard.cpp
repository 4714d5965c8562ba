// batch_shard.cpp — a batch task's share of the inputs, and its index and count (see
// batch_shard.hpp).
#include "convert/batch_shard.hpp"

#include <limits>

#include "core/error.hpp"

namespace qfp8 {
namespace {

constexpr const char* kSlurmId = "SLURM_ARRAY_TASK_ID";
constexpr const char* kSlurmCount = "SLURM_ARRAY_TASK_COUNT";
constexpr const char* kSlurmMin = "SLURM_ARRAY_TASK_MIN";
constexpr const char* kSlurmMax = "SLURM_ARRAY_TASK_MAX";
constexpr const char* kSlurmStep = "SLURM_ARRAY_TASK_STEP";
constexpr const char* kJobIndex = "JOB_COMPLETION_INDEX";

/// A plain decimal number: digits only (no sign, space or suffix), no overflow.
std::optional<std::size_t> decimal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::size_t>(c - '0');
    if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

/// The variable's number, nullopt when it is not set; set but not a number is a usage error.
std::optional<std::size_t> env_number(const EnvLookup& env, const char* name) {
  const char* value = env(name);
  if (value == nullptr) return std::nullopt;
  const auto number = decimal(value);
  if (!number) {
    throw Error(ErrorCode::Usage, std::string("invalid ") + name + " '" + value +
                                      "' in the environment: not a whole number (--shard "
                                      "INDEX/COUNT overrides it)");
  }
  return number;
}

std::size_t required_env_number(const EnvLookup& env, const char* name) {
  const auto number = env_number(env, name);
  if (!number) {
    throw Error(ErrorCode::Usage, std::string(kSlurmId) + " is set but " + name +
                                      " is not: give --shard INDEX/COUNT, or --shard-count N");
  }
  return *number;
}

/// `index` of `count` from variable `name` with --shard-count.
Shard counted_shard(const char* name, std::size_t index, std::size_t count) {
  const std::string value = std::to_string(index);
  const std::string limit = std::to_string(count);
  if (index >= count) {
    throw Error(ErrorCode::Usage, std::string(name) + " " + value + " is not below --shard-count " +
                                      limit + " (shards are numbered 0 to " +
                                      std::to_string(count - 1) + ")");
  }
  return {index, count, std::string(name) + "=" + value + ", --shard-count " + limit};
}

/// A Slurm array task without --shard-count: its position in the array's one range of IDs.
Shard slurm_array_shard(const EnvLookup& env, std::size_t id) {
  const std::size_t count = required_env_number(env, kSlurmCount);
  const std::size_t first = required_env_number(env, kSlurmMin);
  const std::size_t last = required_env_number(env, kSlurmMax);
  const std::size_t step = env_number(env, kSlurmStep).value_or(1);
  // --array=0-15 or 1-16 (or 0-30:2) is one range; --array=1,3,7 or a resubmitted subset
  // of tasks is not, and its COUNT is not the number of shards.
  const bool one_range = count > 0 && step > 0 && first <= id && id <= last &&
                         (id - first) % step == 0 && (last - first) / step == count - 1 &&
                         (last - first) % step == 0;
  std::string array = std::to_string(first) + "-" + std::to_string(last);
  if (step != 1) array += ":" + std::to_string(step);
  if (!one_range) {
    throw Error(ErrorCode::Usage,
                "cannot number Slurm array task " + std::to_string(id) + ": its array (" + array +
                    ", " + std::to_string(count) + " tasks) is not one range of IDs; give --shard "
                    "INDEX/COUNT, or --shard-count N with task IDs 0 to N-1");
  }
  return {(id - first) / step, count,
          std::string(kSlurmId) + "=" + std::to_string(id) + " of array " + array};
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  const auto index = decimal(text.substr(0, slash));
  const auto count = slash == std::string::npos ? std::nullopt : decimal(text.substr(slash + 1));
  const std::string what = "invalid --shard '" + text + "': ";
  if (!index || !count) {
    throw Error(ErrorCode::Usage, what + "expected INDEX/COUNT, two whole numbers such as 3/16");
  }
  if (*count == 0) throw Error(ErrorCode::Usage, what + "COUNT must be at least 1");
  if (*index >= *count) {
    throw Error(ErrorCode::Usage, what + "INDEX must be below COUNT (shards are numbered 0 to " +
                                      std::to_string(*count - 1) + ")");
  }
  return {*index, *count, "--shard"};
}

std::size_t parse_shard_count(const std::string& text) {
  const auto count = decimal(text);
  if (!count || *count == 0) {
    throw Error(ErrorCode::Usage,
                "invalid --shard-count '" + text + "': expected a whole number of at least 1");
  }
  return *count;
}

std::optional<Shard> shard_from_environment(const EnvLookup& env,
                                           std::optional<std::size_t> count) {
  const auto slurm_id = env_number(env, kSlurmId);
  const auto job_index = env_number(env, kJobIndex);
  if (slurm_id && job_index) {
    throw Error(ErrorCode::Usage, std::string("both ") + kSlurmId + " and " + kJobIndex +
                                      " are set: give --shard INDEX/COUNT");
  }
  if (slurm_id) {
    return count ? counted_shard(kSlurmId, *slurm_id, *count) : slurm_array_shard(env, *slurm_id);
  }
  if (job_index) {
    if (!count) {
      throw Error(ErrorCode::Usage,
                  std::string(kJobIndex) + " is set (" + std::to_string(*job_index) +
                      ") but the number of shards is not: give --shard-count N (the Job's "
                      "spec.completions), or --shard 0/1 to convert every input");
    }
    return counted_shard(kJobIndex, *job_index, *count);
  }
  if (count) {
    throw Error(ErrorCode::Usage, std::string("--shard-count needs ") + kSlurmId + " or " +
                                      kJobIndex +
                                      " in the environment (or give --shard INDEX/COUNT)");
  }
  return std::nullopt;
}

std::vector<BatchItem> shard_items(const std::vector<BatchItem>& items, const Shard& shard) {
  std::vector<BatchItem> mine;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i % shard.count == shard.index) mine.push_back(items[i]);
  }
  return mine;
}

}  // namespace qfp8
