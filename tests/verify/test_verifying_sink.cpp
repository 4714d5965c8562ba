// test_verifying_sink.cpp — the `convert --verify` hook: VerifyingSink verifies the complete
// temporary file before the atomic rename, and a failure leaves no output behind.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "support/fp8_file_builder.hpp"
#include "verify/verifying_sink.hpp"

using namespace qfp8;
using namespace qfp8::test;

namespace {

verify::VerifyOptions against_small_source() {
  verify::VerifyOptions options;
  options.source_path =
      write_image(temp_path("verify_sink_source.safetensors"), small_source_model());
  return options;
}

}  // namespace

TEST_CASE("VerifyingSink commits a file that verifies", "[verify]") {
  const Bytes bytes = serialize(quantize_image(small_source_model(), small_model_layers()));
  const std::string target = temp_path("verify_sink_good.safetensors");
  remove_path(target);
  bool saw_result = false;
  {
    AtomicFileSink file(target);
    verify::VerifyingSink sink(file, against_small_source(),
                               [&](const verify::VerifyResult& result) {
                                 saw_result = true;
                                 CHECK(result.quality.size() == 2);
                               });
    sink.write(bytes.data(), bytes.size());
    sink.commit();
  }
  CHECK(saw_result);
  CHECK(read_file(target) == bytes);
}

TEST_CASE("VerifyingSink refuses a file that does not verify", "[verify]") {
  FileImage image = quantize_image(small_source_model(), small_model_layers());
  image.at("blocks.0.mlp.fc1.weight").data[40] ^= 0x04;
  const Bytes bytes = serialize(image);
  const std::string target = temp_path("verify_sink_bad.safetensors");
  remove_path(target);
  {
    AtomicFileSink file(target);
    verify::VerifyingSink sink(file, against_small_source());
    sink.write(bytes.data(), bytes.size());
    try {
      sink.commit();
      FAIL("commit did not throw");
    } catch (const Error& error) {
      CHECK(error.code() == ErrorCode::VerificationFailed);
      CHECK(error.file() == target);
      CHECK(error.detail().find("[WeightBytesDiffer] blocks.0.mlp.fc1: ") != std::string::npos);
    }
  }
  CHECK_FALSE(path_exists(target));
  CHECK_FALSE(path_exists(target + ".partial"));
}
