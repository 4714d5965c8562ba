// build_info.hpp — what `qfp8-cuda --version` says about this build. The definition is
// generated at build time (cmake/write-build-info.cmake) and linked into the binary only.
#pragma once

namespace qfp8::cli {

struct BuildInfo {
  const char* version;  // project(qfp8-cuda VERSION ...) in CMakeLists.txt, e.g. "0.1.0"
  const char* commit;   // 12 hex digits, "-dirty" appended for uncommitted changes;
                        // "unknown" when not built from a git checkout
  const char* cuda;     // the CUDA toolkit the backend was compiled with, e.g. "13.0";
                        // empty for a CPU-only build
};

BuildInfo build_info();

}  // namespace qfp8::cli
