#!/usr/bin/env bash
# The CUDA check for the core (issues 2 and 20): the core tests with --device cuda, the core
# benchmark, and bench/gpu_check.py (auto on names.txt in 60 s, auto from the prior with the
# fused AdamW, kinds with guidance, the most-likely search, repair and sampling speed, each
# against the CPU), on a machine whose python3 already has torch, safetensors, numpy, rich and
# pytest. The package is made importable by linking the repo's folders under `minigpt2/`.
# NAMES: a copy of shared/data/names.txt (the device machine gets the repository only).
set -uo pipefail
out=${OUT:-/tmp/device-out}
names=$(realpath "${NAMES:-../shared/data/names.txt}")
mkdir -p "$out" /tmp/pkg/minigpt2
ln -sfn "$PWD/core" /tmp/pkg/minigpt2/core
ln -sfn "$PWD/assets" /tmp/pkg/minigpt2/assets
export PYTHONPATH=/tmp/pkg PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m pytest tests/core tests/test_assets.py --device cuda -q -p no:cacheprovider \
  -p no:randomly 2>&1 | tee "$out/tests.log" | tail -25
(cd bench && python3 core_bench.py --device cuda 2>&1 | tee "$out/bench_cuda.json")
(cd bench && python3 gpu_check.py --device cuda --names "$names" 2>&1 \
  | tee "$out/gpu_check.json")
