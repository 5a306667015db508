#!/usr/bin/env bash
# The CUDA check for the core (issue 2): the core tests and the core benchmark with
# --device cuda, on a machine whose python3 already has torch, safetensors, numpy, rich and
# pytest. The package is made importable by linking the repo's folders under `minigpt2/`.
set -uo pipefail
out=${OUT:-/tmp/device-out}
mkdir -p "$out" /tmp/pkg/minigpt2
ln -sfn "$PWD/core" /tmp/pkg/minigpt2/core
ln -sfn "$PWD/assets" /tmp/pkg/minigpt2/assets
export PYTHONPATH=/tmp/pkg PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m pytest tests/core tests/test_assets.py --device cuda -q -p no:cacheprovider 2>&1 | tee "$out/tests.log" | tail -25
python3 bench/core_bench.py --device cuda 2>&1 | tee "$out/bench_cuda.json"
