"""How the `auto` preset's rule was derived: held-out loss of candidate models at equal steps.

Wall-time budgets are noisy on a shared CPU, so each candidate trains for a fixed number of
steps (cosine to the end, validated regularly, best weights kept); its ms per step is measured
on the side, and a budget in seconds converts to steps through it.

    python bench/preset_search.py --data seed --steps 3000 --candidates 1x64x4:0.3 2x64x4:0.2
    python bench/preset_search.py --data ../shared/data/names.txt --makemore --words 8000

A candidate is LAYERSxWIDTHxHEADS:DROPOUT[:WEIGHT_DECAY[:BATCH[:LR]]]. Prints JSON lines, one
per candidate, then a summary with the best.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import replace

import torch
from minigpt2.core.config import AUTO_MODEL, ModelConfig, TrainConfig
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.words import load_words, resolve_source
from minigpt2.core.train.trainer import Trainer


def makemore_words(source: str) -> list[str]:
    """The words as makemore reads them: stripped lines, blank ones dropped, duplicates KEPT.
    names.txt lists 2,539 names more than once; makemore splits and trains on all 32,033
    lines, so 153 of its 1,000 test words are also training words. Its test loss, and so any
    comparison with it, needs this list, not load_words' deduplicated one (29,494 words)."""
    lines = resolve_source(source).read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def makemore_split(words: list[str]) -> tuple[list[str], list[str]]:
    """makemore's split: torch.manual_seed(3407), randperm, last min(1000, n // 10) as test."""
    generator = torch.Generator().manual_seed(3407)
    order = torch.randperm(len(words), generator=generator).tolist()
    n_test = min(1000, len(words) // 10)
    shuffled = [words[i] for i in order]
    return shuffled[:-n_test], shuffled[-n_test:]


def load_data(source: str, makemore: bool, words: int | None) -> WordData:
    if not makemore and not words:
        return WordData.from_source(source)
    all_words = makemore_words(source) if makemore else load_words(source)
    if words:
        all_words = random.Random(0).sample(all_words, min(words, len(all_words)))
    if makemore:
        return WordData.from_words(*makemore_split(all_words), source=source)
    return WordData.from_source(source) if not words else _split(all_words, source)


def _split(words: list[str], source: str) -> WordData:
    from minigpt2.core.data.dataset import split_words

    return WordData.from_words(*split_words(words), source=source)


def parse_candidate(spec: str) -> tuple[ModelConfig, dict[str, float]]:
    shape, *rest = spec.split(":")
    layers, width, heads = (int(x) for x in shape.split("x"))
    values = [float(x) for x in rest] + [math.nan] * 4
    dropout, decay, batch, lr = values[:4]
    model = replace(AUTO_MODEL, n_layer=layers, d_model=width, n_head=heads,
                    dropout=0.0 if math.isnan(dropout) else dropout)
    train = {"weight_decay": 0.1 if math.isnan(decay) else decay,
             "batch_size": 64 if math.isnan(batch) else int(batch),
             "lr": 3e-3 if math.isnan(lr) else lr}
    return model, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="seed")
    parser.add_argument("--makemore", action="store_true", help="makemore's test split")
    parser.add_argument("--words", type=int, help="a random subset of this many words")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval-interval", type=int, default=100)
    parser.add_argument("--warmup", type=int, help="warm-up steps (default: a tenth, <= 100)")
    parser.add_argument("--candidates", nargs="+", default=["1x64x4:0.2", "2x64x4:0.2"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_data(args.data, args.makemore, args.words)
    tokens = sum(len(w) + 1 for w in data.train_words)
    results = {}
    for spec in args.candidates:
        model, train = parse_candidate(spec)
        config = TrainConfig(epochs=None, steps=args.steps, lr_schedule="cosine",
                             warmup_steps=args.warmup or min(100, args.steps // 10),
                             threads=args.threads,
                             eval_interval=args.eval_interval, sample_interval_s=0, **train)
        torch.manual_seed(config.seed)
        result = Trainer(data, model, config).run()
        results[spec] = {
            "params": result.params,
            "steps": result.steps,
            "ms_per_step": round(1000 * result.wall_s / max(result.steps, 1), 2),
            "epochs": round(result.epochs, 1),
            "best_val": round(result.val_loss or math.nan, 4),
            "best_step": result.best_step,
            "train_loss": round(result.train_loss, 4),
        }
        print(json.dumps({spec: results[spec]}), flush=True)
    best = min(results, key=lambda n: results[n]["best_val"])
    summary = {"data": args.data, "train_words": len(data.train_words), "train_tokens": tokens,
               "steps": args.steps, "threads": args.threads, "best": best}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
