#!/usr/bin/env bash
# Rebuild assets/default.safetensors, the model the app and `minigpt2 sample` use out of the box:
# the `default` preset on the built-in `seed` list with its default seed.
set -euo pipefail
cd "$(dirname "$0")/.."
minigpt2 train --data seed --preset default --threads 1 --out assets/default.safetensors
