// test_byte_sink.cpp — MemorySink, and AtomicFileSink's promises: nothing at the target
// until commit, no leftovers when abandoned or interrupted, an existing target untouched
// unless replaced on purpose, and errors that name the file and the system's reason.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.hpp"
#include "safetensors/byte_sink.hpp"
#include "support/safetensors_bytes.hpp"

namespace {

using qfp8::AtomicFileSink;
using qfp8::test::Bytes;
using qfp8::test::path_exists;
using qfp8::test::read_file;

// A fresh target path: neither it nor its .partial exists.
std::string fresh_target(const std::string& name) {
  const std::string path = qfp8::test::temp_path(name);
  qfp8::test::remove_path(path);
  qfp8::test::remove_path(path + ".partial");
  return path;
}

std::string code_name(const qfp8::Error& error) { return qfp8::error_code_name(error.code()); }

// Runs `body` in a forked child; returns the raw wait status. The child never returns into
// Catch: it leaves through _exit or a signal.
template <typename Body>
int in_child(Body body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 0;
    try {
      code = body();
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("MemorySink appends and overwrites in place", "[safetensors]") {
  qfp8::MemorySink sink;
  sink.write("abcdef", 6);
  sink.write_at(2, "XY", 2);
  CHECK(sink.bytes() == Bytes{'a', 'b', 'X', 'Y', 'e', 'f'});
  CHECK_THROWS_AS(sink.write_at(5, "XY", 2), qfp8::Error);  // past the end
  sink.commit();
  CHECK(sink.committed());
  CHECK_THROWS_AS(sink.write("z", 1), qfp8::Error);
}

TEST_CASE("AtomicFileSink shows nothing at the target until commit", "[safetensors]") {
  const std::string target = fresh_target("sink_commit.bin");
  {
    AtomicFileSink sink(target);
    CHECK(sink.temp_path() == target + ".partial");
    sink.write("hello world", 11);
    sink.write_at(0, "J", 1);
    CHECK_FALSE(path_exists(target));
    CHECK(path_exists(target + ".partial"));
    sink.commit();
    CHECK_THROWS_AS(sink.write("x", 1), qfp8::Error);
  }
  CHECK(read_file(target) == Bytes{'J', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  CHECK_FALSE(path_exists(target + ".partial"));
}

TEST_CASE("an abandoned AtomicFileSink leaves nothing behind", "[safetensors]") {
  const std::string target = fresh_target("sink_abandoned.bin");
  { AtomicFileSink(target).write("partial data", 12); }
  CHECK_FALSE(path_exists(target));
  CHECK_FALSE(path_exists(target + ".partial"));
}

TEST_CASE("an existing target is refused, kept, or replaced only on commit", "[safetensors]") {
  const std::string target = fresh_target("sink_existing.bin");
  qfp8::test::write_file(target, Bytes{'o', 'l', 'd'});

  try {
    AtomicFileSink refused(target);
    FAIL("an existing target was accepted without overwrite");
  } catch (const qfp8::Error& error) {
    CHECK(code_name(error) == "OutputExists");
    CHECK(error.file() == target);
    CHECK(std::string(error.what()).find("already exists") != std::string::npos);
  }
  {
    AtomicFileSink abandoned(target, {/*overwrite=*/true, /*fsync=*/false});
    abandoned.write("new", 3);
  }
  CHECK(read_file(target) == Bytes{'o', 'l', 'd'});
  {
    AtomicFileSink replacing(target, {/*overwrite=*/true, /*fsync=*/true});
    replacing.write("new!", 4);
    replacing.commit();
  }
  CHECK(read_file(target) == Bytes{'n', 'e', 'w', '!'});
  CHECK_FALSE(path_exists(target + ".partial"));
}

TEST_CASE("commit refuses a target that appeared meanwhile", "[safetensors]") {
  const std::string target = fresh_target("sink_race.bin");
  {
    AtomicFileSink sink(target);
    sink.write("mine", 4);
    qfp8::test::write_file(target, Bytes{'t', 'h', 'e', 'i', 'r', 's'});
    try {
      sink.commit();
      FAIL("commit replaced a file it must not touch");
    } catch (const qfp8::Error& error) {
      CHECK(code_name(error) == "OutputExists");
    }
  }
  CHECK(read_file(target) == Bytes{'t', 'h', 'e', 'i', 'r', 's'});
  CHECK_FALSE(path_exists(target + ".partial"));
}

TEST_CASE("a stale .partial from a crashed run is replaced", "[safetensors]") {
  const std::string target = fresh_target("sink_stale.bin");
  qfp8::test::write_file(target + ".partial", Bytes(100, 7));
  {
    AtomicFileSink sink(target);
    sink.write("ok", 2);
    sink.commit();
  }
  CHECK(read_file(target) == Bytes{'o', 'k'});
}

TEST_CASE("an unusable output directory fails before anything is written", "[safetensors]") {
  // Tests run as root, so permissions would not stop them: use paths that cannot work.
  const std::string missing = qfp8::test::temp_path("no_such_dir") + "/out.bin";
  try {
    AtomicFileSink sink(missing);
    FAIL("wrote into a missing directory");
  } catch (const qfp8::Error& error) {
    CHECK(code_name(error) == "OpenFailed");
    CHECK(error.file() == missing);
    CHECK(std::string(error.what()).find("No such file or directory") != std::string::npos);
  }
  const std::string file_as_dir = fresh_target("sink_plain_file");
  qfp8::test::write_file(file_as_dir, Bytes{1});
  try {
    AtomicFileSink sink(file_as_dir + "/out.bin");
    FAIL("wrote into a regular file as if it were a directory");
  } catch (const qfp8::Error& error) {
    CHECK(code_name(error) == "OpenFailed");
    CHECK(std::string(error.what()).find("Not a directory") != std::string::npos);
  }
}

TEST_CASE("a failing write is WriteFailed with the system's reason", "[safetensors]") {
  const std::string target = fresh_target("sink_too_large.bin");
  // A 1 KiB file size limit makes the write fail with EFBIG, standing in for ENOSPC.
  const int status = in_child([&] {
    AtomicFileSink sink(target);
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    const Bytes data(4096, 1);
    try {
      sink.write(data.data(), data.size());
    } catch (const qfp8::Error& error) {
      // The file is named once, by the detail.
      const bool named = std::string(error.what()) ==
                         "cannot write '" + target + "': File too large";
      return error.code() == qfp8::ErrorCode::WriteFailed && named ? 0 : 2;
    }
    return 1;
  });
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(path_exists(target));
  CHECK_FALSE(path_exists(target + ".partial"));
}

TEST_CASE("SIGTERM and SIGINT mid-write remove the temporary file", "[safetensors]") {
  for (const int signal_number : {SIGTERM, SIGINT}) {
    const std::string target = fresh_target("sink_signal_" + std::to_string(signal_number) + ".bin");
    const int status = in_child([&] {
      qfp8::install_interrupt_cleanup();
      qfp8::install_interrupt_cleanup();  // idempotent
      AtomicFileSink sink(target);
      sink.write("half a file", 11);
      if (!path_exists(target + ".partial")) return 3;
      ::raise(signal_number);
      return 4;  // not reached: the signal terminates the child
    });
    INFO("signal " << signal_number);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == signal_number);
    CHECK_FALSE(path_exists(target));
    CHECK_FALSE(path_exists(target + ".partial"));
  }
}
