#!/usr/bin/env bash
# crosscheck-comfy-kitchen.sh — checks the float8_e5m2 / mxfp8 / nvfp4 rules of
# docs/format.md §5b against comfy-kitchen itself (docs/numerics.md#cross-check):
#   (a) the oracle of tests/python/formats_oracle.py vs comfy-kitchen's eager quantizers;
#   (b) float8_e5m2: codes where comfy-kitchen's reciprocal multiply differs from our division;
#   (c) with a qfp8-cuda binary: its `convert --format` outputs (test inputs and a synthetic
#       Qwen-Image checkpoint) vs comfy-kitchen, layer by layer.
# Needs PyPI (torch on CPU is enough, comfy-kitchen 0.2.40); the venv is made once and reused.
#
# usage: scripts/crosscheck-comfy-kitchen.sh [QFP8_BINARY]
#   CROSSCHECK_VENV  the venv (default build/crosscheck-venv)
#   CROSSCHECK_TMP   scratch folder (default build/crosscheck-tmp)
#   COMFY_KITCHEN    what pip installs for comfy-kitchen (default comfy-kitchen==0.2.40;
#                    a path to its wheel works too)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${CROSSCHECK_VENV:-$root/build/crosscheck-venv}"
tmp="${CROSSCHECK_TMP:-$root/build/crosscheck-tmp}"
comfy_kitchen="${COMFY_KITCHEN:-comfy-kitchen==0.2.40}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import torch, comfy_kitchen, packaging, numpy, ml_dtypes, safetensors" 2>/dev/null; then
  echo "crosscheck: pip install torch $comfy_kitchen packaging numpy ml_dtypes safetensors into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      torch "$comfy_kitchen" packaging numpy ml_dtypes safetensors
fi
mkdir -p "$tmp"
exec "$venv/bin/python" "$root/scripts/crosscheck_comfy_kitchen.py" "$tmp" "$@"
