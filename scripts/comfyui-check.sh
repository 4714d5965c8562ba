#!/usr/bin/env bash
# Proves in ComfyUI itself that converted files load right: for every model family, a small
# full-width synthetic model is converted with defaults and loaded, BF16 and FP8, through
# ComfyUI's own loader on the CPU (model type, FP8 layer set and scales, key warnings, one
# forward pass compared). Run by hand, not in CI: it needs a ComfyUI tree and torch.
#
# With --format F it converts with `convert --format F` instead and checks every format's
# layers (block-scaled ones too) and their dequantized weights (docs/validation.md).
#
# Usage: scripts/comfyui-check.sh --comfyui DIR [--venv DIR] [--bin PATH] [--family NAME ...]
#                                 [--format F ...] [--out TABLE.md] [--work DIR] [--keep]
#   --comfyui DIR  a ComfyUI source tree (git clone of ComfyUI or a mirror of it)
#   --venv DIR     Python venv to use; created (with torch and the ComfyUI requirements that
#                  model loading imports, from PyPI) when missing.
#                  Default: ${XDG_CACHE_HOME:-~/.cache}/qfp8-cuda/comfyui-venv
#   --bin PATH     qfp8-cuda binary; default: build the cpu-only preset and use it
#   --family NAME  check only this family (repeatable); default: all of them
#   --format F     float8_e4m3fn, float8_e5m2, mxfp8 or nvfp4 (repeatable or comma-separated);
#                  default: the default conversion only, checked as before
#   --out FILE     also write the Markdown result table to FILE
# Memory: one model in memory at a time; the T5 encoders (24 full-width blocks, ComfyUI's
# detection needs block 23) take about 10 GB of RAM and 15 GB of disk while they run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/qfp8-cuda/comfyui-venv"
comfyui="" bin="" pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --comfyui) comfyui=$2; shift 2 ;;
    --venv) venv=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --family|--format|--out|--work) pass+=("$1" "$2"); shift 2 ;;
    --keep) pass+=("$1"); shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 1 ;;
  esac
done
[[ -n $comfyui ]] || { echo "error: --comfyui DIR is required (see --help)" >&2; exit 1; }
[[ -f $comfyui/comfy/sd.py ]] || { echo "error: '$comfyui' is not a ComfyUI tree (no comfy/sd.py)" >&2; exit 1; }

# What comfy.sd and the model/text-encoder code it loads import (ComfyUI's requirements.txt,
# less the server, frontend, database and audio/video I/O packages).
# comfy-kitchen (the quantized layouts) and comfy-aimdo (imported by comfy.model_management
# in trees from 2026 on) at the versions the tree's requirements.txt pins.
packages=(torch torchvision torchaudio torchsde numpy einops "transformers>=4.50.3" "tokenizers>=0.13.3"
          sentencepiece "safetensors>=0.4.2" pyyaml Pillow scipy tqdm psutil)
mapfile -t pinned < <(grep -E '^comfy-(kitchen|aimdo)\b' "$comfyui/requirements.txt" 2>/dev/null | tr -d ' \r' || true)
[[ ${#pinned[@]} -gt 0 ]] || pinned=("comfy-kitchen>=0.2.3")

if [[ ! -x $venv/bin/python ]]; then
  echo "creating venv $venv" >&2
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import torch, torchvision, torchaudio, torchsde, einops, transformers, sentencepiece, safetensors, yaml, PIL, scipy, tqdm, psutil, comfy_kitchen" 2>/dev/null; then
  echo "installing ComfyUI's loader requirements into $venv" >&2
  "$venv/bin/python" -m pip install --quiet "${packages[@]}" "${pinned[@]}"
else
  # pip leaves a requirement that is already met alone (no index look-up).
  "$venv/bin/python" -m pip install --quiet "${pinned[@]}"
fi

if [[ -z $bin ]]; then
  (cd "$root" && cmake --preset cpu-only >/dev/null && cmake --build build/cpu-only -j2 --target qfp8-cuda >/dev/null)
  bin=$root/build/cpu-only/src/qfp8-cuda
fi

exec "$venv/bin/python" "$root/scripts/comfyui_check.py" --comfyui "$comfyui" --bin "$bin" "${pass[@]}"
