"""Core benchmark: the `seed` preset against the article's own loop, side by side.

Both train the article's model with its hyperparameters (Adam 1e-3, batch 16, 100 epochs,
80/20 split with seed 42) on the same words, device and threads; both are then scored with
the same token-weighted validation loss, and both sample names from their own model.

    python bench/core_bench.py [--data seed] [--epochs 100] [--threads 1] [--device cpu]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from article_loop import ArticleMiniGPT2, Tokens, sample_article, train_article
from minigpt2.core.config import TrainConfig, get_preset
from minigpt2.core.data.dataset import WordData, split_words
from minigpt2.core.data.words import load_words
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="seed")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--names", type=int, default=20_000, help="names ours samples")
    parser.add_argument("--article-names", type=int, default=300, help="names the article samples")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    words = load_words(args.data)

    start = time.perf_counter()
    model, tokens, _, val_words, _ = train_article(words, args.epochs, args.device)
    article_train_s = time.perf_counter() - start
    article_val = article_loss(model, tokens, val_words)
    start = time.perf_counter()
    sample_article(model, tokens, args.article_names)
    article_names_per_s = args.article_names / (time.perf_counter() - start)

    preset = get_preset("seed")
    data = WordData.from_words(*split_words(words, seed=42), source=args.data)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=16,
        lr=1e-3,
        device=args.device,
        threads=args.threads,
        sample_interval_s=0,
    )
    start = time.perf_counter()
    trainer = Trainer(data, preset.model, config)
    result = trainer.run()
    ours_train_s = time.perf_counter() - start
    sampler = Sampler(trainer.model, data.vocab, data.train_words, data.val_words)
    sampler.sample(SampleConfig(n=100, seed=0))  # warm-up
    start = time.perf_counter()
    sampled = sampler.sample(SampleConfig(n=args.names, seed=0))
    ours_names_per_s = len(sampled) / (time.perf_counter() - start)

    assert result.val_loss is not None
    final_val = trainer.history[-1]["val_loss"]
    print(
        json.dumps(
            {
                "data": args.data,
                "words": len(words),
                "epochs": args.epochs,
                "device": args.device,
                "threads": args.threads,
                "torch": torch.__version__,
                "article": {
                    "train_wall_s": round(article_train_s, 2),
                    "val_loss": round(article_val, 4),
                    "names_per_s": round(article_names_per_s, 1),
                },
                "ours": {
                    "train_wall_s": round(ours_train_s, 2),
                    "val_loss": round(final_val, 4),  # the last epoch's, as the article's
                    "best_val_loss": round(result.val_loss, 4),  # the weights the run ends on
                    "steps": result.steps,
                    "names_per_s": round(ours_names_per_s, 1),
                },
                "train_speedup": round(article_train_s / ours_train_s, 2),
                "val_loss_delta": round(final_val - article_val, 4),
                "sampling_speedup": round(ours_names_per_s / article_names_per_s, 1),
            },
            indent=2,
        )
    )


@torch.no_grad()
def article_loss(model: ArticleMiniGPT2, tokens: Tokens, words: list[str]) -> float:
    """Token-weighted mean cross-entropy, the figure our trainer reports (the article
    averages per-batch means instead, which weighs short batches more)."""
    model.eval()
    rows = torch.tensor([tokens.encode(w, model.max_len) for w in words])
    rows = rows.to(next(model.parameters()).device)
    logits = model(rows[:, :-1])
    loss = F.cross_entropy(
        logits.flatten(0, 1), rows[:, 1:].flatten(), ignore_index=tokens.pad, reduction="sum"
    )
    count = int((rows[:, 1:] != tokens.pad).sum())
    return float(loss) / count if count else math.nan


if __name__ == "__main__":
    main()
