// process_scratch.hpp — the scratch directory of this test process.
//
// CTest runs every test case as its own process, several at once (`ctest -j`), and many
// cases share file names ("source.safetensors"). Under one shared directory a case could
// rewrite a file another case has memory-mapped, which kills the reader with SIGBUS (CI saw
// it). So each process gets QFP8_TEST_TMP/pid-<pid>/, removed when the process exits;
// set QFP8_KEEP_TEST_TMP=1 to keep it for a post-mortem.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace qfp8::test {

namespace detail {

class ProcessScratch {
 public:
  ProcessScratch()
      : owner_(::getpid()),
        path_((std::filesystem::path(QFP8_TEST_TMP) / ("pid-" + std::to_string(owner_)))
                  .string()) {
    std::filesystem::remove_all(path_);  // a stale directory of an earlier process, same pid
    std::filesystem::create_directories(path_);
  }
  ~ProcessScratch() {
    // A forked child that exits normally runs static destructors too; only the process that
    // made the directory removes it.
    if (::getpid() != owner_ || std::getenv("QFP8_KEEP_TEST_TMP") != nullptr) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ProcessScratch(const ProcessScratch&) = delete;
  ProcessScratch& operator=(const ProcessScratch&) = delete;

  const std::string& path() const { return path_; }

 private:
  pid_t owner_;
  std::string path_;
};

}  // namespace detail

/// QFP8_TEST_TMP/pid-<pid>: this process's own scratch directory (created on first use).
inline const std::string& process_scratch_root() {
  static const detail::ProcessScratch scratch;
  return scratch.path();
}

}  // namespace qfp8::test
