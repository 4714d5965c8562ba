// cpu_count.cpp — the affinity mask (platform/process.hpp) and the cgroup CPU quota (Linux;
// absent elsewhere), read from the process's own cgroup and each of its ancestors up to the mount root: a container
// runtime may set the quota on a parent, and with a cgroup namespace the process's path is
// "/" so the mount root is its own cgroup.
#include "core/cpu_count.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "platform/process.hpp"

namespace qfp8 {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// A whole decimal number (the kernel writes nothing else); false for anything else.
bool parse_u64(std::string_view text, uint64_t& value) {
  text = trim(text);
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

unsigned cpus_from_quota(uint64_t quota, uint64_t period) {
  if (quota == 0 || period == 0) return 0;
  const uint64_t cpus = (quota + period - 1) / period;  // 1.5 CPUs of time: 2 threads
  return static_cast<unsigned>(std::min<uint64_t>(cpus, UINT32_MAX));
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::string text;
  // The files read here are one line; 4 KiB also covers /proc/self/cgroup with every
  // controller of a v1 host listed.
  text.resize(4096);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// `root` + `path`, then each parent of `path`, ending with `root` itself.
std::vector<std::string> cgroup_dirs(const std::string& root, std::string path) {
  std::vector<std::string> dirs;
  while (!path.empty() && path != "/") {
    dirs.push_back(root + path);
    path.erase(path.rfind('/'));
  }
  dirs.push_back(root);
  return dirs;
}

// The smaller nonzero of two CPU counts (0 = no limit).
unsigned tighter(unsigned a, unsigned b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

unsigned cgroup_quota_cpus() {
  const std::string self = read_small_file("/proc/self/cgroup");
  unsigned cpus = 0;
  for (const std::string& dir : cgroup_dirs("/sys/fs/cgroup", cgroup_path_of(self, ""))) {
    cpus = tighter(cpus, cpus_from_cgroup_v2(read_small_file(dir + "/cpu.max")));
  }
  const std::string v1_path = cgroup_path_of(self, "cpu");
  for (const char* mount : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
    for (const std::string& dir : cgroup_dirs(mount, v1_path)) {
      cpus = tighter(cpus, cpus_from_cgroup_v1(read_small_file(dir + "/cpu.cfs_quota_us"),
                                               read_small_file(dir + "/cpu.cfs_period_us")));
    }
  }
  return cpus;
}

std::string plural_cpus(unsigned count) {
  return std::to_string(count) + (count == 1 ? " CPU" : " CPUs");
}

}  // namespace

unsigned cpus_from_cgroup_v2(std::string_view cpu_max) {
  cpu_max = trim(cpu_max);
  const auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return 0;
  uint64_t quota = 0;
  uint64_t period = 0;
  // "max 100000": no quota; parse_u64 rejects "max" like any other non-number.
  if (!parse_u64(cpu_max.substr(0, space), quota)) return 0;
  if (!parse_u64(cpu_max.substr(space + 1), period)) return 0;
  return cpus_from_quota(quota, period);
}

unsigned cpus_from_cgroup_v1(std::string_view quota_us, std::string_view period_us) {
  uint64_t quota = 0;
  uint64_t period = 0;
  // "-1": no quota; parse_u64 rejects the sign.
  if (!parse_u64(quota_us, quota) || !parse_u64(period_us, period)) return 0;
  return cpus_from_quota(quota, period);
}

std::string cgroup_path_of(std::string_view proc_self_cgroup, std::string_view controller) {
  while (!proc_self_cgroup.empty()) {
    const auto end = proc_self_cgroup.find('\n');
    const std::string_view line = proc_self_cgroup.substr(0, end);
    proc_self_cgroup = end == std::string_view::npos ? std::string_view{}
                                                     : proc_self_cgroup.substr(end + 1);
    // "ID:CONTROLLERS:PATH"; the path may itself hold colons.
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (controller.empty()) {
      if (line.substr(0, first) == "0" && controllers.empty()) return std::string(path);
      continue;
    }
    while (!controllers.empty()) {
      const auto comma = controllers.find(',');
      if (controllers.substr(0, comma) == controller) return std::string(path);
      controllers = comma == std::string_view::npos ? std::string_view{}
                                                    : controllers.substr(comma + 1);
    }
  }
  return {};
}

CpuBudget detect_cpu_budget() {
  CpuBudget budget;
  budget.hardware = std::thread::hardware_concurrency();
  budget.affinity = platform::affinity_cpu_count();
  budget.quota = cgroup_quota_cpus();
  budget.usable = std::max(1u, tighter(tighter(budget.hardware, budget.affinity), budget.quota));
  return budget;
}

namespace {
// Read once: the files cost about ten opens, and a verify scan may ask once per tensor.
const CpuBudget& process_cpu_budget() {
  static const CpuBudget budget = detect_cpu_budget();
  return budget;
}
}  // namespace

unsigned default_thread_count() { return std::min(process_cpu_budget().usable, kMaxThreads); }

unsigned resolve_thread_count(unsigned requested) {
  return requested != 0 ? std::min(requested, kMaxThreads) : default_thread_count();
}

std::string describe_default_threads() {
  const CpuBudget& budget = process_cpu_budget();
  const auto known = [](unsigned count, const char* none) {
    return count == 0 ? std::string(none) : plural_cpus(count);
  };
  return std::to_string(std::min(budget.usable, kMaxThreads)) +
         " (affinity mask: " + known(budget.affinity, "unknown") +
         ", cgroup quota: " + known(budget.quota, "none") +
         ", hardware: " + known(budget.hardware, "unknown") + ")";
}

}  // namespace qfp8
