#!/usr/bin/env bash
# gpu-checks.sh — every GPU check of the CUDA backend in one run, on a machine with a GPU
# (step times on an H200 in docs/benchmarks.md; 9 minutes at most, as each step has a time
# limit). Uses the binaries packed by scripts/device-kit.sh, so the machine needs only the
# NVIDIA driver (and compute-sanitizer for memcheck). Every step runs whatever the previous
# ones did; the summary table comes last. The steps, by the name that selects them:
#   tests     qfp8_cuda_tests: every GPU test, then the > 2^31-element ones ([large]) apart
#             (they exit 77 where the device has too little free memory for them)
#   selftest  qfp8-cuda selftest --device cuda: the 2^32-float cast sweep, all BF16 x
#             scales, pipeline
#   sha       a >= 2 GB synthetic Qwen-Image checkpoint: convert --device cuda (default
#             reader threads and --threads 1) and --device cpu must give the same SHA-256;
#             the CUDA output verified against its source
#   kernels   bench_cuda_kernels: kernel GB/s against a device copy and the card's peak
#   readers   bench_staging_reader: GB/s of 1..6 staging reader threads out of a mapped file
#   startup   a 12 MB checkpoint converted --device cpu and --device cuda, alternating, 3
#             times each: what a CUDA start adds (target: at most 0.15 s), and what
#             --device auto chooses for it
#   writer    bench_writer: 2 GB written by the converter's writer, by 2 and 4 threads at
#             their offsets, and with O_DIRECT, on this machine's disk
#   bench     bench/run_benchmarks.sh on the kit's binary (1 and 4 GB, cp baseline, cpu, cuda)
#   memcheck  compute-sanitizer memcheck: the GPU tests (but the value sweeps and > 2^31
#             elements, hours under memcheck) and a whole convert --device cuda; the
#             [api-error] test, which fails a CUDA call on purpose, apart and without
#             API-error reports. Reported UNAVAILABLE, not FAIL, where the sanitizer
#             refuses the device (it does under gVisor: "Device not supported"), as that
#             says nothing about our code.
#   sync      compute-sanitizer racecheck and synccheck on an absmax kernel test (the one
#             kernel with shared memory, barriers and warp shuffles)
# Each step has a time limit, so the summary always comes back inside one 10-minute call.
# Where GPU time is short (a reservation of minutes): after a first full run, rerun only
# what failed, e.g. `bash scripts/gpu-checks.sh sha memcheck` (no names: all).
# A step that did not run (SKIPPED: exit 77, UNAVAILABLE: exit 78) is no pass: the summary
# lists it under "not run", and the script exits 0 only when every step passed, 1 when one
# failed or timed out, 77 when none failed but some did not run.
# $OUT (default build/gpu-checks) receives three files, as the device tool returns at most
# eight: summary.md (machine, results), benchmarks-table.md (for docs/benchmarks.md) and
# logs.tar.gz (every step's full log). $QFP8_BENCH_ARGS adds
# options to run_benchmarks.sh (`--smoke` tries this script out on a machine without GPU).
#
# On the device tool: run scripts/device-kit.sh here first, then
#   run(command="bash scripts/gpu-checks.sh", carry=["build/device-kit"], timeout_s=600)
set -uo pipefail
cd "$(dirname "$0")/.."
export kit="$(pwd)/${QFP8_KIT:-build/device-kit}"
results_dir="${OUT:-$(pwd)/build/gpu-checks}"
export data="${QFP8_CHECK_DIR:-/tmp/qfp8-gpu-checks}"
export out="$data/logs"
mkdir -p "$results_dir" "$out"
trap 'rm -rf "$data"' EXIT
export LD_LIBRARY_PATH="$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$PATH:/usr/local/cuda/bin"
export qfp8="$kit/qfp8-cuda"
export QFP8_BINARY="$qfp8"  # the GPU tests that run the binary look for it here
[ -x "$qfp8" ] || { echo "gpu-checks: $qfp8 is missing: run scripts/device-kit.sh first" >&2; exit 1; }

all_steps=(tests selftest sha kernels readers startup writer bench memcheck sync)
for name in "$@"; do
  [[ " ${all_steps[*]} " == *" $name "* ]] ||
      { echo "gpu-checks: no step '$name' (steps: ${all_steps[*]})" >&2; exit 1; }
done
selected=("$@")
[ $# -gt 0 ] || selected=("${all_steps[@]}")
# wanted NAME: whether the command line selected step NAME (none named: every step).
wanted() { [[ " ${selected[*]} " == *" $1 "* ]]; }

results=()
# step NAME LOG SECONDS COMMAND...: runs the command (a program or an exported function)
# for at most SECONDS with its output in $out/LOG; records PASS / SKIPPED (exit 77: no
# GPU) / UNAVAILABLE (exit 78: a tool refused this machine) / TIMEOUT / FAIL with the exit
# code, and the seconds it took.
step() {
  local name="$1" log="$2" limit="$3"; shift 3
  local start=$SECONDS rc=0
  echo "=== $name"
  timeout -k 10 "$limit" bash -c '"$@"' bash "$@" > "$out/$log" 2>&1 || rc=$?
  tail -n 15 "$out/$log"
  local verdict
  case "$rc" in
    0) verdict=PASS ;;
    77) verdict="SKIPPED (exit 77: no GPU, or too little device memory; see the log)" ;;
    78) verdict="UNAVAILABLE (see the log)" ;;
    124|137) verdict="TIMEOUT after ${limit} s" ;;
    *) verdict="FAIL (exit $rc)" ;;
  esac
  results+=("| $name | $verdict | $((SECONDS - start)) s | $log |")
}

{
  echo "kit commit: $(cat "$kit/commit" 2>/dev/null)"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv
  "$qfp8" --version
  nproc; free -g; df -h "$data"
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"

# The 2^32 sweep test ([long]) is what the selftest step runs anyway.
wanted tests && step "GPU tests" cuda-tests.log 90 "$kit/qfp8_cuda_tests" "~[long] ~[large]" \
    -w NoAssertions --durations yes
# Apart, so that a device without the 7 GiB they need shows them as not run, not passed.
wanted tests && step "GPU tests > 2^31 elements" cuda-tests-large.log 60 \
    "$kit/qfp8_cuda_tests" "[large]" -w NoAssertions -w NoTests --durations yes

wanted selftest && step "selftest (full)" selftest.log 60 "$qfp8" selftest --device cuda

same_sha() {
  local input="$data/synth-2gb.safetensors"
  rm -f "$input"
  "$qfp8" synth --model qwen-image --blocks 12 --width-div 2 -q "$input" || return 1
  ls -l "$input"
  # Not quiet: the CUDA backend's last line says where the time went (readers, GPU,
  # writer). The default reader count, then one reader: the same bytes, and the speed-up.
  "$qfp8" convert --device cuda -i "$input" -o "$data/cuda.safetensors" --force \
      > "$out/cuda-convert.log" 2>&1 || { tail -n 20 "$out/cuda-convert.log"; return 1; }
  "$qfp8" convert --device cuda --threads 1 -i "$input" -o "$data/cuda-1.safetensors" \
      --force >> "$out/cuda-convert.log" 2>&1 || { tail -n 20 "$out/cuda-convert.log"; return 1; }
  grep -e ' in the writer' "$out/cuda-convert.log" || true
  "$qfp8" convert -q --device cpu -i "$input" -o "$data/cpu.safetensors" --force || return 1
  sha256sum "$data/cuda.safetensors" "$data/cuda-1.safetensors" "$data/cpu.safetensors" |
      tee "$out/sha256.txt"
  [ "$(cut -d' ' -f1 "$out/sha256.txt" | sort -u | wc -l)" -eq 1 ] || return 2
  "$qfp8" verify "$data/cuda.safetensors" --against "$input" || return 2
  rm -f "$data/cpu.safetensors" "$data/cuda.safetensors" "$data/cuda-1.safetensors" "$input"
}
export -f same_sha
wanted sha && step "cuda vs cpu SHA-256 (2 GB)" sha256.log 110 same_sha

wanted kernels && step "kernel bandwidth" kernels.log 30 "$kit/bench_cuda_kernels"

# The host's share of an upload: copy rate of 1..6 staging reader threads (no GPU involved).
wanted readers && step "staging readers" staging-readers.log 30 "$kit/bench_staging_reader" 2048 6

# What a CUDA start adds to a small conversion; GNU time's wall and peak RSS per run.
startup_cost() {
  local input="$data/startup.safetensors"
  "$qfp8" synth --model qwen-image --blocks 1 --width-div 8 -q "$input" || return 1
  for round in 1 2 3; do
    for device in cpu cuda; do
      "$kit/time" -f "$device wall %e s, peak RSS %M KB" \
          "$qfp8" convert -q --device "$device" -i "$input" -o "$data/startup-$device.st" \
          --force || return 1
    done
  done
  "$qfp8" convert -i "$input" -o "$data/startup-auto.st" --force 2>&1 | grep -- '--device auto'
  cmp "$data/startup-cpu.st" "$data/startup-cuda.st" || return 1
  rm -f "$input" "$data"/startup-*.st
}
export -f startup_cost
wanted startup && step "CUDA start-up (12 MB)" startup.log 60 startup_cost

wanted writer && step "writer (2 GB)" writer.log 90 "$kit/bench_writer" 2048 "$data" 3

wanted bench && step "end-to-end benchmarks" benchmarks.log 130 \
    env QFP8_BIN="$qfp8" QFP8_TIME="$kit/time" QFP8_COMMIT="$(tr '\n' ' ' < "$kit/commit")" \
    QFP8_BENCH_REPORT="$results_dir/benchmarks-table.md" QFP8_BENCH_DIR="$data/bench" \
    bash bench/run_benchmarks.sh --no-build ${QFP8_BENCH_ARGS:-}

# sanitize TOOL COMMAND...: runs it under compute-sanitizer's TOOL; 78 when the sanitizer
# refuses the device.
sanitize() {
  local tool="$1" rc=0
  shift
  compute-sanitizer --tool "$tool" --error-exitcode 9 "$@" > "$data/sanitizer.txt" 2>&1 || rc=$?
  cat "$data/sanitizer.txt"
  if [ "$rc" -ne 0 ] && grep -q "Device not supported" "$data/sanitizer.txt"; then return 78; fi
  return "$rc"
}
memcheck() {
  command -v compute-sanitizer > /dev/null || { echo "compute-sanitizer not found"; return 78; }
  # One test spec: within it a space means AND ([large]: > 2^31 elements, [long]: 2^32 sweep,
  # [sweep]: every 16-bit value by many scales, one access pattern many times).
  sanitize memcheck "$kit/qfp8_cuda_tests" "~[large] ~[long] ~[sweep] ~[api-error]" || return
  # [api-error]: tests that provoke a CUDA error on purpose (a device index past the last);
  # memory errors only, as the sanitizer would count the provoked error as one.
  sanitize memcheck --report-api-errors no "$kit/qfp8_cuda_tests" "[api-error]" || return
  "$qfp8" synth --model qwen-image --blocks 1 --width-div 8 -q "$data/small.safetensors" || return 1
  sanitize memcheck "$qfp8" convert -q --device cuda -i "$data/small.safetensors" \
      -o "$data/small-fp8.safetensors" --force
}
# The absmax kernel's block reduction: shared memory between barriers (racecheck), warp
# shuffle masks and barriers (synccheck). The other kernels use neither. Its control flow
# does not depend on the data, so one test's few multi-warp launches cover it.
reduction_checks() {
  command -v compute-sanitizer > /dev/null || { echo "compute-sanitizer not found"; return 78; }
  sanitize racecheck "$kit/qfp8_cuda_tests" "absmax kernel: empty*" || return
  sanitize synccheck "$kit/qfp8_cuda_tests" "absmax kernel: empty*"
}
export -f sanitize
export -f memcheck
wanted memcheck && step "compute-sanitizer memcheck" memcheck.log 110 memcheck

export -f reduction_checks
wanted sync && step "compute-sanitizer racecheck, synccheck" sync.log 30 reduction_checks

printf '%s\n' "${results[@]}" > "$out/results.md"
# The verdict line: passed, not run (SKIPPED, UNAVAILABLE) and failed (FAIL, TIMEOUT) counted
# apart, and the steps that did not run named, so a partial run never reads as all good.
passed=0 failed=0 not_run_names=()
for row in "${results[@]}"; do
  IFS='|' read -r _ name result _ <<< "$row"
  name="${name# }" name="${name% }" result="${result# }"
  case "$result" in
    PASS*) passed=$((passed + 1)) ;;
    SKIPPED*|UNAVAILABLE*) not_run_names+=("$name") ;;
    *) failed=$((failed + 1)) ;;
  esac
done
not_run=${#not_run_names[@]}
verdict="$passed passed, $not_run not run, $failed failed"
if [ "$not_run" -gt 0 ]; then
  verdict="$verdict (not run: $(printf '%s; ' "${not_run_names[@]}" | sed 's/; $//'))"
fi

echo
echo "| check | result | time | log |"
echo "|---|---|---:|---|"
cat "$out/results.md"
echo
echo "gpu-checks: $verdict"
{ cat "$out/machine.txt"; echo; echo "| check | result | time | log |"; echo "|---|---|---:|---|";
  cat "$out/results.md"; echo; echo "gpu-checks: $verdict"; echo;
  echo "Where convert --device cuda waited (2 GB; default readers, then --threads 1):";
  grep -h ' in the writer' "$out/cuda-convert.log" 2>/dev/null; echo;
  cat "$out/staging-readers.log" 2>/dev/null; } > "$results_dir/summary.md"
tar czf "$results_dir/logs.tar.gz" -C "$out" .
[ "$failed" -eq 0 ] || exit 1
[ "$not_run" -eq 0 ] || exit 77
exit 0
