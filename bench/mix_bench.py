"""Kinds mixed (`sample --category A=0.5 --category B=0.5`): do the names lie between?

On the shipped model (or --checkpoint, with two kinds or more), samples names of the first
kind, of the second, and of mixes between them, and reports for each the mean of
log p(name|A) − log p(name|B): a name of A scores above zero, of B below. A mix's names
should lie strictly between the pure kinds', in the order of their weights.

    python bench/mix_bench.py [--checkpoint CKPT] [--samples 500] [--guidance 2] [--threads 1]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.logprobs import word_logprobs
from minigpt2.core.sample.request import DEFAULT_GUIDANCE, Mix, SampleConfig
from minigpt2.core.sample.sampler import Sampler

SHARES = (1.0, 0.75, 0.5, 0.25, 0.0)  # of the first kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(default_checkpoint_path()))
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sampler = Sampler.from_checkpoint(args.checkpoint)
    first, second = sampler.categories[:2]
    sampler.sample(SampleConfig(n=8, seed=0, time_limit_s=None))  # torch warmed up
    gaps, seconds = {}, {}
    for share in SHARES:
        kinds = Mix({first: share, second: 1 - share})
        config = SampleConfig(n=args.samples, kinds=kinds, guidance=args.guidance, seed=5,
                              time_limit_s=None)
        start = time.perf_counter()
        names = [s.name for s in sampler.sample(config)]
        seconds[f"{first}={share:g}"] = round(time.perf_counter() - start, 3)
        gaps[f"{first}={share:g}"] = round(mean_gap(sampler, names, first, second), 4)
    values = list(gaps.values())
    print(json.dumps({
        "kinds": [first, second], "samples": args.samples, "guidance": args.guidance,
        f"mean_logp_{first}_minus_{second}": gaps,
        "strictly_between_in_order": all(a > b for a, b in zip(values, values[1:], strict=False)),
        "sample_s": seconds,
    }))


def mean_gap(sampler: Sampler, names: list[str], first: str, second: str) -> float:
    a = word_logprobs(sampler.model, sampler.vocab, names, first)
    b = word_logprobs(sampler.model, sampler.vocab, names, second)
    return statistics.fmean(x - y for x, y in zip(a, b, strict=True))


if __name__ == "__main__":
    main()
