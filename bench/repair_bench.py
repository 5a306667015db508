"""Spelling-repair benchmark: corrupted words back to the intended ones.

Takes a trained model (the shipped default unless --checkpoint), corrupts training words
and held-out (validation) words with one random edit and with two (insert, delete,
substitute, adjacent swap), and asks the repairer for five candidates. Known words are the
training words only, so a held-out word can only come back through the model. The edit cost
and known-word bonus are tuned first on other corrupted training words. Reports top-1 and
top-5 accuracy next to the baseline "nearest training word by edit distance", and latency.

    python bench/repair_bench.py [--checkpoint CKPT] [--words 300] [--threads 1]
        [--budget-ms 100] [--seed 0]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Sequence

import torch
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.repair import DEFAULT_BUDGET_S, Repairer, osa_distance
from minigpt2.core.sample.sampler import Sampler

COSTS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
BONUSES = (0.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0)
TUNING_WORDS = 150  # per edit count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(default_checkpoint_path()))
    parser.add_argument("--words", type=int, default=300, help="per set")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget-ms", type=float, default=DEFAULT_BUDGET_S * 1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    sampler = Sampler.from_checkpoint(args.checkpoint)
    train = sorted(sampler.train_words)
    held_out = sorted(sampler.val_words - sampler.train_words)
    alphabet = "".join(sampler.vocab.chars)
    budget = args.budget_ms / 1000

    def repairer(cost: float, bonus: float) -> Repairer:
        return Repairer.from_sampler(
            sampler, known=train, edit_cost=cost, known_bonus=bonus, budget_s=budget
        )

    raw = repairer(0.0, 0.0)
    tuning = [
        (word, corrupt(word, k, alphabet, rng))
        for k in (1, 2)
        for word in rng.choices(train, k=TUNING_WORDS)
    ]
    cost, bonus = tune(raw, tuning)
    tuned = repairer(cost, bonus)
    baseline = NearestWord(train)

    results = {}
    latencies: list[float] = []
    ten_letter: list[float] = []
    cpu_ten_letter: list[float] = []  # CPU time: what the wall time is on an idle machine
    fallbacks = 0
    for label, pool in (("train", train), ("held_out", held_out)):
        for k in (1, 2):
            hits1 = hits5 = base1 = base5 = 0
            for word in rng.choices(pool, k=args.words):
                typo = corrupt(word, k, alphabet, rng)
                start, cpu_start = time.perf_counter(), time.process_time()
                names = [c.name for c in tuned.suggest(typo, 5)]
                elapsed = time.perf_counter() - start
                latencies.append(elapsed)
                if len(typo) == 10:
                    ten_letter.append(elapsed)
                    cpu_ten_letter.append(time.process_time() - cpu_start)
                fallbacks += tuned.last_distance < 2
                hits1 += names[:1] == [word]
                hits5 += word in names
                nearest = baseline.nearest(typo, 5)
                base1 += nearest[:1] == [word]
                base5 += word in nearest
            n = args.words
            results[f"{label}_{k}_edit{'s' * (k > 1)}"] = {
                "top1": round(hits1 / n, 4),
                "top5": round(hits5 / n, 4),
                "baseline_top1": round(base1 / n, 4),
                "baseline_top5": round(base5 / n, 4),
            }
    print(
        json.dumps(
            {
                "checkpoint": args.checkpoint,
                "train_words": len(train),
                "held_out_words": len(held_out),
                "tuned_on": f"{len(tuning)} corrupted training words",
                "edit_cost": cost,
                "known_bonus": bonus,
                "results": results,
                "latency_ms": summary_ms(latencies),
                "latency_ms_10_letters": summary_ms(ten_letter),
                "cpu_ms_10_letters": summary_ms(cpu_ten_letter),
                "budget_ms": args.budget_ms,
                "fell_back_to_distance_1": round(fallbacks / len(latencies), 4),
                "threads": args.threads,
            }
        )
    )


def corrupt(word: str, edits: int, alphabet: str, rng: random.Random) -> str:
    """`word` with `edits` random edits, exactly that edit distance away, never empty."""
    while True:
        out = word
        for _ in range(edits):
            out = one_edit(out, alphabet, rng)
        if out and osa_distance(word, out) == edits:
            return out


def one_edit(word: str, alphabet: str, rng: random.Random) -> str:
    kind = rng.choice(("insert", "delete", "substitute", "transpose"))
    i = rng.randrange(len(word) + (kind == "insert"))
    if kind == "insert":
        return word[:i] + rng.choice(alphabet) + word[i:]
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "substitute":
        return word[:i] + rng.choice(alphabet) + word[i + 1 :]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1 : i + 2] + word[i : i + 1] + word[i + 2 :] if i >= 0 else word


def tune(raw: Repairer, pairs: Sequence[tuple[str, str]]) -> tuple[float, float]:
    """The (edit cost, known bonus) with the best top-1 on corrupted training words. The
    candidates and their log-probabilities come once (cost and bonus 0), then are re-ranked."""
    pools = [(word, raw.suggest(typo, 10**6)) for word, typo in pairs]

    def top1(cost: float, bonus: float) -> int:
        hits = 0
        for word, candidates in pools:
            best = max(
                candidates,
                key=lambda c: c.score - cost * c.edits + bonus * (c.name in raw.known),
                default=None,
            )
            hits += best is not None and best.name == word
        return hits

    return max(((c, b) for c in COSTS for b in BONUSES), key=lambda cb: top1(*cb))


class NearestWord:
    """The baseline: training words by edit distance to the typed word (ties by order)."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)

    def nearest(self, typo: str, n: int) -> list[str]:
        close = [w for w in self.words if abs(len(w) - len(typo)) <= 3]
        return sorted(close, key=lambda w: osa_distance(typo, w))[:n]


def summary_ms(seconds: list[float]) -> dict[str, float | int]:
    if not seconds:
        return {"n": 0}
    ms = sorted(s * 1000 for s in seconds)
    return {
        "n": len(ms),
        "median": round(statistics.median(ms), 1),
        "p95": round(ms[int(0.95 * (len(ms) - 1))], 1),
        "max": round(ms[-1], 1),
    }


if __name__ == "__main__":
    main()
