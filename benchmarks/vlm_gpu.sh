#!/usr/bin/env bash
# VLM policy on one GPU: SFT steps/s (TRL + LoRA) and edit latency for a Qwen2.5-VL-3B-shaped model with random
# weights (benchmarks/vlm.py). Sized for about 10 minutes: ~1 min of imports and set-up, 20 SFT steps, three timed
# generations. Run from the repository root on a machine with an NVIDIA GPU and a CUDA torch:
#   bash benchmarks/vlm_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
timeout 560 "$PY" benchmarks/vlm.py --shape 3b --device cuda --steps 20 --batch 4 --new-tokens 256 --repeat 3
