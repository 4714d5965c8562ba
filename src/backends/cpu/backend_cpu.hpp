// backend_cpu.hpp — the multi-threaded CPU backend. Results are identical for every thread
// count: absmax is an integer max, and each element's cast depends only on it and the scale.
#pragma once

#include <memory>

#include "backends/backend.hpp"

namespace qfp8 {

/// threads == 0 means the CPUs this process may use: affinity mask and cgroup quota
/// (default_thread_count()).
std::unique_ptr<QuantizeBackend> make_cpu_backend(unsigned threads);

}  // namespace qfp8
