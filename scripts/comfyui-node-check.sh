#!/usr/bin/env bash
# Proves in ComfyUI itself that the node pack (comfyui/qfp8_nodes) loads from custom_nodes/ and
# runs: ComfyUI's own custom-node loading, prompt validation and executor, on tiny synthetic
# models in a temporary base directory (scripts/comfyui_node_check.py). Run by hand, not in
# CI: it needs a ComfyUI tree and torch. The ComfyUI tree is only read.
#
# Usage: scripts/comfyui-node-check.sh --comfyui DIR [--venv DIR] [--bin PATH] [--work DIR]
#                                      [--keep]
#   --comfyui DIR  a ComfyUI source tree (git clone of ComfyUI or a mirror of it)
#   --venv DIR     Python venv to use; created (with what importing ComfyUI's nodes.py and
#                  execution.py needs, from PyPI) when missing.
#                  Default: ${XDG_CACHE_HOME:-~/.cache}/qfp8-cuda/comfyui-venv
#   --bin PATH     qfp8-cuda binary; default: build the cpu-only preset and use it
#   --work DIR     scratch folder (default: a new temporary one); --keep leaves it in place
# Cost: about 1 MB of disk and a few seconds once the venv exists.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/qfp8-cuda/comfyui-venv"
comfyui="" bin="" work="" keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --comfyui) comfyui=$2; shift 2 ;;
    --venv) venv=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 1 ;;
  esac
done
[[ -n $comfyui ]] || { echo "error: --comfyui DIR is required (see --help)" >&2; exit 1; }
[[ -f $comfyui/nodes.py && -f $comfyui/execution.py ]] ||
  { echo "error: '$comfyui' is not a ComfyUI tree (no nodes.py, execution.py)" >&2; exit 1; }

# What importing nodes.py and execution.py pulls in (ComfyUI's requirements.txt, less the
# server, frontend and database packages): torch and the model code, and PyAV for comfy_api.
packages=(torch torchvision torchsde numpy einops "transformers>=4.50.3" "tokenizers>=0.13.3"
          sentencepiece "safetensors>=0.4.2" pyyaml Pillow scipy tqdm psutil "comfy-kitchen>=0.2.3"
          "av>=14.2.0")
if [[ ! -x $venv/bin/python ]]; then
  echo "creating venv $venv" >&2
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import torch, torchvision, torchsde, einops, transformers, sentencepiece, safetensors, yaml, PIL, scipy, tqdm, psutil, comfy_kitchen, av" 2>/dev/null; then
  echo "installing what ComfyUI's nodes.py imports into $venv" >&2
  "$venv/bin/python" -m pip install --quiet "${packages[@]}"
fi

if [[ -z $bin ]]; then
  (cd "$root" && cmake --preset cpu-only >/dev/null && cmake --build build/cpu-only -j2 --target qfp8-cuda >/dev/null)
  bin=$root/build/cpu-only/src/qfp8-cuda
fi
if [[ -z $work ]]; then
  work=$(mktemp -d)
  [[ $keep == 1 ]] || trap 'rm -rf "$work"' EXIT
fi

# No bytecode is written into the ComfyUI tree or the pack.
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" "$root/scripts/comfyui_node_check.py" \
  --comfyui "$comfyui" --bin "$bin" --work "$work"
