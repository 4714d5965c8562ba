#!/usr/bin/env bash
# fuzz.sh [SECONDS_PER_TARGET] — builds the libFuzzer harnesses of tests/fuzz with clang
# under ASan+UBSan and runs each for a bounded time on a seed corpus of valid files (written
# by the reference Python `safetensors` writer) and malformed variants. A crash leaves its
# reproducer in build/fuzz/artifacts/ and fails the script. The build dir and each target's
# grown corpus (build/fuzz/corpus-TARGET) are kept between runs, so a CI run such as
# `scripts/fuzz.sh 20` only relinks and resumes (about 1 minute; see docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
started=$(date +%s)
build=build/fuzz

bash scripts/install-deps.sh --fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DQFP8_ENABLE_CUDA=OFF -DQFP8_SANITIZE=ON -DQFP8_BUILD_TESTS=OFF -DQFP8_BUILD_FUZZERS=ON \
  -DQFP8_WERROR=ON >/dev/null
targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
# shellcheck disable=SC2086
if ! cmake --build "$build" -j2 --target $targets >"$build/build.log" 2>&1; then
  grep -E 'error|warning' "$build/build.log" | head -40
  echo "fuzz.sh: build FAILED (see $build/build.log)"
  exit 1
fi

corpus="$build/seeds"
rm -rf "$corpus" && mkdir -p "$corpus" "$build/artifacts"
python3 tests/fuzz/make_seeds.py "$corpus"

status=0
for target in $targets; do
  work="$build/corpus-$target"
  mkdir -p "$work"
  echo "fuzz.sh: $target for ${seconds}s"
  if ! "$build/tests/fuzz/$target" "$work" "$corpus" -dict=tests/fuzz/safetensors.dict \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 2>"$build/$target.log"; then
    echo "fuzz.sh: $target FAILED (see $build/$target.log and $build/artifacts/)"
    tail -40 "$build/$target.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$build/$target.log" | sed "s/^/  /"
  fi
done
echo "fuzz.sh: done in $(( $(date +%s) - started )) s, status $status"
exit $status
