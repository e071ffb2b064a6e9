#!/usr/bin/env bash
# Renderer throughput on a GPU: the 6-module stack at 512 px, batch 64, torch on CUDA (target ≥ 500 photos/s),
# plus 1024 px for reference. darktable-cli is not timed here (a GPU machine may not have darktable).
# Run from the repository root on a machine with an NVIDIA GPU and torch with CUDA:
#   bash benchmarks/render_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
"$PY" benchmarks/render.py --device cuda --size 512 --batch 64 --repeat 10 --no-darktable
"$PY" benchmarks/render.py --device cuda --size 1024 --batch 16 --repeat 10 --no-darktable
