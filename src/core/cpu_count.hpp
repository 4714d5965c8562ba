// cpu_count.hpp — how many CPUs this process may really use (its affinity mask and its
// cgroup CPU quota, not the machine's core count), the automatic thread count derived from
// it, and the bound on --threads. The parsers are pure functions over the kernel's text so
// that they can be tested with fixtures.
#pragma once

#include <string>
#include <string_view>

namespace qfp8 {

/// Largest --threads accepted. The work is memory-bound: the CPU cast saturates a socket's
/// memory bandwidth with a few dozen threads, so 256 covers the largest two-socket hosts
/// with room to spare, while a mistyped 100000 can no longer start 32k threads and exhaust
/// the machine's PIDs.
inline constexpr unsigned kMaxThreads = 256;

/// CPUs allowed by a cgroup v2 `cpu.max` ("QUOTA PERIOD" in microseconds, or "max PERIOD"),
/// rounded up: "150000 100000" -> 2. 0 when there is no quota or the text is not one.
unsigned cpus_from_cgroup_v2(std::string_view cpu_max);

/// The same for cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` (quota -1: none).
unsigned cpus_from_cgroup_v1(std::string_view quota_us, std::string_view period_us);

/// The cgroup path of `controller` ("cpu") in a /proc/self/cgroup text, or of the unified
/// (v2) hierarchy when `controller` is empty; empty when it is not listed.
std::string cgroup_path_of(std::string_view proc_self_cgroup, std::string_view controller);

/// What bounds the CPUs of this process. 0 in a field: unknown or no limit.
struct CpuBudget {
  unsigned hardware = 0;  // std::thread::hardware_concurrency()
  unsigned affinity = 0;  // CPUs in the sched_getaffinity mask
  unsigned quota = 0;     // the cgroup CPU quota, rounded up (the tightest of its ancestors)
  unsigned usable = 1;    // the smallest known of the above, at least 1
};

/// Reads the affinity mask and the cgroup quota (v2 cpu.max, v1 cpu.cfs_quota_us).
CpuBudget detect_cpu_budget();

/// The thread count for --threads 0: the usable CPUs, at most kMaxThreads.
unsigned default_thread_count();

/// `requested` (at most kMaxThreads: the command line refuses more), or
/// default_thread_count() for 0.
unsigned resolve_thread_count(unsigned requested);

/// "2 (affinity mask: 2 CPUs, cgroup quota: none, hardware: 2)", for a debug line.
std::string describe_default_threads();

}  // namespace qfp8
