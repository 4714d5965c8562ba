#!/usr/bin/env bash
# run_benchmarks.sh — end-to-end conversion benchmark. Builds the release binary, writes
# synthetic Qwen-Image-shaped BF16 checkpoints of ~1 GB and ~4 GB (and ~16 GB with
# --large), and times, each under /usr/bin/time -v (wall time, peak RSS):
#   convert --device cpu --threads 1, convert --device cpu (all cores),
#   convert --device cuda (only when `selftest --device cuda` passes), and each of the
#   other formats (--format float8_e5m2, mxfp8, nvfp4) on all cores and on the GPU,
#   and the I/O baseline `cp IN OUT && sync OUT` (durable, as convert fsyncs its output);
#   and `verify OUT --against IN` against its baseline `cat OUT IN > /dev/null`, both from
#   a cold cache. A second table gives the targets' ratios and peak memory
#   (docs/benchmarks.md#targets).
# The page cache is warmed by reading the input before every convert run. Outputs of the
# different backends are compared byte for byte (they must be identical) and verified
# against their source before any number is reported. The table is appended to
# docs/benchmarks.md with a description of the machine.
#
# Every command runs $QFP8_BENCH_REPEATS times (default 3), each from the same cache
# state; the table gives the median wall time with the range, and the highest peak RSS.
#
# usage: bench/run_benchmarks.sh [--large] [--no-build] [--keep] [--smoke]
#   --large     also the ~16 GB checkpoint (needs ~40 GB of free disk)
#   --no-build  use the existing binary: $QFP8_BIN, else build/release/src/qfp8-cuda
#   --keep      keep the synthetic inputs in $QFP8_BENCH_DIR (default build/bench-data)
#   --smoke     a 44 MB input only, table printed but not appended (tests this script)
# $QFP8_BENCH_REPORT names another file to append to (default docs/benchmarks.md);
# $QFP8_TIME another GNU time binary (default /usr/bin/time; scripts/device-kit.sh packs one);
# $QFP8_COMMIT the commit to report for a binary built elsewhere (default: this checkout's).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

large=0 build=1 keep=0 smoke=0
for arg in "$@"; do
  case "$arg" in
    --large) large=1 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --smoke) smoke=1 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "run_benchmarks: unknown option '$arg'" >&2; exit 1 ;;
  esac
done

# Synthetic configurations: name, --blocks, --width-div. Width / 2 (hidden 1536) keeps the
# real layer mix; 6 and 24 blocks give 1.04 GB and 4.10 GB. 2 full-width blocks (1.44 GB)
# are the input the ratio targets are stated on. The large one is full width: 24 of the 60
# real-size blocks, 16.39 GB.
configs=("1GB 6 2" "1.4GB 2 1" "4GB 24 2")
[ "$large" -eq 1 ] && configs+=("16GB 24 1")
[ "$smoke" -eq 1 ] && configs=("44MB 4 8")

if [ "$build" -eq 1 ]; then
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake --preset release > /dev/null || exit 1
  cmake --build --preset release --target qfp8-cuda 2>&1 | grep -v '^\[ *[0-9]*%\] Building' || exit 1
fi
qfp8="${QFP8_BIN:-$repo/build/release/src/qfp8-cuda}"
[ -x "$qfp8" ] || { echo "run_benchmarks: $qfp8 is missing (build the release preset)" >&2; exit 1; }
time_bin="${QFP8_TIME:-/usr/bin/time}"
[ -x "$time_bin" ] || { echo "run_benchmarks: $time_bin is missing (apt-get install time)" >&2; exit 1; }

data="${QFP8_BENCH_DIR:-$repo/build/bench-data}"
report_file="${QFP8_BENCH_REPORT:-$repo/docs/benchmarks.md}"
mkdir -p "$data"
log="$data/time.log"

# A CPU-only binary's selftest runs only the CPU checks (and passes), so the gate also
# requires that the device checks ran.
have_cuda=0
if selftest_out="$("$qfp8" selftest --device cuda --quick 2>/dev/null)" &&
   grep -q '^selftest on cuda:' <<< "$selftest_out"; then
  have_cuda=1
fi

# --- measurement helpers ---------------------------------------------------------------

# Wall seconds and peak RSS (MiB) of the last timed command, from /usr/bin/time -v.
wall_seconds() {
  awk -F': ' '/Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log"
}
peak_rss_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log"; }

repeats="${QFP8_BENCH_REPEATS:-3}"

# timed LABEL OUTPUT COMMAND...: runs the command $repeats times under /usr/bin/time -v,
# each time from the same state (OUTPUT removed, dirty pages flushed, input warm), and
# leaves the median wall time in $wall, "min-max" in $spread and the highest peak RSS in
# $rss. The last run's OUTPUT stays.
timed() {
  local label="$1" output_file="$2"; shift 2
  local walls=() run
  rss=0
  for ((run = 1; run <= repeats; run++)); do
    rm -f "$output_file"
    # No dirty pages left from earlier steps to be flushed on this run's time, and (when
    # we may) no page cache from earlier steps either: reclaiming gigabytes of other
    # files' pages during a run was measured to swing one conversion by several times its
    # time (docs/benchmarks.md#results).
    # Then the input alone is read into the cache, the same way for every run.
    sync
    if [ -w /proc/sys/vm/drop_caches ]; then echo 3 > /proc/sys/vm/drop_caches; fi
    # cold=1: nothing read first (the verify rows, whose baseline reads both files cold).
    [ "${cold:-0}" -eq 1 ] || cat "$input" > /dev/null
    echo "run_benchmarks: $size_name $label ($run/$repeats)" >&2
    if ! "$time_bin" -v -o "$log" "$@" > "$data/run.out" 2>&1; then
      cat "$data/run.out" >&2
      echo "run_benchmarks: '$label' failed" >&2
      exit 1
    fi
    walls+=("$(wall_seconds)")
    rss="$(awk -v a="$rss" -v b="$(peak_rss_mib)" 'BEGIN { print (b > a ? b : a) }')"
  done
  read -r wall spread < <(printf '%s\n' "${walls[@]}" | sort -g | awk '
      { v[NR] = $1 }
      END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s %.2f-%.2f\n", m, v[1], v[NR] }')
}

rows=()
targets=()
target_row() {  # WHAT RATIO RATIO_TARGET MEMORY MEMORY_TARGET (docs/benchmarks.md#targets)
  targets+=("| $1 | $2 | $3 | $4 | $5 |")
}
add_row() {  # LABEL, with $wall $rss $input_bytes $baseline set
  local label="$1"
  local gbps ratio
  gbps="$(awk -v b="$input_bytes" -v s="$wall" 'BEGIN { printf "%.2f", b / 1e9 / s }')"
  ratio="$(awk -v s="$wall" -v c="$baseline" 'BEGIN { if (c > 0) printf "%.2fx", s / c; else print "-" }')"
  rows+=("| $size_name | $config_text | $label | $(printf '%.2f' "$wall") | $spread | $gbps | $ratio | $rss |")
}

same_bytes() {  # OUTPUT LABEL: the output must equal the reference output byte for byte
  if ! cmp -s "$data/reference-fp8.safetensors" "$1"; then
    echo "run_benchmarks: $2 wrote different bytes from the 1-thread CPU convert" >&2
    exit 1
  fi
}

# Other work on the machine distorts the timings: the report records the load.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- the runs --------------------------------------------------------------------------

for config in "${configs[@]}"; do
  read -r size_name blocks width_div <<< "$config"
  input="$data/qwen-image-b${blocks}-w${width_div}-bf16.safetensors"
  output="$data/out-fp8.safetensors"
  config_text="synth --blocks $blocks --width-div $width_div"
  rm -f "$output" "$data/reference-fp8.safetensors"
  if [ ! -f "$input" ]; then
    echo "run_benchmarks: $size_name: qfp8-cuda $config_text" >&2
    "$qfp8" synth --model qwen-image --blocks "$blocks" --width-div "$width_div" -q "$input" >&2
  fi
  input_bytes="$(stat -c %s "$input")"

  # Baseline first: its time is the denominator of every ratio.
  baseline=0
  timed "cp + sync (baseline)" "$output" sh -c 'cp "$1" "$2" && sync "$2"' sh "$input" "$output"
  baseline="$wall"
  add_row "cp IN OUT && sync OUT (baseline)"
  rm -f "$output"

  timed "cpu, 1 thread" "$data/reference-fp8.safetensors" "$qfp8" convert -q --device cpu --threads 1 -i "$input" -o "$data/reference-fp8.safetensors"
  add_row "convert --device cpu --threads 1"
  # Validate before reporting: the output re-derives from its source.
  "$qfp8" verify "$data/reference-fp8.safetensors" --against "$input" > "$data/verify.out" 2>&1 ||
    { cat "$data/verify.out" >&2; echo "run_benchmarks: verify failed" >&2; exit 1; }

  timed "cpu, all threads" "$output" "$qfp8" convert -q --device cpu -i "$input" -o "$output"
  same_bytes "$output" "convert --device cpu"
  add_row "convert --device cpu ($(nproc) threads)"
  target_row "$size_name: convert --device cpu vs cp + sync" \
      "$(awk -v s="$wall" -v c="$baseline" 'BEGIN { printf "%.2fx", s / c }')" "<= 0.60x" \
      "$rss MiB" "<= 64 MiB"
  rm -f "$output"

  # verify --against from a cold cache, against reading both files cold (when the caches
  # cannot be dropped, both are warm: the report says which).
  cache_state=cold
  [ -w /proc/sys/vm/drop_caches ] || cache_state=warm
  cold=1 timed "cat OUT IN ($cache_state)" "$data/no-output" sh -c 'cat "$1" "$2" > /dev/null' sh "$data/reference-fp8.safetensors" "$input"
  read_both="$wall"
  add_row "cat OUT IN > /dev/null ($cache_state cache)"
  cold=1 timed "verify --against ($cache_state)" "$data/no-output" "$qfp8" verify -q "$data/reference-fp8.safetensors" --against "$input"
  add_row "verify OUT --against IN ($cache_state cache)"
  target_row "$size_name: verify --against vs cat OUT IN ($cache_state)" \
      "$(awk -v s="$wall" -v c="$read_both" 'BEGIN { printf "%.2fx", s / c }')" "<= 1.30x" \
      "$rss MiB" "<= 256 MiB"

  if [ "$have_cuda" -eq 1 ]; then
    timed "cuda" "$output" "$qfp8" convert -q --device cuda -i "$input" -o "$output"
    same_bytes "$output" "convert --device cuda"
    add_row "convert --device cuda"
    rm -f "$output"
  fi
  rm -f "$data/reference-fp8.safetensors"

  # The other formats (docs/usage.md#formats): all cores, and the GPU's bytes must equal them.
  for format in float8_e5m2 mxfp8 nvfp4; do
    timed "cpu, $format" "$data/format-cpu.safetensors" "$qfp8" convert -q --device cpu --format "$format" -i "$input" -o "$data/format-cpu.safetensors"
    "$qfp8" verify "$data/format-cpu.safetensors" --against "$input" > "$data/verify.out" 2>&1 ||
      { cat "$data/verify.out" >&2; echo "run_benchmarks: verify --format $format failed" >&2; exit 1; }
    add_row "convert --device cpu --format $format"
    if [ "$have_cuda" -eq 1 ]; then
      timed "cuda, $format" "$output" "$qfp8" convert -q --device cuda --format "$format" -i "$input" -o "$output"
      cmp -s "$output" "$data/format-cpu.safetensors" ||
        { echo "run_benchmarks: convert --device cuda --format $format wrote different bytes from the CPU" >&2; exit 1; }
      add_row "convert --device cuda --format $format"
      rm -f "$output"
    fi
    rm -f "$data/format-cpu.safetensors"
  done
  [ "$keep" -eq 1 ] || rm -f "$input"
done

# --- the report ------------------------------------------------------------------------

cpu_model="$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
ram_gib="$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)"
fs_line="$(df -hT "$data" | awk 'NR == 2 { print $2 " on " $1 ", " $3 " total, " $5 " free" }')"
disk_dev="$(df --output=source "$data" | tail -1)"
disk_model="$(lsblk -ndo MODEL "$disk_dev" 2>/dev/null | head -1 || true)"
gpu="none used"
if [ "$have_cuda" -eq 1 ]; then
  gpu="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || echo "CUDA device")"
fi
build_text="release preset"
[ -n "${QFP8_BIN:-}" ] && build_text="binary $QFP8_BIN"
if [ -n "${QFP8_COMMIT:-}" ]; then
  commit="$QFP8_COMMIT"  # the binary's, when it was built elsewhere (scripts/device-kit.sh)
else
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit (with uncommitted changes)"; fi
fi

report="$(
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — $(hostname)"
  echo
  echo "- CPU: ${cpu_model:-unknown}, $(nproc) threads available"
  echo "- RAM: ${ram_gib} GiB"
  echo "- Disk: ${fs_line}${disk_model:+, $disk_model}"
  echo "- GPU: $gpu"
  echo "- Load average (1/5/15 min) before the runs: $load_before"
  echo "- qfp8-cuda $("$qfp8" --version | awk '{ print $2 }') ($build_text), commit $commit"
  echo "- Inputs: \`qfp8-cuda synth --model qwen-image\` (seed 0); before each run: sync, caches dropped (when root), then the input read once (warm)"
  echo
  echo "| input | config | run | wall s (median of $repeats) | range s | GB/s of input | time vs cp | peak RSS MiB |"
  echo "|---|---|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "| target | ratio | goal | peak RSS | goal |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s\n' "${targets[@]}"
)"
printf '%s\n' "$report"
if [ "$smoke" -eq 0 ]; then
  printf '%s\n' "$report" >> "$report_file"
  echo
  echo "run_benchmarks: appended to $report_file"
fi
