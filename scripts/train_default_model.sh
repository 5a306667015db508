#!/usr/bin/env bash
# Rebuild assets/default.safetensors, the model the app and `minigpt2 sample` use out of the box:
# the `auto` preset on the article's data, its two lists as categories (animals and
# fruits-vegetables, whose union is the built-in `seed` list, split the same way). A step
# bound (1,140 steps: auto's cap of 30 epochs on `seed`), not a time budget, so that the same
# torch on the same CPU rebuilds the same model. The file ships in the wheel, so it keeps only
# the best weights: no optimizer state, no last weights to resume from.
set -euo pipefail
cd "$(dirname "$0")/.."
out=assets/default.safetensors
minigpt2 train --data animals --data fruits-vegetables --preset auto --steps 1140 --threads 1 \
  --out "$out"
python - "$out" <<'PY'
import dataclasses
import sys

from minigpt2.core.checkpoint import load_checkpoint, save_checkpoint

ckpt = load_checkpoint(sys.argv[1])
save_checkpoint(sys.argv[1], dataclasses.replace(ckpt, optimizer_state=None, resume_state=None))
PY
