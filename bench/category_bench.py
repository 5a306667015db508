"""Category benchmark: one model conditioned on several lists against one model per list.

Trains a model on the lists as categories (`train --data A --data B`), and, on the same
word split, one model per list with the same preset and epochs. Reports, on each list's
held-out words, the loss (nats per predicted token) with the right category, with none and
with the wrong one; the share of names sampled with a category that the model scores higher
under that category than under any other; and held-out loss and training time of the
conditioned model against the separate ones.

    python bench/category_bench.py [--data animals --data fruits-vegetables] [--preset default]
        [--epochs N] [--threads 1] [--device cpu] [--samples 500] [--out CKPT]

With `--checkpoint [CKPT]` (the shipped model when no file is given) it trains nothing and
measures how far a saved model's kinds differ, as tests/core/test_default_model.py checks
the shipped one: per kind, the share of KIND_NAMES novel, unique names sampled for it that
score higher under it than under every other kind, at the default guidance and at 0; the
share of names drawn for one kind that are also drawn for another at guidance 0 with the
same seed; held-out loss with the right kind, none and the wrong one; and the held-out loss
of the union's split with no kind (for the shipped model, the `seed` list's split).

    python bench/category_bench.py --checkpoint [CKPT] [--threads 1]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from minigpt2.core.checkpoint import Checkpoint, load_checkpoint
from minigpt2.core.config import get_preset
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.logprobs import best_categories, category_logprobs, word_logprobs
from minigpt2.core.sample.request import DEFAULT_GUIDANCE, SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.evaluate import evaluate_words
from minigpt2.core.train.trainer import Trainer

DEFAULT_LISTS = ["animals", "fruits-vegetables"]
KIND_NAMES = 100  # names sampled per kind for --checkpoint's figures (the measure)
KIND_SEED = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="a list; give two or more")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--epochs", type=int, help="(default: the preset's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--samples", type=int, default=500, help="names sampled per category")
    parser.add_argument("--out", help="also save the conditioned model here")
    parser.add_argument(
        "--guidance", type=float, action="append", help="guidance weights (default: 0 1 2 3)"
    )
    parser.add_argument(
        "--checkpoint",
        nargs="?",
        const=str(default_checkpoint_path()),
        help="measure this saved model's kinds instead of training (default: the shipped one)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.checkpoint:
        outcomes = kind_outcomes(load_checkpoint(args.checkpoint))
        print(json.dumps({"checkpoint": args.checkpoint, **outcomes}))
        return
    lists = args.data or DEFAULT_LISTS
    preset = get_preset(args.preset)
    config = preset.train.updated(device=args.device, threads=args.threads, sample_interval_s=0)
    if args.epochs:
        config = config.bounded(epochs=args.epochs)

    data = WordData.from_source(lists)
    conditioned, conditioned_s = train(data, preset.model, config)
    if args.out:
        conditioned.save(args.out)
    sampler = conditioned.snapshot_sampler()
    val = val_words_by_category(data)

    per_category = {}
    alone_samplers: dict[str, Sampler] = {}
    separate_s = 0.0
    tokens_total = {"conditioned": 0.0, "separate": 0.0, "count": 0}
    for category in data.categories:
        own = WordData.from_words(train_words_of(data, category), val[category], category)
        alone, seconds = train(own, preset.model, config)
        separate_s += seconds
        alone_samplers[category] = alone.snapshot_sampler()
        losses = held_out_losses(sampler, val[category], category)
        alone_loss, tokens = evaluate_words(alone.model, own.vocab, val[category])
        tokens_total["conditioned"] += losses["right"] * tokens
        tokens_total["separate"] += alone_loss * tokens
        tokens_total["count"] += tokens
        per_category[category] = {
            "held_out_words": len(val[category]),
            "loss": {k: round(v, 4) for k, v in losses.items()},
            "gap_none_minus_right": round(losses["none"] - losses["right"], 4),
            "gap_wrong_minus_none": round(losses["wrong"] - losses["none"], 4),
            "ordered": losses["right"] < losses["none"] < losses["wrong"],
            "separate_model_loss": round(alone_loss, 4),
            "sampled_preferring_own_category": {
                f"guidance_{w:g}": round(own_category_share(sampler, category, args.samples, w), 4)
                for w in args.guidance or (0.0, 1.0, 2.0, 3.0)
            },
        }
    for category in alone_samplers:
        per_category[category]["separate_models_sampled_preferring_own"] = round(
            separate_share(alone_samplers, category, args.samples), 4
        )
    union_words = sorted({w for c in data.categories for w in train_words_of(data, c)})
    union = WordData.from_words(union_words, sorted(set(data.val_words)), "union")
    union_trainer, union_s = train(union, preset.model, config)
    union_loss, _ = evaluate_words(union_trainer.model, union.vocab, union.val_words)
    count = tokens_total["count"]
    print(
        json.dumps(
            {
                "lists": lists,
                "preset": preset.name,
                "epochs": config.epochs,
                "device": args.device,
                "threads": args.threads,
                "train_rows": len(data.train_words),
                "categories": per_category,
                "held_out_loss": {
                    "conditioned_right_category": round(tokens_total["conditioned"] / count, 4),
                    "separate_models": round(tokens_total["separate"] / count, 4),
                    "union_model_no_categories_unique_words": round(union_loss, 4),
                },
                "train_s": {
                    "conditioned": round(conditioned_s, 2),
                    "separate_models_total": round(separate_s, 2),
                    "union_model": round(union_s, 2),
                },
                "out": args.out,
            }
        )
    )


def kind_outcomes(ckpt: Checkpoint) -> dict[str, object]:
    """How far a saved model's kinds differ (see the module's docstring)."""
    sampler = Sampler.from_checkpoint(ckpt)
    kinds = sampler.categories
    agreement = {
        f"guidance_{w:g}": {k: round(kind_agreement(sampler, k, w), 4) for k in kinds}
        for w in (DEFAULT_GUIDANCE, 0.0)
    }
    draws = {k: drawn_names(sampler, k) for k in kinds}
    shared = max(
        sum(name in set(draws[other]) for name in draws[k]) / KIND_NAMES
        for k in kinds
        for other in kinds
        if other != k
    )
    val = val_words_by_category(ckpt.word_data())
    losses = {k: held_out_losses(sampler, val[k], k) for k in kinds}
    union = sorted(set(ckpt.val_words))
    return {
        "names_per_kind": KIND_NAMES,
        "seed": KIND_SEED,
        "agreement": agreement,
        "shared_names_guidance_0": round(shared, 4),
        "held_out_loss": {
            k: {
                **{name: round(v, 4) for name, v in loss.items()},
                "ordered": loss["right"] < loss["none"] < loss["wrong"],
            }
            for k, loss in losses.items()
        },
        "held_out_loss_no_kind_union": round(
            evaluate_words(sampler.model, sampler.vocab, union, None)[0], 4
        ),
    }


def kind_agreement(sampler: Sampler, kind: str, guidance: float) -> float:
    """Share of KIND_NAMES novel, unique names sampled for `kind` that the model finds
    likelier under it than under any other kind."""
    config = SampleConfig(
        n=KIND_NAMES, category=kind, guidance=guidance, seed=KIND_SEED,
        novel_only=True, unique=True, time_limit_s=None,
    )  # fmt: skip
    names = [s.name for s in sampler.sample(config)]
    return best_categories(sampler, names).count(kind) / len(names)


def drawn_names(sampler: Sampler, kind: str) -> list[str]:
    """KIND_NAMES plain draws for `kind` at guidance 0, with the seed every kind shares."""
    config = SampleConfig(n=KIND_NAMES, category=kind, seed=KIND_SEED, time_limit_s=None)
    return [s.name for s in sampler.sample(config)]


def train(data: WordData, model, config) -> tuple[Trainer, float]:  # noqa: ANN001
    trainer = Trainer(data, model, config)
    start = time.perf_counter()
    trainer.run()
    return trainer, time.perf_counter() - start


def val_words_by_category(data: WordData) -> dict[str, list[str]]:
    assert data.val_categories is not None
    out: dict[str, list[str]] = {c: [] for c in data.categories}
    for word, category in zip(data.val_words, data.val_categories, strict=True):
        if category is not None:
            out[category].append(word)
    return out


def train_words_of(data: WordData, category: str) -> list[str]:
    """The category's training words: exactly the rows the conditioned model saw with it."""
    assert data.train_categories is not None
    rows = zip(data.train_words, data.train_categories, strict=True)
    return [word for word, c in rows if c == category]


def held_out_losses(sampler: Sampler, words: list[str], category: str) -> dict[str, float]:
    """Loss with the right category, none, and the worst-matching wrong one's mean."""
    model, vocab = sampler.model, sampler.vocab
    right, _ = evaluate_words(model, vocab, words, category)
    none, _ = evaluate_words(model, vocab, words, None)
    others = [c for c in vocab.categories if c != category]
    wrong = sum(evaluate_words(model, vocab, words, c)[0] for c in others) / len(others)
    return {"right": right, "none": none, "wrong": wrong}


def own_category_share(sampler: Sampler, category: str, n: int, guidance: float) -> float:
    config = SampleConfig(n=n, category=category, guidance=guidance, seed=7, time_limit_s=None)
    names = [s.name for s in sampler.sample(config)]
    scores = category_logprobs(sampler.model, sampler.vocab, names)
    others = [c for c in sampler.categories if c != category]
    wins = sum(
        all(scores[category][i] > scores[c][i] for c in others) for i in range(len(names))
    )
    return wins / len(names)


def separate_share(samplers: dict[str, Sampler], category: str, n: int) -> float:
    """The same share for one model per list: names from the list's model that it scores
    higher than every other list's model does (what the data lets two models tell apart)."""
    config = SampleConfig(n=n, seed=7, time_limit_s=None)
    names = [s.name for s in samplers[category].sample(config)]
    scores = {c: word_logprobs(s.model, s.vocab, names) for c, s in samplers.items()}
    others = [c for c in samplers if c != category]
    wins = sum(
        all(scores[category][i] > scores[c][i] for c in others) for i in range(len(names))
    )
    return wins / len(names)


if __name__ == "__main__":
    main()
