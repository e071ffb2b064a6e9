#!/usr/bin/env bash
# VLM RL on one GPU: GRPO steps/s and peak memory for a Qwen2.5-VL-3B-shaped model with random weights through TRL's
# GRPOTrainer with LoRA and the rendered rewards (benchmarks/rl.py --part vlm, the `retouchiq train rl --policy vlm`
# code path). Sized for a 15-minute lease: ~1 min of imports and set-up, 6 GRPO steps of 4 prompts × 4 samples of
# 128 tokens. Run from the repository root on a machine with an NVIDIA GPU and a CUDA torch:
#   bash benchmarks/rl_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
timeout 560 "$PY" benchmarks/rl.py --part vlm --shape 3b --device cuda --steps 6 --batch 4 --generations 4 --new-tokens 128
