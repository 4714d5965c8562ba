// test_byte_sink.cpp — MemorySink, and AtomicFileSink's promises: nothing at the target
// until commit, no leftovers when abandoned or interrupted (by any ending signal), an
// existing target untouched unless replaced on purpose, one writer per target, only the
// file it wrote put in place, long names, and errors that name the file and the reason.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
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

// The lock file beside `target` (OutputLock): `.<name>.lock`.
std::string lock_of(const std::string& target) {
  const auto slash = target.rfind('/');
  return target.substr(0, slash + 1) + "." + target.substr(slash + 1) + ".lock";
}

// A fresh target path: neither it nor its .partial nor its lock file exists.
std::string fresh_target(const std::string& name) {
  const std::string path = qfp8::test::temp_path(name);
  qfp8::test::remove_path(path);
  qfp8::test::remove_path(path + ".partial");
  qfp8::test::remove_path(lock_of(path));
  return path;
}

// Options that force the named `.partial` (the path taken where O_TMPFILE is refused).
qfp8::AtomicFileOptions named_temp(bool overwrite = false) {
  qfp8::AtomicFileOptions options;
  options.overwrite = overwrite;
  options.unnamed = false;
  return options;
}

bool nothing_left(const std::string& target) {
  return !path_exists(target + ".partial") && !path_exists(lock_of(target));
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
  for (const bool unnamed : {true, false}) {
    INFO("unnamed " << unnamed);
    const std::string target = fresh_target("sink_commit.bin");
    {
      qfp8::AtomicFileOptions options;
      options.unnamed = unnamed;
      AtomicFileSink sink(target, options);
      // The unnamed file is reachable (convert --verify reads it) but has no name.
      if (unnamed) CHECK(sink.temp_path().rfind("/proc/self/fd/", 0) == 0);
      if (!unnamed) CHECK(sink.temp_path() == target + ".partial");
      CHECK(path_exists(sink.temp_path()));
      CHECK(path_exists(target + ".partial") == !unnamed);
      sink.write("hello world", 11);
      sink.write_at(0, "J", 1);
      CHECK_FALSE(path_exists(target));
      CHECK(path_exists(lock_of(target)));
      sink.commit();
      CHECK_THROWS_AS(sink.write("x", 1), qfp8::Error);
    }
    CHECK(read_file(target) == Bytes{'J', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
    CHECK(nothing_left(target));
  }
}

TEST_CASE("an abandoned AtomicFileSink leaves nothing behind", "[safetensors]") {
  const std::string target = fresh_target("sink_abandoned.bin");
  { AtomicFileSink(target).write("partial data", 12); }
  { AtomicFileSink(target, named_temp()).write("partial data", 12); }
  CHECK_FALSE(path_exists(target));
  CHECK(nothing_left(target));
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
  for (const bool unnamed : {true, false}) {
    INFO("unnamed " << unnamed);
    const std::string target = fresh_target("sink_race.bin");
    {
      qfp8::AtomicFileOptions options;
      options.unnamed = unnamed;
      AtomicFileSink sink(target, options);
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
    CHECK(nothing_left(target));
  }
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
  CHECK(nothing_left(target));
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

TEST_CASE("every ending signal mid-write removes the temporary and lock files",
          "[safetensors]") {
  for (const int signal_number : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
                                  SIGXCPU, SIGVTALRM, SIGPROF, SIGRTMIN}) {
    for (const bool unnamed : {true, false}) {
      const std::string target =
          fresh_target("sink_signal_" + std::to_string(signal_number) + ".bin");
      const int status = in_child([&] {
        const rlimit no_core{0, 0};  // SIGQUIT and SIGXCPU would dump core
        ::setrlimit(RLIMIT_CORE, &no_core);
        ::signal(signal_number, SIG_DFL);  // whatever the test runner set
        qfp8::install_interrupt_cleanup();
        qfp8::install_interrupt_cleanup();  // idempotent
        qfp8::AtomicFileOptions options;
        options.unnamed = unnamed;
        AtomicFileSink sink(target, options);
        sink.write("half a file", 11);
        if (!unnamed && !path_exists(target + ".partial")) return 3;
        if (!path_exists(lock_of(target))) return 5;
        ::raise(signal_number);
        return 4;  // not reached: the signal terminates the child
      });
      INFO("signal " << signal_number << " (" << strsignal(signal_number) << "), unnamed "
                     << unnamed << ", status " << status);
      REQUIRE(WIFSIGNALED(status));
      CHECK(WTERMSIG(status) == signal_number);
      CHECK_FALSE(path_exists(target));
      CHECK(nothing_left(target));
    }
  }
}

TEST_CASE("a signal ignored from the start stays ignored", "[safetensors]") {
  // `nohup qfp8-cuda ...` starts with SIGHUP ignored: closing the terminal must not stop it.
  const std::string target = fresh_target("sink_nohup.bin");
  const int status = in_child([&] {
    ::signal(SIGHUP, SIG_IGN);
    qfp8::install_interrupt_cleanup();
    AtomicFileSink sink(target);
    sink.write("whole", 5);
    ::raise(SIGHUP);
    sink.commit();
    return 0;
  });
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(read_file(target) == Bytes{'w', 'h', 'o', 'l', 'e'});
}

TEST_CASE("a second sink for the same target is refused, naming the writer", "[safetensors]") {
  const std::string target = fresh_target("sink_twice.bin");
  AtomicFileSink first(target, named_temp());
  first.write("first", 5);
  const std::string busy =
      "output '" + target + "' is being written by process " + std::to_string(::getpid());
  for (const bool overwrite : {false, true}) {
    try {
      AtomicFileSink second(target, named_temp(overwrite));
      FAIL("a second writer of the same target was accepted");
    } catch (const qfp8::Error& error) {
      CHECK(code_name(error) == "OutputExists");
      CHECK(std::string(error.what()).find(busy) != std::string::npos);
    }
  }
  // The refusal removed nothing of the first writer's, and did not drop its lock.
  CHECK(read_file(target + ".partial") == Bytes{'f', 'i', 'r', 's', 't'});
  first.commit();
  CHECK(read_file(target) == Bytes{'f', 'i', 'r', 's', 't'});
  CHECK(nothing_left(target));
}

namespace {

// A sink held open by a child process: it writes `bytes` under `target` (named `.partial`),
// reports that it holds the lock, and commits once told to go on. The destructor lets a
// child that was never told go on end (EOF on its pipe) and reaps it.
class WriterProcess {
 public:
  WriterProcess(const std::string& target, const Bytes& bytes) {
    int ready[2];
    int go[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(go) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(go[1]);
      int code = 1;
      try {
        AtomicFileSink sink(target, named_temp());
        sink.write(bytes.data(), bytes.size());
        char byte = 'r';
        if (::write(ready[1], &byte, 1) == 1 && ::read(go[0], &byte, 1) == 1) {
          sink.commit();
          code = 0;
        }
      } catch (...) {
        code = 2;
      }
      ::_exit(code);
    }
    ::close(ready[1]);
    ::close(go[0]);
    ready_ = ready[0];
    go_ = go[1];
  }
  WriterProcess(const WriterProcess&) = delete;
  WriterProcess& operator=(const WriterProcess&) = delete;
  ~WriterProcess() {
    finish();
    ::close(ready_);
  }

  pid_t pid() const { return pid_; }
  /// True once the child holds the lock and has written.
  bool wait_ready() {
    char byte = 0;
    return ::read(ready_, &byte, 1) == 1;
  }
  /// Tells the child to commit; returns its wait status.
  int commit() {
    const char byte = 'g';
    if (::write(go_, &byte, 1) != 1) return -1;
    return finish();
  }

 private:
  int finish() {
    if (go_ >= 0) ::close(go_);
    go_ = -1;
    int status = -1;
    if (pid_ > 0 && ::waitpid(pid_, &status, 0) == pid_) pid_ = -1;
    return status;
  }
  pid_t pid_ = -1;
  int ready_ = -1;
  int go_ = -1;
};

}  // namespace

TEST_CASE("a writer in another process is named, and its .partial is left alone",
          "[safetensors]") {
  const std::string target = fresh_target("sink_other_process.bin");
  const Bytes theirs = {'t', 'h', 'e', 'i', 'r', 's'};
  WriterProcess writer(target, theirs);
  REQUIRE(writer.wait_ready());
  const std::string busy = "is being written by process " + std::to_string(writer.pid());
  for (const bool overwrite : {false, true}) {
    try {
      AtomicFileSink second(target, named_temp(overwrite));
      FAIL("a second writer of the same target was accepted");
    } catch (const qfp8::Error& error) {
      CHECK(code_name(error) == "OutputExists");
      CHECK(std::string(error.what()).find(busy) != std::string::npos);
    }
  }
  CHECK(read_file(target + ".partial") == theirs);
  const int status = writer.commit();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(read_file(target) == theirs);
  CHECK(nothing_left(target));
}

TEST_CASE("a stale lock file from a killed writer is reused and removed", "[safetensors]") {
  const std::string target = fresh_target("sink_stale_lock.bin");
  qfp8::test::write_file(lock_of(target), Bytes{});  // nobody holds a lock on it
  {
    AtomicFileSink sink(target);
    sink.write("ok", 2);
    sink.commit();
  }
  CHECK(read_file(target) == Bytes{'o', 'k'});
  CHECK(nothing_left(target));
}

TEST_CASE("commit renames only the .partial this sink wrote", "[safetensors]") {
  for (const bool overwrite : {false, true}) {
    INFO("overwrite " << overwrite);
    const std::string target = fresh_target("sink_not_ours.bin");
    const std::string foreign = qfp8::test::temp_path("sink_not_ours.foreign");
    {
      AtomicFileSink sink(target, named_temp(overwrite));
      sink.write("mine", 4);
      // A writer that ignores the lock puts its own file under our temporary name.
      qfp8::test::write_file(foreign, Bytes{'t', 'h', 'e', 'i', 'r', 's'});
      REQUIRE(std::rename(foreign.c_str(), (target + ".partial").c_str()) == 0);
      try {
        sink.commit();
        FAIL("commit published a file it did not write");
      } catch (const qfp8::Error& error) {
        CHECK(code_name(error) == "WriteFailed");
        CHECK(std::string(error.what()).find("no longer the file written here") !=
              std::string::npos);
      }
    }
    CHECK_FALSE(path_exists(target));
    CHECK(read_file(target + ".partial") == Bytes{'t', 'h', 'e', 'i', 'r', 's'});  // not ours
    qfp8::test::remove_path(target + ".partial");
  }
}

TEST_CASE("a 250-byte target name fits its temporary and lock names", "[safetensors]") {
  // NAME_MAX is 255: `<name>.partial` and `.<name>.lock` are shortened with a hash.
  const std::string name = std::string(238, 'a') + ".safetensors";
  REQUIRE(name.size() == 250);
  for (const bool unnamed : {true, false}) {
    for (const bool overwrite : {false, true}) {
      INFO("unnamed " << unnamed << ", overwrite " << overwrite);
      const std::string target = qfp8::test::temp_path(name);
      if (!overwrite) qfp8::test::remove_path(target);
      qfp8::AtomicFileOptions options;
      options.unnamed = unnamed;
      options.overwrite = overwrite;
      AtomicFileSink sink(target, options);
      sink.write("long", 4);
      sink.commit();
      CHECK(read_file(target) == Bytes{'l', 'o', 'n', 'g'});
    }
  }
}

TEST_CASE("a FIFO or a directory as target is refused, --force or not", "[safetensors]") {
  const std::string fifo = fresh_target("sink_fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  const std::string directory = fresh_target("sink_directory");
  ::rmdir(directory.c_str());
  REQUIRE(::mkdir(directory.c_str(), 0755) == 0);
  for (const bool overwrite : {false, true}) {
    for (const auto& [path, kind] : {std::pair<std::string, std::string>{fifo, "a FIFO"},
                                     {directory, "a directory"}}) {
      INFO(path << ", overwrite " << overwrite);
      try {
        qfp8::AtomicFileOptions options;
        options.overwrite = overwrite;
        AtomicFileSink sink(path, options);
        FAIL("a special file was accepted as output");
      } catch (const qfp8::Error& error) {
        CHECK(code_name(error) == "OutputExists");
        CHECK(std::string(error.what()) == "'" + path + "' is " + kind + ": refusing to replace it");
      }
      CHECK(nothing_left(path));
    }
  }
  struct stat info {};
  REQUIRE(::lstat(fifo.c_str(), &info) == 0);
  CHECK(S_ISFIFO(info.st_mode));
  qfp8::test::remove_path(fifo);
  ::rmdir(directory.c_str());
}
