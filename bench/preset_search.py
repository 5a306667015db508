"""Which model trains best in a fixed CPU time? Held-out loss of candidate shapes after the
same wall-time budget on the same data and threads: how the `default` preset was chosen.

    python bench/preset_search.py [--data seed] [--budget 30] [--threads 2]

Prints one JSON object: per candidate, steps done and final validation loss.
"""

from __future__ import annotations

import argparse
import json

import torch

from minigpt2.core.config import ModelConfig, TrainConfig
from minigpt2.core.data import WordData
from minigpt2.core.train import Trainer


def gpt2_block(n_layer: int, n_head: int, d_model: int) -> ModelConfig:
    return ModelConfig(n_layer=n_layer, n_head=n_head, d_model=d_model, positions="learned",
                       activation="gelu", mlp_ratio=4, final_norm=True, init="gpt2")


CANDIDATES = {
    "seed-shape": ModelConfig(),
    "1x4x64": gpt2_block(1, 4, 64),
    "1x4x96": gpt2_block(1, 4, 96),
    "1x4x128": gpt2_block(1, 4, 128),
    "2x4x64": gpt2_block(2, 4, 64),
    "4x4x64": gpt2_block(4, 4, 64),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="seed")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per candidate")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--only", nargs="*", help="candidate names to run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = WordData.from_source(args.data)
    results = {}
    for name, model_config in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        config = TrainConfig(epochs=None, time_budget_s=args.budget, batch_size=args.batch_size,
                             lr=args.lr, warmup_steps=100, threads=args.threads,
                             sample_interval_s=0)
        result = Trainer(data, model_config, config).run()
        results[name] = {"params": result.params, "steps": result.steps,
                         "epochs": round(result.epochs, 1), "train_loss": round(result.train_loss, 4),
                         "val_loss": round(result.val_loss or float("nan"), 4)}
    print(json.dumps({"data": args.data, "budget_s": args.budget, "threads": args.threads,
                      "batch_size": args.batch_size, "lr": args.lr, "candidates": results},
                     indent=2))


if __name__ == "__main__":
    main()
