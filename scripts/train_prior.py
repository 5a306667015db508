"""Rebuild assets/prior.safetensors, the weights auto starts small lists from (core/train/prior.py).

It trains auto's small-list architecture on makemore's names.txt less every word of every
built-in list (their validation words included, so the benchmarks stay honest), with a step
bound, so that the same torch on the same CPU rebuilds the same prior. Only the best
weights are kept: the file ships in the wheel.

    .venv/bin/python scripts/train_prior.py [--names ../shared/data/names.txt] [--steps 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from minigpt2.core.checkpoint import save_checkpoint
from minigpt2.core.config import PRIOR_MODEL, TrainConfig
from minigpt2.core.data.dataset import WordData, split_words
from minigpt2.core.data.words import assets_dir, builtin_datasets, load_words
from minigpt2.core.train.prior import PRIOR_FILE
from minigpt2.core.train.trainer import Trainer

NAMES = Path(__file__).resolve().parents[2] / "shared/data/names.txt"
VAL_WORDS = 1000


def prior_words(names: Path) -> list[str]:
    builtin = {w for info in builtin_datasets() for w in load_words(info.path)}
    return [w for w in load_words(names) if w not in builtin]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=Path, default=NAMES)
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=assets_dir() / PRIOR_FILE)
    args = parser.parse_args()
    words = prior_words(args.names)
    train, val = split_words(words, val_fraction=VAL_WORDS / len(words))
    data = WordData.from_words(train, val, source="names.txt less the built-in lists")
    config = TrainConfig(
        epochs=None,
        steps=args.steps,
        batch_size=64,
        lr=3e-3,
        lr_schedule="cosine",
        warmup_steps=200,
        weight_decay=0.1,
        threads=1,
        device="cpu",
        sample_interval_s=0,
    )
    trainer = Trainer(data, PRIOR_MODEL, config, preset="prior")
    result = trainer.run()
    ckpt = trainer.snapshot()
    save_checkpoint(args.out, dataclasses.replace(ckpt, optimizer_state=None, resume_state=None))
    report = {
        "words": len(words),
        "val_loss": round(result.val_loss or 0, 4),
        "best_step": ckpt.best_step,
        "out": str(args.out),
    }
    print(json.dumps(report), file=sys.stdout)


if __name__ == "__main__":
    main()
