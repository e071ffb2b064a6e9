#!/usr/bin/env bash
# Renderer throughput on a GPU: the 6-module stack at 512 px, batch 64, torch on CUDA, eager and through
# torch.compile (Triton kernels; sigmoid stays eager on a GPU, docs/renderer.md "On a GPU"), target ≥ 500
# photos/s; then 1024 px at batch 16. Each run also renders the stack once on the CPU and prints how far the GPU's
# render is from it. The first compiled call of each size (code generation) takes ~2 minutes and is printed apart.
# onnxruntime gets a row only where it has a usable CUDAExecutionProvider. darktable-cli is not timed here (a GPU
# machine may not have darktable). Run from the repository root on a machine with an NVIDIA GPU and torch with CUDA:
#   bash benchmarks/render_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())'
"$PY" benchmarks/render.py --device cuda --size 512 --batch 64 --repeat 10 --no-darktable
"$PY" benchmarks/render.py --device cuda --size 1024 --batch 16 --repeat 10 --no-darktable
