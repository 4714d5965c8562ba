#!/usr/bin/env bash
# check-version.sh SOURCE_DIR BINARY HAVE_CUDA(ON|OFF) TMP — `qfp8-cuda --version` names the
# version of CMakeLists.txt's project() line, the git commit of SOURCE_DIR (as git itself
# reads it now; "unknown" outside a git checkout) and whether CUDA is compiled in; and
# cmake/write-build-info.cmake writes "unknown" for a tree that is no git checkout, or one
# nested inside another repository (a tarball unpacked in a repository).
set -euo pipefail
source_dir=$1 binary=$2 have_cuda=$3 tmp=$4
fail() { echo "FAIL: $*" >&2; exit 1; }

version=$(sed -n 's/^project(qfp8-cuda VERSION \([0-9][0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
[ -n "$version" ] || fail "no 'project(qfp8-cuda VERSION x.y.z' line in CMakeLists.txt"
commit=unknown
if top=$(git -C "$source_dir" rev-parse --show-toplevel 2>/dev/null) &&
   [ "$(realpath "$top")" = "$(realpath "$source_dir")" ]; then
  commit=$(git -C "$source_dir" rev-parse --short=12 HEAD)
fi
if [ "$have_cuda" = ON ]; then cuda='CUDA [0-9]+\.[0-9]+ compiled in'; else cuda='CUDA not compiled in'; fi
# -dirty is allowed, not required: a file edited after the build must not fail this test.
expected="^qfp8-cuda ${version//./\\.} \\(commit ${commit}(-dirty)?, ${cuda}\\)\$"

output=$("$binary" --version) || fail "--version exited $?"
[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ] || fail "--version printed more than one line: $output"
[[ $output =~ $expected ]] || fail "--version printed '$output', expected /$expected/"
[ "$("$binary" -V)" = "$output" ] || fail "-V differs from --version"
echo "ok: $output"

# The generator on trees that are no checkout of their own.
rm -rf "$tmp" && mkdir -p "$tmp/plain"
for tree in "$tmp/plain" "$source_dir/src"; do
  cmake -D "SOURCE_DIR=$tree" -D "OUTPUT=$tmp/build_info.cpp" -D VERSION=9.8.7 -D CUDA_VERSION= \
        -P "$source_dir/cmake/write-build-info.cmake"
  grep -q '{"9.8.7", "unknown", ""}' "$tmp/build_info.cpp" ||
    fail "build info for $tree: $(grep BuildInfo "$tmp/build_info.cpp" | tail -1)"
  rm "$tmp/build_info.cpp"
done
echo "ok: commit 'unknown' outside a git checkout and in a tree nested in one"
