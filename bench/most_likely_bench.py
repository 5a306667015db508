"""Most-likely benchmark: time and quality of `sample --most-likely -n 20` on the shipped model.

For each request (prompts, constraints, kinds, rare constraints): ms per request (p50, p99 over
the repeats), whether the ranking was proven, and the top and 20th log-probabilities. With
`--old-beam FILE` (a copy of an earlier core/sample/beam.py), the same for it, side by side.

    python bench/most_likely_bench.py [--repeats 7] [--threads 1] [--old-beam old_beam.py]

Prints one JSON row per request, then a summary row: p50/p99 over every request (wall, and
CPU time, which a loaded machine inflates less), the share proven, and the load average
(timings on a shared machine are noisy: compare ratios). Target:
p99 <= 100 ms on one thread; the first name at least as likely as the old beam's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.request import Sample, SampleConfig
from minigpt2.core.sample.sampler import Sampler

REQUESTS: dict[str, dict[str, Any]] = {
    "plain": {},
    "prompt b": {"prompt": "b"},
    "prompt ca": {"prompt": "ca"},
    "prompt ma": {"prompt": "ma"},
    "prompt sh": {"prompt": "sh"},
    "prompt z": {"prompt": "z"},
    "kind animals": {"category": "animals", "guidance": 0.0},
    "kind fruits-vegetables": {"category": "fruits-vegetables", "guidance": 0.0},
    "ends-with a": {"ends_with": "a"},
    "ends-with er": {"ends_with": "er"},
    "ends-with us": {"ends_with": "us"},
    "contains oo": {"contains": "oo"},
    "contains ph": {"contains": "ph"},
    "length 4-5": {"min_len": 4, "max_len": 5},
    "length 8-10": {"min_len": 8, "max_len": 10},
    "prefix ca + ends-with y": {"prompt": "ca", "ends_with": "y"},
    "novel only": {"novel_only": True},
    "cut names": {"include_cut": True},
    "rare: contains zq": {"contains": "zq"},
    "rare: ends-with zz": {"ends_with": "zz"},
    "rare: ends-with qzx": {"ends_with": "qzx"},
    "per char": {"rank": "per_char"},
}

Search = Callable[[SampleConfig], list[Sample]]


def old_search(sampler: Sampler, path: Path) -> Search:
    """The earlier beam.py's search, on this sampler (loaded as a module of the package)."""
    spec = importlib.util.spec_from_file_location("minigpt2.core.old_beam", path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def search(config: SampleConfig) -> list[Sample]:
        config = sampler.folded(config)
        deadline = time.monotonic() + (config.time_limit_s or float("inf"))
        steering = sampler.steering(config)
        return list(module.most_likely(sampler, config, steering,
                                       lambda: time.monotonic() >= deadline))

    return search


def measure(search: Search, config: SampleConfig, repeats: int) -> dict[str, Any]:
    """Wall and CPU ms (on a loaded machine, CPU time is the nearer to an idle one's wall)."""
    times, cpu, names = [], [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        names = search(config)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {
        "ms_p50": round(float(np.percentile(times, 50)), 1),
        "ms_p99": round(float(np.percentile(times, 99)), 1),
        "cpu_ms_p50": round(float(np.percentile(cpu, 50)), 1),
        "times": times,
        "cpu": cpu,
        "found": len(names),
        "proven": all(getattr(s, "proven", False) for s in names),
        "top": round(names[0].logprob, 3) if names else None,
        "last": round(names[-1].logprob, 3) if names else None,
        "first_names": [s.name for s in names[:3]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs of each request")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--old-beam", type=Path, help="an earlier core/sample/beam.py to compare")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sampler = Sampler.from_checkpoint(default_checkpoint_path())
    searches: dict[str, Search] = {"new": sampler.sample}
    if args.old_beam:
        searches["old"] = old_search(sampler, args.old_beam)
    sampler.sample(SampleConfig(n=20, most_likely=True))  # warm up
    every: dict[str, list[float]] = {label: [] for label in searches}
    every_cpu: dict[str, list[float]] = {label: [] for label in searches}
    proven = 0
    for label, request in REQUESTS.items():
        config = SampleConfig(n=20, most_likely=True, **request)
        row: dict[str, Any] = {"request": label}
        for name, search in searches.items():
            result = measure(search, replace(config), args.repeats)
            every[name] += result.pop("times")
            every_cpu[name] += result.pop("cpu")
            row[name] = result
        proven += row["new"]["proven"]
        print(json.dumps(row), flush=True)
    summary: dict[str, Any] = {"summary": True, "requests": len(REQUESTS),
                               "repeats": args.repeats, "threads": args.threads,
                               "proven_share": round(proven / len(REQUESTS), 3),
                               "load_average": [round(x, 2) for x in os.getloadavg()]}
    for name, times in every.items():
        summary[f"{name}_ms_p50"] = round(float(np.percentile(times, 50)), 1)
        summary[f"{name}_ms_p99"] = round(float(np.percentile(times, 99)), 1)
        summary[f"{name}_cpu_ms_p50"] = round(float(np.percentile(every_cpu[name], 50)), 1)
        summary[f"{name}_cpu_ms_p99"] = round(float(np.percentile(every_cpu[name], 99)), 1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
