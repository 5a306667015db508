"""Names like examples (`sample --like`): how often they share the examples' trait.

For each model (the shipped one, and one trained here on a built-in list with a short step
bound) and each trait (an ending, a letter pair, a start) that none of the model's words
has, five example names with the trait are given. Reports, per strength W, the share of
sampled names with the trait against plain sampling, how many examples came back (none may),
the share of novel names, and the names' mean log-probability per token under the model
(how name-like they stay; plain sampling's beside it). Times a cold request (a fresh
sampler: the words' trigram model is built, the examples fitted) to its first names, and
whole CLI calls with and without --like, side by side.

    python bench/like_bench.py [--samples 300] [--threads 1] [--list given-names]
        [--steps 400] [--strength 0 --strength 0.5 ...]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import torch
from minigpt2.core.checkpoint import save_checkpoint
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.logprobs import word_logprobs
from minigpt2.core.sample.request import DEFAULT_LIKE_STRENGTH, SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.plan import TrainPlan

Trait = tuple[tuple[str, ...], Callable[[str], bool]]
TRAITS: dict[str, Trait] = {
    "ends in -ix": (("dravix", "pelonix", "murnix", "tavix", "sorbix"),
                    lambda n: n.endswith("ix")),
    "holds zz": (("bizzel", "razzo", "fezzan", "mozzer", "tuzzik"), lambda n: "zz" in n),
    "starts kw": (("kwamel", "kwiro", "kwandu", "kwessa", "kwolt"),
                  lambda n: n.startswith("kw")),
    "ends in -ora": (("belora", "tamora", "vinora", "kesora", "dulora"),
                     lambda n: n.endswith("ora")),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300, help="names per measurement")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--list", default="given-names", help="the second model's list")
    parser.add_argument("--steps", type=int, default=400, help="the second model's bound")
    parser.add_argument("--strength", type=float, action="append", help="(default 0 0.5 1)")
    parser.add_argument("--checkpoint-dir", default="/tmp", help="where the second model goes")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    strengths = args.strength or [0.0, 0.5, 1.0]

    trained = f"{args.checkpoint_dir}/like_bench_{args.list}.safetensors"
    trainer = build_trainer(TrainPlan(data=args.list, steps=args.steps, threads=args.threads,
                                      seed=0, sample_interval_s=0))
    trainer.run()
    save_checkpoint(trained, trainer.snapshot())
    models = {"shipped": str(default_checkpoint_path()),
              f"{args.list} ({args.steps} steps)": trained}

    report = {}
    for label, path in models.items():
        sampler = Sampler.from_checkpoint(path)
        sampler.sample(SampleConfig(n=8, seed=0, time_limit_s=None))  # torch warmed up
        plain = [s.name for s in sampler.sample(SampleConfig(n=args.samples, seed=1,
                                                             time_limit_s=None))]
        known = sampler.train_words | sampler.val_words
        traits = {}
        for trait, (examples, has) in TRAITS.items():
            per_strength = {}
            for strength in strengths:
                config = SampleConfig(n=args.samples, seed=2, like=examples,
                                      like_strength=strength, time_limit_s=None)
                per_strength[f"W={strength:g}"] = measure(sampler, config, plain, has)
            traits[trait] = {"share_in_model_words": round(share(has, known), 4),
                             "share_plain": round(share(has, plain), 4), **per_strength}
        report[label] = {
            "mean_logprob_per_token_plain": round(per_token(sampler, plain), 3),
            "traits": traits,
            "cold_request_to_first_names_s": cold_request(path, TRAITS["ends in -ix"][0]),
            "cli_s": cli_times(path, TRAITS["ends in -ix"][0]),
        }
    print(json.dumps({"samples": args.samples, "threads": args.threads,
                      "default_strength": DEFAULT_LIKE_STRENGTH, "models": report}))


def measure(sampler: Sampler, config: SampleConfig, plain: list[str],
            has: Callable[[str], bool]) -> dict[str, float | int]:
    samples = sampler.sample(config)
    names = [s.name for s in samples]
    liked = share(has, names)
    return {
        "trait_share": round(liked, 4),
        "times_plain": round(liked / max(share(has, plain), 1 / len(plain)), 1),
        "examples_returned": sum(name in config.like for name in names),
        "novel_share": round(sum(s.source == "novel" for s in samples) / len(samples), 4),
        "mean_logprob_per_token": round(per_token(sampler, names), 3),
    }


def share(has: Callable[[str], bool], names: Sequence[str] | set[str]) -> float:
    return sum(map(has, names)) / max(len(names), 1)


def per_token(sampler: Sampler, names: list[str]) -> float:
    logprobs = word_logprobs(sampler.model, sampler.vocab, names)
    return statistics.fmean(lp / (len(n) + 1) for lp, n in zip(logprobs, names, strict=True))


def cold_request(path: str, examples: tuple[str, ...]) -> float:
    """A fresh sampler (torch warm): from the request to its first 20 names."""
    sampler = Sampler.from_checkpoint(path)
    sampler.sample(SampleConfig(n=8, seed=0, time_limit_s=None))
    start = time.perf_counter()
    sampler.sample(SampleConfig(n=20, seed=3, like=examples, time_limit_s=None))
    return round(time.perf_counter() - start, 3)


def cli_times(path: str, examples: tuple[str, ...]) -> dict[str, float]:
    """Whole `minigpt2 sample` calls, plain and with --like, alternately (the machine's
    load changes both alike); the median of three each."""
    like = [arg for name in examples for arg in ("--like", name)]
    times: dict[str, list[float]] = {"plain": [], "like": []}
    for _ in range(3):
        for kind, extra in (("plain", []), ("like", like)):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "minigpt2.core.cli", "sample", "--checkpoint",
                            path, "-n", "20", *extra], check=True, capture_output=True)
            times[kind].append(time.perf_counter() - start)
    return {kind: round(statistics.median(values), 3) for kind, values in times.items()}


if __name__ == "__main__":
    main()
