// test_cuda_selftest.cpp — `qfp8-cuda selftest` end to end on the GPU: the binary's exit
// code and verdict, as a user would run it (both the quick form and the full 2^32 sweep).
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

/// The binary under test: $QFP8_BINARY when set (scripts/gpu-checks.sh runs these tests
/// from a kit, far from the build tree that made them), else this build's.
std::string binary() {
  const char* from_environment = std::getenv("QFP8_BINARY");
  return from_environment != nullptr && *from_environment != '\0' ? from_environment
                                                                    : QFP8_BINARY;
}

struct Outcome {
  int exit_code = -1;
  std::string output;
};

Outcome run_binary(const std::string& arguments) {
  const std::string command = binary() + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Outcome outcome;
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) outcome.output.append(buffer, got);
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

}  // namespace

TEST_CASE("selftest --quick passes on the GPU", "[cuda][selftest]") {
  const Outcome outcome = run_binary("selftest --quick");
  INFO(outcome.output);
  CHECK(outcome.exit_code == 0);
  CHECK(outcome.output.find("selftest: PASS") != std::string::npos);
  CHECK(outcome.output.find("[FAIL]") == std::string::npos);
}

TEST_CASE("selftest with the 2^32-float cast sweep passes on the GPU", "[cuda][selftest][long]") {
  const Outcome outcome = run_binary("selftest --device cuda");
  INFO(outcome.output);
  CHECK(outcome.exit_code == 0);
  CHECK(outcome.output.find("[PASS] device cast") != std::string::npos);
  CHECK(outcome.output.find("[PASS] kernel cast") != std::string::npos);
  CHECK(outcome.output.find("selftest: PASS") != std::string::npos);
}

TEST_CASE("selftest --device cpu passes and says the device part was not run",
          "[cuda][selftest]") {
  const Outcome outcome = run_binary("selftest --device cpu");
  INFO(outcome.output);
  CHECK(outcome.exit_code == 0);
  CHECK(outcome.output.find("device checks not run") != std::string::npos);
}
