"""Which model trains best in about 30 s of CPU? How the `default` preset was chosen.

Each candidate's speed is measured first (a few seconds of training); its epochs are then set
to fill the budget and it trains with the real recipe (cosine schedule), so the comparison is
of held-out loss at equal wall time on the same data and threads.

    python bench/preset_search.py [--data seed] [--budget 30] [--threads 1]

Threads default to 1: the app leaves the other core to its event loop. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import replace

import torch
from minigpt2.core.config import PRESETS, ModelConfig, TrainConfig
from minigpt2.core.data import WordData
from minigpt2.core.train import Trainer


def gpt2_block(n_layer: int, d_model: int, dropout: float) -> ModelConfig:
    return replace(PRESETS["default"].model, n_layer=n_layer, d_model=d_model, dropout=dropout)


RECIPE = TrainConfig(
    epochs=1,
    batch_size=32,
    lr=3e-3,
    lr_schedule="cosine",
    warmup_steps=100,
    weight_decay=0.1,
    sample_interval_s=0,
)
CANDIDATES: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "seed (article recipe)": (PRESETS["seed"].model, PRESETS["seed"].train),
    **{
        f"{layers}x4x{width} dropout {dropout}": (gpt2_block(layers, width, dropout), RECIPE)
        for layers, width, dropout in [
            (1, 64, 0.0),
            (1, 64, 0.1),
            (1, 64, 0.2),
            (1, 64, 0.3),
            (1, 96, 0.2),
            (2, 64, 0.1),
            (2, 64, 0.2),
            (2, 64, 0.3),
            (2, 96, 0.3),
            (4, 64, 0.1),
            (4, 64, 0.2),
            (4, 64, 0.3),
        ]
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="seed")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per candidate")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="candidate names to run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = WordData.from_source(args.data)
    results = {}
    for name, (model_config, recipe) in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        recipe = replace(recipe, threads=args.threads, sample_interval_s=0)
        probe = Trainer(data, model_config, replace(recipe, epochs=None, time_budget_s=3.0))
        probe_result = probe.run()
        epochs_in_budget = probe_result.epochs * args.budget / probe_result.wall_s
        epochs = max(1, math.floor(epochs_in_budget))
        result = Trainer(data, model_config, replace(recipe, epochs=epochs)).run()
        results[name] = {
            "params": result.params,
            "epochs": epochs,
            "steps": result.steps,
            "wall_s": round(result.wall_s, 1),
            "train_loss": round(result.train_loss, 4),
            "val_loss": round(result.val_loss or math.nan, 4),
        }
        print(json.dumps({name: results[name]}), flush=True)
    best = min(results, key=lambda n: results[n]["val_loss"])
    print(
        json.dumps(
            {
                "data": args.data,
                "budget_s": args.budget,
                "threads": args.threads,
                "best": best,
                "candidates": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
