"""When does Explore's "did you mean" speak up? Typos of known words against invented names.

For each checkpoint (the shipped model unless given), asks Repairer.did_you_mean, as Explore
does, about: known words (training and validation) with one and with two random edits;
novel names the model samples, whole; and their first 3-5 letters, as a prompt is typed.
Words that are known, or the start of a known word, are left out (Explore asks nothing
then). Reports how often a correction is offered and, for typos, how often the intended
word comes first. Wanted: typos corrected, invented names left alone. Prints JSON lines.

    python bench/did_you_mean_bench.py [CKPT ...] [--words 150] [--threads 1]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random

import torch
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.repair import Repairer
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler
from repair_bench import corrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="*", default=[str(default_checkpoint_path())])
    parser.add_argument("--words", type=int, default=150, help="per set")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for path in args.checkpoints:
        print(json.dumps({"checkpoint": path, **measure(Sampler.from_checkpoint(path),
                                                        args.words)}))


def measure(sampler: Sampler, per_set: int) -> dict[str, object]:
    rng = random.Random(0)
    known = sorted(sampler.train_words | sampler.val_words)
    alphabet = "".join(c for c in sampler.vocab.chars if c.isalpha())
    ticks = itertools.count()  # a clock that steps 10 ms a reading: the same on any machine
    repairer = Repairer.from_sampler(sampler, clock=lambda: next(ticks) * 0.01)

    def asked(word: str) -> bool:  # what Explore asks about
        at = bisect.bisect_left(known, word)
        return len(word) >= 3 and not (at < len(known) and known[at].startswith(word))

    results: dict[str, object] = {}
    for edits in (1, 2):
        pairs: list[tuple[str, str]] = []
        while len(pairs) < per_set:
            word = rng.choice(known)
            typo = corrupt(word, edits, alphabet, rng)
            if asked(typo):
                pairs.append((word, typo))
        offered = [[c.name for c in repairer.did_you_mean(typo)] for _, typo in pairs]
        results[f"typos_{edits}_edit{'s' * (edits > 1)}"] = {
            "offered": round(sum(map(bool, offered)) / per_set, 3),
            "intended_first": round(sum(o[:1] == [w] for o, (w, _) in zip(offered, pairs,
                                                                         strict=True)) / per_set,
                                    3),
        }
    sampled = [s.name for s in sampler.sample(SampleConfig(n=4 * per_set, seed=1))]
    novel = [n for n in dict.fromkeys(sampled) if asked(n)][:per_set]
    starts = [s for s in dict.fromkeys(n[: rng.randint(3, 5)] for n in sampled) if asked(s)]
    for label, words in (("novel_names", novel), ("novel_starts", starts[:per_set])):
        fired = sum(bool(repairer.did_you_mean(w)) for w in words)
        results[label] = {"offered": round(fired / len(words), 3), "words": len(words)}
    return results


if __name__ == "__main__":
    main()
