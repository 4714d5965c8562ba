// sim_test_main.cpp — Catch2 main of the CUDA backend's host tests on the simulated
// runtime. Every test case starts from a fresh simulator configured from the environment
// ($QFP8_SIM_SCHEDULE, $QFP8_SIM_SEED); a rule broken but swallowed on the way (say, in a
// destructor) still fails the run.
// Catch2's listener interface, which its header declares only when asked (this file is
// compiled without the precompiled header, tests/CMakeLists.txt).
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "cuda_sim.hpp"
#include "support/catch_session.hpp"

namespace {

int swallowed_violations = 0;

struct SimulatorPerTest : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override {
    qfp8::sim::reset(qfp8::sim::config_from_environment());
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    for (const std::string& rule : qfp8::sim::take_violations()) {
      std::fprintf(stderr, "CUDA simulator: \"%s\" broke a rule: %s\n", stats.testInfo.name.c_str(),
                   rule.c_str());
      ++swallowed_violations;
    }
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SimulatorPerTest)

int main(int argc, char** argv) {
  // The backend's info lines (buffer sizes) would repeat for every one of hundreds of runs.
  spdlog::set_level(spdlog::level::warn);
  const qfp8::sim::Config config = qfp8::sim::config_from_environment();
  std::printf("simulated CUDA runtime: %s schedule, seed %u\n",
              qfp8::sim::schedule_name(config.schedule), config.seed);
  const int failed = qfp8::test::run_catch_session(argc, argv);
  return failed != 0 ? failed : (swallowed_violations != 0 ? 1 : 0);
}
