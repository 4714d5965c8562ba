// test_threads.cpp — thread counts and refused threads: the cgroup quota parsers on the
// kernel's own texts, and the CPU pool and the verify scans when the system refuses some
// or all of their threads (as under ulimit -u or a container's pids.max). A refused thread
// must cost threads, never a hang, an abort or a wrong result; each such case runs in a
// forked child with a time bound, so a hang fails the test instead of stalling the suite.
#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "backends/cpu/cpu_thread_pool.hpp"
#include "core/cpu_count.hpp"
#include "core/thread_start.hpp"
#include "support/forked_check.hpp"
#include "support/refused_threads.hpp"
#include "verify/chunked_scan.hpp"

using qfp8::test::refuse_after;

namespace {

// Seconds a refused-thread case may take; each needs milliseconds when right.
constexpr unsigned kBound = 5;

// In a child: a pool of 8 whose starter refuses after `allowed` threads runs 64 tasks, each
// exactly once, on at most allowed + 1 threads. 0 = right, else which check failed.
int pool_with_refused_threads(unsigned allowed) {
  qfp8::CpuThreadPool pool(8, refuse_after(allowed));
  if (pool.size() != allowed + 1) return 1;
  std::vector<std::atomic<int>> runs(64);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  for (int round = 0; round < 3; ++round) {
    pool.parallel_for(64, [&](unsigned task) {
      runs[task].fetch_add(1);
      const std::lock_guard<std::mutex> lock(mutex);
      threads.insert(std::this_thread::get_id());
    });
  }
  for (const auto& count : runs) {
    if (count.load() != 3) return 2;
  }
  return threads.size() <= allowed + 1 ? 0 : 3;
}

}  // namespace

TEST_CASE("cgroup v2 cpu.max: quota over period, rounded up; max = no quota", "[threads]") {
  using qfp8::cpus_from_cgroup_v2;
  CHECK(cpus_from_cgroup_v2("max 100000\n") == 0);
  CHECK(cpus_from_cgroup_v2("100000 100000\n") == 1);
  CHECK(cpus_from_cgroup_v2("150000 100000\n") == 2);  // 1.5 CPUs of time: 2 threads
  CHECK(cpus_from_cgroup_v2("50000 100000\n") == 1);   // half a CPU: still 1
  CHECK(cpus_from_cgroup_v2("400000 100000") == 4);
  CHECK(cpus_from_cgroup_v2("800000 200000\n") == 4);
  CHECK(cpus_from_cgroup_v2("") == 0);
  CHECK(cpus_from_cgroup_v2("100000\n") == 0);  // one field: not cpu.max
  CHECK(cpus_from_cgroup_v2("abc 100000\n") == 0);
  CHECK(cpus_from_cgroup_v2("100000 0\n") == 0);
  CHECK(cpus_from_cgroup_v2("0 100000\n") == 0);
}

TEST_CASE("cgroup v1 cfs quota and period; -1 = no quota", "[threads]") {
  using qfp8::cpus_from_cgroup_v1;
  CHECK(cpus_from_cgroup_v1("-1\n", "100000\n") == 0);
  CHECK(cpus_from_cgroup_v1("200000\n", "100000\n") == 2);
  CHECK(cpus_from_cgroup_v1("250000\n", "100000\n") == 3);
  CHECK(cpus_from_cgroup_v1("50000\n", "100000\n") == 1);
  CHECK(cpus_from_cgroup_v1("", "") == 0);  // no such file
  CHECK(cpus_from_cgroup_v1("200000\n", "") == 0);
}

TEST_CASE("the cgroup path of a controller in /proc/self/cgroup", "[threads]") {
  using qfp8::cgroup_path_of;
  CHECK(cgroup_path_of("0::/user.slice/app.scope\n", "") == "/user.slice/app.scope");
  const char* hybrid =
      "5:cpuset:/a\n4:cpu,cpuacct:/docker/abc\n3:memory:/m\n0::/u:v\n";  // "cpuset" is not "cpu"
  CHECK(cgroup_path_of(hybrid, "cpu") == "/docker/abc");
  CHECK(cgroup_path_of(hybrid, "cpuacct") == "/docker/abc");
  CHECK(cgroup_path_of(hybrid, "") == "/u:v");  // a path may hold a colon
  CHECK(cgroup_path_of("1:name=systemd:/s\n", "cpu").empty());
  CHECK(cgroup_path_of("", "").empty());
}

TEST_CASE("the automatic thread count is the usable CPUs, within the bound", "[threads]") {
  const qfp8::CpuBudget budget = qfp8::detect_cpu_budget();
  CHECK(budget.usable >= 1);
  if (budget.affinity != 0) CHECK(budget.usable <= budget.affinity);
  if (budget.quota != 0) CHECK(budget.usable <= budget.quota);
  CHECK(qfp8::default_thread_count() >= 1);
  CHECK(qfp8::default_thread_count() <= 256);
  CHECK(qfp8::resolve_thread_count(5) == 5);
  CHECK(qfp8::resolve_thread_count(100000) == 256);
}

TEST_CASE("CPU pool: refused threads leave a smaller pool that finishes every task",
          "[threads]") {
  for (const unsigned allowed : {0u, 1u, 3u, 6u}) {
    INFO(allowed << " of 7 workers allowed");
    CHECK(qfp8::test::run_forked([allowed] { return pool_with_refused_threads(allowed); },
                                 kBound) == 0);
  }
}

TEST_CASE("verify scans: refused threads give the same partials as one thread", "[threads]") {
  const uint64_t numel = 10 * qfp8::verify::kScanChunk + 5;  // 11 chunks
  const auto scan = [](uint64_t begin, uint64_t end) { return begin * 3 + end; };
  const std::vector<uint64_t> expected = qfp8::verify::scan_chunks<uint64_t>(numel, 1, scan);
  REQUIRE(expected.size() == 11);
  for (const unsigned allowed : {0u, 2u}) {
    INFO(allowed << " of 7 helpers allowed");
    const int status = qfp8::test::run_forked(
        [&] {
          const auto got =
              qfp8::verify::scan_chunks<uint64_t>(numel, 8, scan, {}, refuse_after(allowed));
          return got == expected ? 0 : 1;
        },
        kBound);
    CHECK(status == 0);
  }
}

TEST_CASE("verify scans go slab by slab, each reported once all of its chunks are scanned",
          "[threads]") {
  using qfp8::verify::kScanChunk;
  // Slabs of 128 chunks: 2 full ones and a third of 44 chunks, the last one 7 elements long.
  const uint64_t numel = 299 * kScanChunk + 7;
  std::atomic<uint64_t> scanned{0};
  const auto scan = [&scanned](uint64_t begin, uint64_t end) {
    scanned += end - begin;
    return begin;
  };
  std::vector<std::pair<uint64_t, uint64_t>> slabs;
  std::vector<uint64_t> scanned_at_slab;
  const qfp8::verify::Slabs every_128{128, [&](uint64_t begin, uint64_t end) {
                                         slabs.emplace_back(begin, end);
                                         scanned_at_slab.push_back(scanned);
                                       }};
  const auto partials = qfp8::verify::scan_chunks<uint64_t>(numel, 3, scan, every_128);
  const std::vector<std::pair<uint64_t, uint64_t>> expected = {
      {0, 128 * kScanChunk}, {128 * kScanChunk, 256 * kScanChunk}, {256 * kScanChunk, numel}};
  CHECK(slabs == expected);
  CHECK(scanned_at_slab == std::vector<uint64_t>{128 * kScanChunk, 256 * kScanChunk, numel});
  REQUIRE(partials.size() == 300);
  for (uint64_t chunk = 0; chunk < partials.size(); ++chunk) {
    CHECK(partials[chunk] == chunk * kScanChunk);
  }
}
