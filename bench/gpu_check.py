"""The CUDA path of everything the core grew since its last GPU check (issue 20): auto from the
prior and on names.txt, the fused AdamW, kinds with guidance, the most-likely search, spelling
repair and sampling speed. Each GPU result is checked against the same call on the CPU.
Prints one JSON object.

    python bench/gpu_check.py [--device cuda] [--names PATH] [--budget 60]

Run by scripts/device_check.sh on a machine with a GPU; with --device cpu it checks itself
(the two sides then agree trivially) in a few seconds less the names.txt run (--budget 0 skips
it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.repair import Repairer
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.plan import TrainPlan

sys.path.insert(0, str(Path(__file__).parent))
from auto_bench import NAMES  # noqa: E402
from preset_search import makemore_split, makemore_words  # noqa: E402

SPEED_NAMES = 2_000  # names per timed sampling call
MISSPELT = ("elefant", "bananna", "girafe", "tomatoe")


def timed(call: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def auto_names(device: str, path: Path, budget: float) -> dict[str, Any]:
    """auto on names.txt, makemore's split, for `budget` seconds (issue 8's 1.95 target)."""
    data = WordData.from_words(*makemore_split(makemore_words(str(path))), source=str(path))
    plan = TrainPlan(time_budget_s=budget, device=device, sample_interval_s=0)
    trainer = build_trainer(plan, data=data)
    result = trainer.run()
    return {
        "val_loss": round(result.val_loss or math.nan, 4),
        "steps": result.steps,
        "best_step": result.best_step,
        "wall_s": round(result.wall_s, 1),
        "model": f"{trainer.model_config.n_layer}x{trainer.model_config.d_model}",
    }


def auto_from_prior(device: str) -> dict[str, Any]:
    """A small list starts from the prior: the graft and the fused AdamW on `device`."""
    trainer = build_trainer(
        TrainPlan(
            data=("animals", "fruits-vegetables"), steps=300, device=device, sample_interval_s=0
        )
    )
    result = trainer.run()
    return {
        "val_loss": round(result.val_loss or math.nan, 4),
        "steps": result.steps,
        "finite": math.isfinite(result.val_loss or math.nan),
    }


def sampling(cpu: Sampler, gpu: Sampler) -> dict[str, Any]:
    """The same requests on both devices: the search's names and scores must agree; draws
    differ (each device has its own generator), so they are compared by speed only."""
    out: dict[str, Any] = {}
    requests = {
        "most_likely": SampleConfig(n=20, most_likely=True, time_limit_s=10),
        "most_likely_animals": SampleConfig(
            n=20, most_likely=True, category="animals", time_limit_s=10
        ),
        "most_likely_ends_with_zz": SampleConfig(
            n=5, most_likely=True, ends_with="zz", time_limit_s=10
        ),
    }
    for label, config in requests.items():
        (cpu_names, cpu_s), (gpu_names, gpu_s) = (timed(s.sample, config) for s in (cpu, gpu))
        out[label] = {
            "same_names": [s.name for s in cpu_names] == [s.name for s in gpu_names],
            "max_logprob_diff": max(
                (abs(a.logprob - b.logprob) for a, b in zip(cpu_names, gpu_names, strict=False)),
                default=0.0,
            ),
            "first": gpu_names[0].name if gpu_names else None,
            "cpu_ms": round(cpu_s * 1000, 1),
            "gpu_ms": round(gpu_s * 1000, 1),
        }
    for label, config in {
        "plain": SampleConfig(n=SPEED_NAMES, seed=0, time_limit_s=30),
        "guided_animals": SampleConfig(
            n=SPEED_NAMES, seed=0, category="animals", guidance=2, time_limit_s=30
        ),
    }.items():
        gpu.sample(replace_n(config, 32))  # warm-up: kernels, caches
        (cpu_got, cpu_s), (gpu_got, gpu_s) = (timed(s.sample, config) for s in (cpu, gpu))
        out[f"names_per_s_{label}"] = {
            "cpu": round(len(cpu_got) / cpu_s),
            "gpu": round(len(gpu_got) / gpu_s),
        }
    return out


def replace_n(config: SampleConfig, n: int) -> SampleConfig:
    return SampleConfig.from_dict({**config.as_dict(), "n": n})


def repair(cpu: Sampler, gpu: Sampler) -> dict[str, Any]:
    # A generous budget on both sides, so both search the same edits and must agree.
    fixers = [Repairer.from_sampler(s, budget_s=30.0) for s in (cpu, gpu)]
    out = {}
    for word in MISSPELT:
        (cpu_fix, _), (gpu_fix, gpu_s) = (timed(f.suggest, word) for f in fixers)
        out[word] = {
            "gpu": [c.name for c in gpu_fix[:3]],
            "same_as_cpu": [c.name for c in cpu_fix] == [c.name for c in gpu_fix],
            "gpu_ms": round(gpu_s * 1000, 1),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--names", type=Path, default=NAMES)
    parser.add_argument("--budget", type=float, default=60.0, help="names.txt seconds; 0 skips")
    args = parser.parse_args()
    report: dict[str, Any] = {"device": args.device, "torch": torch.__version__}
    if args.device == "cuda":
        report["gpu"] = torch.cuda.get_device_name()
    cpu = Sampler.from_checkpoint(default_checkpoint_path(), "cpu")
    gpu = Sampler.from_checkpoint(default_checkpoint_path(), args.device)
    parts: dict[str, Callable[[], Any]] = {
        "sampling": lambda: sampling(cpu, gpu),
        "repair": lambda: repair(cpu, gpu),
        "auto_from_prior_300_steps": lambda: auto_from_prior(args.device),
    }
    if args.budget > 0:
        parts["auto_names_txt"] = lambda: auto_names(args.device, args.names, args.budget)
    for label, part in parts.items():
        # Each part on stderr as it ends: a part that fails leaves the others' figures.
        try:
            report[label] = part()
        except Exception as exc:  # noqa: BLE001 - a check reports every failure and goes on
            report[label] = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps({label: report[label]}), file=sys.stderr, flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
