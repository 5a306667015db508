#!/usr/bin/env bash
# Rebuild assets/default.safetensors, the model the app and `minigpt2 sample` use out of the box:
# the `auto` preset on the built-in `seed` list with its default seed. A step bound (not a time
# budget) so that the same torch on the same CPU rebuilds the same model.
set -euo pipefail
cd "$(dirname "$0")/.."
minigpt2 train --data seed --preset auto --steps 4000 --threads 1 --out assets/default.safetensors
