// test_pipeline_check.cpp — selftest part (d) on the CPU: the whole-pipeline comparison
// passes for the CPU backend, fails (naming the first differing byte) for a backend that
// corrupts one code, and leaves nothing behind in $TMPDIR; `selftest --device cpu` runs it.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <string>
#include <vector>

#include "backends/cpu/backend_cpu.hpp"
#include "selftest/pipeline_check.hpp"
#include "support/bounded_child.hpp"
#include "support/child_process.hpp"
#include "support/convert_checks.hpp"

using namespace qfp8::test;

namespace {

/// The CPU backend's results with one bit of the first FP8 byte of job 3 flipped.
class CorruptingBackend final : public qfp8::QuantizeBackend {
 public:
  std::string description() const override { return "corrupting"; }
  void run(const std::vector<qfp8::QuantizeJob>& jobs, qfp8::QuantizedConsumer& consumer) override {
    Forward forward(consumer);
    inner_->run(jobs, forward);
  }

 private:
  class Forward final : public qfp8::QuantizedConsumer {
   public:
    explicit Forward(qfp8::QuantizedConsumer& out) : out_(out) {}
    void begin_tensor(std::size_t job, float scale) override { out_.begin_tensor(job, scale); }
    void tensor_bytes(std::size_t job, const uint8_t* fp8, uint64_t count) override {
      std::vector<uint8_t> copy(fp8, fp8 + count);
      if (job == 3 && !flipped_ && count > 0) {
        copy[0] ^= 0x01;
        flipped_ = true;
      }
      out_.tensor_bytes(job, copy.data(), count);
    }
    void end_tensor(std::size_t job) override { out_.end_tensor(job); }

   private:
    qfp8::QuantizedConsumer& out_;
    bool flipped_ = false;
  };
  std::unique_ptr<qfp8::QuantizeBackend> inner_ = qfp8::make_cpu_backend(2u);
};

}  // namespace

TEST_CASE("selftest pipeline check passes for the CPU backend, fails for a corrupt one",
          "[selftest]") {
  const std::string tmp = scratch_dir("selftest_pipeline_tmp");
  ::setenv("TMPDIR", tmp.c_str(), 1);
  auto cpu = qfp8::make_cpu_backend(3u);
  const qfp8::selftest::SelftestCheck good = qfp8::selftest::compare_pipeline(*cpu, "");
  INFO(good.summary);
  CHECK(good.passed);
  CHECK(good.summary.find("identical") != std::string::npos);

  CorruptingBackend corrupting;
  const qfp8::selftest::SelftestCheck bad = qfp8::selftest::compare_pipeline(corrupting, " (corrupt)");
  CHECK_FALSE(bad.passed);
  CHECK(bad.name == "pipeline (corrupt)");
  REQUIRE(bad.details.size() == 1);
  CHECK(bad.details[0].find("first difference at byte") != std::string::npos);
  ::unsetenv("TMPDIR");
  CHECK(names_in_directory(tmp).empty());  // the synthetic checkpoint and its directory are gone
}

TEST_CASE("selftest --device cpu runs the pipeline check and passes", "[selftest][cli]") {
  const std::string dir = scratch_dir("selftest_cli");
  const ChildResult result = run_child({QFP8_BINARY, "selftest", "--device", "cpu"}, dir);
  INFO(result.out << result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("[PASS] pipeline: ") != std::string::npos);
  CHECK(result.out.find("selftest: PASS") != std::string::npos);
}
