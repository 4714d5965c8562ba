// test_batch_shard.cpp — `convert ... --output-dir DIR --shard INDEX/COUNT` ([batch-shard]):
// input i belongs to shard i mod COUNT; INDEX and COUNT from a Slurm job array or a Kubernetes
// Indexed Job; bad values are usage errors; and end to end, N shards run at the same time
// into one DIR convert every input exactly once.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "convert/batch.hpp"
#include "convert/batch_shard.hpp"
#include "core/error.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"
#include "support/safetensors_bytes.hpp"
#include "support/synthetic_model.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kSchedulerVariables = {
    "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX"};

/// The scheduler variables of this process removed (a test run inside a job array must
/// not shard), then `set` ("NAME=VALUE") applied.
EnvChanges scheduler_env(const std::vector<std::string>& set = {}) {
  EnvChanges changes = kSchedulerVariables;
  changes.insert(changes.end(), set.begin(), set.end());
  return changes;
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = scratch_dir("shard") + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

/// `count` tiny models m0..m<count-1> in `dir`, and `dir`/list.txt naming them in order.
std::vector<std::string> write_models(const std::string& dir, std::size_t count) {
  std::vector<std::string> inputs;
  std::ofstream list(dir + "/list.txt");
  for (std::size_t i = 0; i < count; ++i) {
    SyntheticModelOptions model;
    model.blocks = 1;
    model.seed = i + 1;
    inputs.push_back(dir + "/m" + std::to_string(i) + ".safetensors");
    write_synthetic_model(inputs.back(), model);
    list << inputs.back() << "\n";
  }
  return inputs;
}

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

/// Runs every task of an array at once: `convert --input-list LIST --output-dir OUT` plus
/// its own extra arguments and environment.
std::vector<ChildResult> run_tasks(const std::string& dir, const std::string& out_dir,
                                   const std::vector<std::vector<std::string>>& extra_args,
                                   const std::vector<EnvChanges>& envs) {
  std::vector<ChildSpec> children;
  for (std::size_t task = 0; task < extra_args.size(); ++task) {
    std::vector<std::string> argv = {QFP8_BINARY, "convert", "--input-list", dir + "/list.txt",
                                     "--output-dir", out_dir, "--device", "cpu", "-q"};
    argv.insert(argv.end(), extra_args[task].begin(), extra_args[task].end());
    children.push_back({argv, envs[task]});
  }
  return run_children(children, scratch_dir("shard"));
}

/// Every input converted by exactly one task, task `shard_of(i)`, and DIR holds exactly
/// the inputs' outputs (no lock or partial file left).
void check_each_input_once(const std::vector<std::string>& inputs,
                           const std::vector<ChildResult>& tasks, const std::string& out_dir,
                           std::size_t shard_count) {
  for (const auto& task : tasks) {
    INFO(task.out << task.err);
    CHECK(task.exit_code == 0);
  }
  std::set<std::string> expected_files;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    expected_files.insert("m" + std::to_string(i) + "-fp8-e4m3fn.safetensors");
    std::vector<std::size_t> converted_by;
    for (std::size_t task = 0; task < tasks.size(); ++task) {
      const std::string row = row_of(tasks[task].out, inputs[i]);
      if (!row.empty()) {
        CHECK(row.find(" ok ") != std::string::npos);
        converted_by.push_back(task);
      }
    }
    INFO("input " << i);
    CHECK(converted_by == std::vector<std::size_t>{i % shard_count});
  }
  CHECK(files_in(out_dir) == expected_files);
}

/// The Error(Usage) message `call` throws, or "" when it throws none (or another code).
template <typename Call>
std::string usage_error(Call call) {
  try {
    call();
  } catch (const Error& error) {
    if (error.code() == ErrorCode::Usage) return error.what();
  }
  return {};
}

/// A fake environment.
EnvLookup env_of(const std::map<std::string, std::string>& values) {
  return [values](const char* name) -> const char* {
    const auto found = values.find(name);
    return found == values.end() ? nullptr : found->second.c_str();
  };
}

using Env = std::map<std::string, std::string>;

/// The usage error shard_from_environment() throws for `env`, or "".
std::string env_error(const Env& env, std::optional<std::size_t> count) {
  return usage_error([&] { shard_from_environment(env_of(env), count); });
}

std::vector<std::string> inputs_of(const std::vector<BatchItem>& items) {
  std::vector<std::string> inputs;
  for (const auto& item : items) inputs.push_back(item.input);
  return inputs;
}

}  // namespace

TEST_CASE("shard INDEX of COUNT takes inputs i with i mod COUNT = INDEX", "[batch][batch-shard]") {
  const auto items = plan_batch({"m0", "m1", "m2", "m3", "m4", "m5", "m6"}, "out");
  using Inputs = std::vector<std::string>;
  CHECK(inputs_of(shard_items(items, {0, 3, ""})) == Inputs{"m0", "m3", "m6"});
  CHECK(inputs_of(shard_items(items, {1, 3, ""})) == Inputs{"m1", "m4"});
  CHECK(inputs_of(shard_items(items, {2, 3, ""})) == Inputs{"m2", "m5"});
  CHECK(inputs_of(shard_items(items, {6, 9, ""})) == Inputs{"m6"});
  CHECK(inputs_of(shard_items(items, {8, 9, ""})).empty());
  CHECK(inputs_of(shard_items(items, {0, 1, ""})).size() == 7);
  // A COUNT near the largest size_t must not wrap around to the first inputs.
  CHECK(inputs_of(shard_items(items, {1, static_cast<std::size_t>(-1), ""})) == Inputs{"m1"});
}

TEST_CASE("shard and shard-count option values", "[batch-shard]") {
  const Shard shard = parse_shard("3/16");
  CHECK(shard.index == 3);
  CHECK(shard.count == 16);
  CHECK(parse_shard("0/1").count == 1);
  CHECK(parse_shard_count("16") == 16);
  CHECK_THAT(usage_error([] { parse_shard("16/16"); }),
             Catch::Contains("'16/16': INDEX must be below COUNT (shards are numbered 0 to 15)"));
  CHECK_THAT(usage_error([] { parse_shard("0/0"); }), Catch::Contains("COUNT must be at least 1"));
  for (const char* bad : {"3", "a/3", "-1/3", "+1/3", "1/3x", " 1/3", "1/", "/3", "1/2/3",
                          "99999999999999999999999/3"}) {
    INFO(bad);
    CHECK_THAT(usage_error([bad] { parse_shard(bad); }),
               Catch::Contains("expected INDEX/COUNT, two whole numbers such as 3/16"));
  }
  for (const char* bad : {"0", "x", "-2", ""}) {
    INFO(bad);
    CHECK_THAT(usage_error([bad] { parse_shard_count(bad); }),
               Catch::Contains("expected a whole number of at least 1"));
  }
}

TEST_CASE("a Slurm array task's shard from SLURM_ARRAY_TASK_*", "[batch-shard]") {
  const auto slurm = [](const char* id, const char* first, const char* last, const char* count) {
    return Env{{"SLURM_ARRAY_TASK_ID", id}, {"SLURM_ARRAY_TASK_MIN", first},
               {"SLURM_ARRAY_TASK_MAX", last}, {"SLURM_ARRAY_TASK_COUNT", count}};
  };
  CHECK_FALSE(shard_from_environment(env_of({}), std::nullopt).has_value());

  SECTION("--array=0-15") {
    const auto shard = shard_from_environment(env_of(slurm("3", "0", "15", "16")), std::nullopt);
    REQUIRE(shard);
    CHECK(shard->index == 3);
    CHECK(shard->count == 16);
    CHECK(shard->source == "SLURM_ARRAY_TASK_ID=3 of array 0-15");
  }
  SECTION("--array=1-16 counts from its first ID") {
    const auto shard = shard_from_environment(env_of(slurm("4", "1", "16", "16")), std::nullopt);
    REQUIRE(shard);
    CHECK(shard->index == 3);
    CHECK(shard->count == 16);
  }
  SECTION("--array=0-30:2 counts in steps") {
    Env env = slurm("6", "0", "30", "16");
    env["SLURM_ARRAY_TASK_STEP"] = "2";
    const auto shard = shard_from_environment(env_of(env), std::nullopt);
    REQUIRE(shard);
    CHECK(shard->index == 3);
    CHECK(shard->count == 16);
  }
  SECTION("a list of IDs is not one range") {
    // --array=1,3,7: 3 tasks from 1 to 7.
    CHECK_THAT(env_error(slurm("3", "1", "7", "3"), std::nullopt),
               Catch::Contains("cannot number Slurm array task 3: its array (1-7, 3 tasks) is not "
                               "one range of IDs"));
  }
  SECTION("--shard-count: the task ID is the shard, e.g. resubmitted tasks 3 and 7 of 16") {
    const auto shard = shard_from_environment(env_of(slurm("7", "3", "7", "2")), 16);
    REQUIRE(shard);
    CHECK(shard->index == 7);
    CHECK(shard->count == 16);
    CHECK(shard->source == "SLURM_ARRAY_TASK_ID=7, --shard-count 16");
    CHECK_THAT(env_error(slurm("16", "0", "16", "17"), 16),
               Catch::Contains("SLURM_ARRAY_TASK_ID 16 is not below --shard-count 16"));
  }
  SECTION("a missing or unparsable variable") {
    Env env = slurm("3", "0", "15", "16");
    env.erase("SLURM_ARRAY_TASK_COUNT");
    CHECK_THAT(env_error(env, std::nullopt),
               Catch::Contains("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not"));
    CHECK_THAT(env_error(slurm("x3", "0", "15", "16"), std::nullopt),
               Catch::Contains("invalid SLURM_ARRAY_TASK_ID 'x3' in the environment: not a whole "
                               "number"));
    CHECK_THAT(env_error(slurm("3", "0", "15", ""), std::nullopt),
               Catch::Contains("invalid SLURM_ARRAY_TASK_COUNT ''"));
  }
}

TEST_CASE("a Kubernetes Indexed Job's shard from JOB_COMPLETION_INDEX", "[batch-shard]") {
  const auto shard = shard_from_environment(env_of(Env{{"JOB_COMPLETION_INDEX", "2"}}), 3);
  REQUIRE(shard);
  CHECK(shard->index == 2);
  CHECK(shard->count == 3);
  CHECK(shard->source == "JOB_COMPLETION_INDEX=2, --shard-count 3");
  CHECK_THAT(env_error({{"JOB_COMPLETION_INDEX", "2"}}, std::nullopt),
             Catch::Contains("JOB_COMPLETION_INDEX is set (2) but the number of shards is not: "
                             "give --shard-count N"));
  CHECK_THAT(env_error({{"JOB_COMPLETION_INDEX", "3"}}, 3),
             Catch::Contains("JOB_COMPLETION_INDEX 3 is not below --shard-count 3"));
  CHECK_THAT(env_error({{"JOB_COMPLETION_INDEX", " 2"}}, 3),
             Catch::Contains("invalid JOB_COMPLETION_INDEX ' 2'"));
  CHECK_THAT(env_error({{"JOB_COMPLETION_INDEX", "2"}, {"SLURM_ARRAY_TASK_ID", "2"}}, 3),
             Catch::Contains("both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set"));
  CHECK_THAT(env_error({}, 3),
             Catch::Contains("--shard-count needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX"));
}

TEST_CASE("shards run at once convert every input exactly once", "[batch][batch-shard]") {
  const std::string dir = fresh_dir("each-once");
  const std::vector<std::string> inputs = write_models(dir, 7);
  const auto run_shards = [&](std::size_t count, const std::string& out_dir) {
    fs::remove_all(out_dir);  // created by the shards, all at once
    std::vector<std::vector<std::string>> args;
    for (std::size_t i = 0; i < count; ++i) {
      args.push_back({"--shard", std::to_string(i) + "/" + std::to_string(count)});
    }
    const std::vector<EnvChanges> envs(count, scheduler_env());
    const auto tasks = run_tasks(dir, out_dir, args, envs);
    check_each_input_once(inputs, tasks, out_dir, count);
    return tasks;
  };
  SECTION("3 shards over 7 inputs") {
    const auto tasks = run_shards(3, dir + "/out3");
    CHECK(tasks[1].out.find("shard 1/3 (from --shard): 2 of 7 inputs\n") != std::string::npos);
    CHECK(tasks[1].out.find("2 of 2 converted, 0 failed") != std::string::npos);
    // A shard's output is the single conversion's.
    const std::string single = dir + "/single-m4.safetensors";
    REQUIRE(run_child({QFP8_BINARY, "convert", inputs[4], single, "--device", "cpu", "-q"},
                      scratch_dir("shard"), scheduler_env()).exit_code == 0);
    CHECK(read_file(single) == read_file(dir + "/out3/m4-fp8-e4m3fn.safetensors"));
  }
  SECTION("more shards than inputs: the extra shards have nothing to do") {
    const auto tasks = run_shards(9, dir + "/out9");
    CHECK(tasks[8].out == "shard 8/9 (from --shard): 0 of 7 inputs, nothing to convert\n");
  }
}

TEST_CASE("job-array tasks take their shard from the environment", "[batch][batch-shard]") {
  const std::string dir = fresh_dir("env");
  const std::vector<std::string> inputs = write_models(dir, 4);
  SECTION("a Slurm array 1-3") {
    std::vector<EnvChanges> envs;
    for (const char* id : {"1", "2", "3"}) {
      envs.push_back(scheduler_env({std::string("SLURM_ARRAY_TASK_ID=") + id,
                                    "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=3",
                                    "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_STEP=1"}));
    }
    const std::vector<std::string> from_env = {"--shard", "auto"};
    const auto tasks = run_tasks(dir, dir + "/slurm", {from_env, from_env, from_env}, envs);
    check_each_input_once(inputs, tasks, dir + "/slurm", 3);
    CHECK(tasks[1].out.find("shard 1/3 (from SLURM_ARRAY_TASK_ID=2 of array 1-3): 1 of 4 inputs") !=
          std::string::npos);
  }
  SECTION("a Kubernetes Indexed Job of 3 completions") {
    std::vector<EnvChanges> envs;
    for (const char* index : {"0", "1", "2"}) {
      envs.push_back(scheduler_env({std::string("JOB_COMPLETION_INDEX=") + index}));
    }
    const std::vector<std::string> count = {"--shard-count", "3"};
    const auto tasks = run_tasks(dir, dir + "/k8s", {count, count, count}, envs);
    check_each_input_once(inputs, tasks, dir + "/k8s", 3);
  }
  SECTION("--shard wins over the environment; a single conversion ignores it") {
    const auto tasks = run_tasks(dir, dir + "/explicit", {{"--shard", "0/1"}},
                                 {scheduler_env({"JOB_COMPLETION_INDEX=not a number"})});
    check_each_input_once(inputs, tasks, dir + "/explicit", 1);
    const std::string single = dir + "/single.safetensors";
    const EnvChanges task_1_of_16 = scheduler_env({"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=0",
                                                   "SLURM_ARRAY_TASK_MAX=15",
                                                   "SLURM_ARRAY_TASK_COUNT=16"});
    const ChildResult one = run_child({QFP8_BINARY, "convert", inputs[0], single, "--device",
                                       "cpu", "-q"},
                                      scratch_dir("shard"), task_1_of_16);
    CHECK(one.exit_code == 0);
    CHECK(path_exists(single));
  }
  SECTION("without --shard, a batch inside an array task converts its whole list") {
    // Reading the environment is opt-in: a batch that merely runs in an array task must not
    // convert a part of its list and still exit 0.
    const auto tasks = run_tasks(dir, dir + "/whole", {{}},
                                 {scheduler_env({"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=0",
                                                 "SLURM_ARRAY_TASK_MAX=3", "SLURM_ARRAY_TASK_COUNT=4"})});
    check_each_input_once(inputs, tasks, dir + "/whole", 1);
  }
}

TEST_CASE("bad shard values are usage errors before anything is written", "[batch][batch-shard]") {
  const std::string dir = fresh_dir("bad");
  write_models(dir, 2);
  struct Case {
    std::vector<std::string> args;
    EnvChanges env;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--shard", "2/2"}, {}, "invalid --shard '2/2': INDEX must be below COUNT"},
      {{"--shard", "0/0"}, {}, "invalid --shard '0/0': COUNT must be at least 1"},
      {{"--shard", "one/2"}, {}, "invalid --shard 'one/2': expected INDEX/COUNT"},
      {{"--shard", "1"}, {}, "invalid --shard '1': expected INDEX/COUNT"},
      {{"--shard", "0/2", "--shard-count", "2"}, {}, "cannot combine --shard INDEX/COUNT with --shard-count"},
      {{"--shard", "auto"}, {}, "--shard auto: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set"},
      {{"--shard-count", "0"}, {"JOB_COMPLETION_INDEX=0"}, "invalid --shard-count '0'"},
      {{"--shard-count", "2"}, {}, "--shard-count needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX"},
      {{"--shard", "auto"}, {"SLURM_ARRAY_TASK_ID=3a"}, "invalid SLURM_ARRAY_TASK_ID '3a' in the environment"},
      {{"--shard", "auto"}, {"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=7",
            "SLURM_ARRAY_TASK_COUNT=3"}, "is not one range of IDs"},
      {{"--shard", "auto"}, {"JOB_COMPLETION_INDEX=1"}, "JOB_COMPLETION_INDEX is set (1) but the number of shards is not"},
      {{"--shard-count", "2"}, {"JOB_COMPLETION_INDEX=2"}, "JOB_COMPLETION_INDEX 2 is not below --shard-count 2"},
  };
  std::vector<std::vector<std::string>> args;
  std::vector<EnvChanges> envs;
  for (const auto& each : cases) {
    args.push_back(each.args);
    envs.push_back(scheduler_env(each.env));
  }
  const std::string out_dir = dir + "/out";
  const auto tasks = run_tasks(dir, out_dir, args, envs);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].message << "\n" << tasks[i].out << tasks[i].err);
    CHECK(tasks[i].exit_code == kExitUsage);
    CHECK(tasks[i].err.find(cases[i].message) != std::string::npos);
  }
  CHECK_FALSE(path_exists(out_dir));
  // --shard needs a batch.
  const ChildResult single = run_child({QFP8_BINARY, "convert", dir + "/m0.safetensors",
                                        dir + "/single.safetensors", "--shard", "0/2"},
                                       scratch_dir("shard"), scheduler_env());
  CHECK(single.exit_code == kExitUsage);
  CHECK(single.err.find("--shard shares out a batch's inputs: it needs --output-dir DIR") !=
        std::string::npos);
  CHECK_FALSE(path_exists(dir + "/single.safetensors"));
}

TEST_CASE("two inputs with one output name stop every shard, not just one", "[batch][batch-shard]") {
  // Outputs are named over the whole list: sharding first would give a/m.safetensors to
  // shard 0 and b/m.safetensors to shard 1, and both would write DIR/m-fp8-e4m3fn.safetensors.
  const std::string dir = fresh_dir("clash");
  for (const char* sub : {"a", "b"}) {
    fs::create_directories(dir + "/" + sub);
    SyntheticModelOptions model;
    model.blocks = 1;
    write_synthetic_model(dir + "/" + sub + "/m.safetensors", model);
  }
  {
    std::ofstream list(dir + "/list.txt");
    list << dir << "/a/m.safetensors\n" << dir << "/b/m.safetensors\n";
  }
  const auto tasks = run_tasks(dir, dir + "/out", {{"--shard", "0/2"}, {"--shard", "1/2"}},
                               {scheduler_env(), scheduler_env()});
  for (const auto& task : tasks) {
    INFO(task.out << task.err);
    CHECK(task.exit_code == kExitUsage);
    CHECK(task.err.find("both would write") != std::string::npos);
  }
  CHECK_FALSE(path_exists(dir + "/out"));
}
