// test_input_fault.cpp — an input truncated after validation, while its memory map is being
// read, must end in a clean error (exit 2, message) with no output and no partial file,
// not in a crash.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "core/error.hpp"
#include "safetensors/byte_sink.hpp"
#include "safetensors/reader.hpp"
#include "support/safetensors_bytes.hpp"

using qfp8::test::Bytes;

namespace {

// 1 MiB of tensor data: many pages, so truncation leaves most of them unbacked.
constexpr uint64_t kTensorBytes = 1u << 20;

std::string write_input(const std::string& name) {
  const std::string input = qfp8::test::temp_path(name);
  const std::string size = std::to_string(kTensorBytes);
  const std::string header = qfp8::test::padded(
      R"({"w":{"dtype":"U8","shape":[)" + size + R"(],"data_offsets":[0,)" + size + "]}}");
  qfp8::test::write_file(input, qfp8::test::safetensors_image(header, Bytes(kTensorBytes, 7)));
  return input;
}

/// Forks; the child maps `input`, opens a sink on `target`, truncates the input, then runs
/// `read_after_truncation` on the tensor's mapped bytes. Returns the child's wait status.
template <typename Body>
int run_truncated(const std::string& input, const std::string& target, Body read_after_truncation) {
  ::unlink(target.c_str());
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    qfp8::install_interrupt_cleanup();
    int code = 91;
    try {
      qfp8::AtomicFileSink sink(target);
      const qfp8::SafetensorsFile file(input);
      const qfp8::ByteView view = file.bytes(file.header().tensors.at(0));
      sink.write(view.data, 4096);
      if (::truncate(input.c_str(), 8) != 0) ::_exit(90);
      read_after_truncation(sink, view);
    } catch (const qfp8::Error& error) {
      code = error.code() == qfp8::ErrorCode::InputChanged ? 2 : 92;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("an input truncated while the CPU reads its map is a clean error", "[safetensors][fault]") {
  const std::string target = qfp8::test::temp_path("fault_cpu_read.out");
  // A user-space read of a page past the new end of file raises SIGBUS: the handler removes
  // the partial output and exits 2.
  const int status = run_truncated(write_input("fault_cpu_read.safetensors"), target,
                                   [](qfp8::AtomicFileSink&, const qfp8::ByteView& view) {
    volatile uint64_t sum = 0;
    for (uint64_t i = 0; i < view.size; i += 4096) sum = sum + view.data[i];
  });
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_FALSE(qfp8::test::path_exists(target));
  CHECK_FALSE(qfp8::test::path_exists(target + ".partial"));
}

TEST_CASE("an input truncated while it is copied to the output is InputChanged", "[safetensors][fault]") {
  const std::string target = qfp8::test::temp_path("fault_copy.out");
  // write() from an unbacked mapping fails with EFAULT rather than raising SIGBUS.
  const int status = run_truncated(write_input("fault_copy.safetensors"), target,
                                   [](qfp8::AtomicFileSink& sink, const qfp8::ByteView& view) {
    sink.write(view.data, view.size);
  });
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_FALSE(qfp8::test::path_exists(target));
  CHECK_FALSE(qfp8::test::path_exists(target + ".partial"));
}
