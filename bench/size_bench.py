"""Any size (issue 18, part 4): what validation and loading cost on large lists. Prints one
JSON object.

- `steps`: `minigpt2 train --time-budget 60` (auto, the default preset) on a 234,000-word
  English-like list, with the default split, and given a 1,000-word validation file instead.
  Validation on a subset must leave the first at least 90% of the second's steps.
- `million`: `minigpt2 train --steps 200` on a 1,000,000-word list: the process's wall time,
  torch's import, loading and saving included (target: 10 s), and its peak RSS (1 GB).
- `stall`: the app's worry: a thread ticking every 5 ms (as the event loop) beside a thread
  that loads the million words, trains 20 steps and saves; its largest gap between ticks.

Every run is a `minigpt2 train` process of its own, timed from start to exit; its peak RSS is
the kernel's figure for that process (wait4). Runs that are compared run at the same time.
The lists are generated (bench/size_lists.py) into a temporary folder; `--words FILE` trains
on a real list instead of the 234K one (e.g. /usr/share/dict/words where installed).
`--old-src DIR` runs the same on another checkout's code in the same invocation, e.g. before
this change: `mkdir /tmp/old && git archive cc0238b core tui assets | tar -x -C /tmp/old`.

    python bench/size_bench.py [--budget 60] [--words FILE] [--old-src DIR] [--skip-steps]

On a shared machine, timings move with its load (given with the figures): compare ratios
and runs of the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from size_lists import english_like, with_suffixes, write_list  # noqa: E402

LIST_WORDS = 234_000
VAL_FILE_WORDS = 1_000
MILLION = 1_000_000
STEPS_RATIO_TARGET = 0.9
MILLION_WALL_TARGET_S = 10.0
MILLION_RSS_TARGET_MB = 1024


def shim(folder: Path, name: str, code: Path) -> Path:
    """A folder that makes `import minigpt2.core` import another checkout's core/."""
    path = folder / f"shim-{name}"
    (path / "minigpt2").mkdir(parents=True, exist_ok=True)
    for package in ("core", "tui", "assets"):
        link = path / "minigpt2" / package
        if not link.exists():
            link.symlink_to(code.resolve() / package)
    return path


def run(args: list[str], out: Path, code: Path | None) -> dict[str, Any]:
    """One `minigpt2 train` process: its summary, wall time and peak RSS (that process's own,
    from wait4)."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(shim(out.parent, out.stem, code))
    command = [sys.executable, "-m", "minigpt2.core.cli", "train", *args, "--quiet",
               "--out", str(out)]  # fmt: skip
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"train failed: {stderr.read().decode()[-2000:]}")
        summary = json.loads(stdout.read().decode().splitlines()[-1])
    keep = ("steps", "wall_s", "val_loss", "val_subset_words", "val_subset_loss", "preset")
    return {
        "process_wall_s": round(wall, 2),
        # CPU time, user and system: on a loaded machine, wall time is mostly waiting for a
        # core; with one torch thread, CPU time is about what the wall time is on a quiet one.
        "process_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux: kilobytes
        **{k: summary[k] for k in keep if k in summary},
    }


def steps_comparison(
    words: Path, val_file: Path, budget: float, folder: Path, sides: dict[str, Path | None]
) -> dict[str, Any]:
    """Per side, a run with the default split and one given the validation file; all of them
    at once, one thread each, so that a shared machine's load weighs on every run alike (one
    after another, a run's steps moved by a third with the load)."""
    bound = ["--time-budget", str(budget), "--threads", "1"]
    runs = {
        (side, name): (["--data", str(words), *given, *bound],
                       folder / f"{side}-{name}.safetensors", code)
        for side, code in sides.items()
        for name, given in (("default_split", []), ("val_file_1000", ["--val-data", str(val_file)]))
    }  # fmt: skip
    results = at_once(runs)
    report: dict[str, Any] = {}
    for side in sides:
        split, given = results[side, "default_split"], results[side, "val_file_1000"]
        ratio = split["steps"] / given["steps"]
        report[side] = {"default_split": split, "val_file_1000": given, "ratio": round(ratio, 3),
                        "met": ratio >= STEPS_RATIO_TARGET}  # fmt: skip
    return report


def million_runs(words: Path, folder: Path, sides: dict[str, Path | None]) -> dict[str, Any]:
    """`train --steps 200` on the million words, every side at once (as above)."""
    # As a user runs it (torch's default threads); sides that run at once get a core each.
    threads = ["--threads", "1"] if len(sides) > 1 else []
    runs = {
        side: (["--data", str(words), "--steps", "200", *threads],
               folder / f"{side}-million.safetensors", code)
        for side, code in sides.items()
    }  # fmt: skip
    report: dict[str, Any] = {}
    for side, result in at_once(runs).items():
        met = (result["process_wall_s"] <= MILLION_WALL_TARGET_S
               and result["peak_rss_mb"] <= MILLION_RSS_TARGET_MB)  # fmt: skip
        report[side] = {**result, "met": met}
    return report


STALL_SCRIPT = """
import json, sys, threading, time
from minigpt2.core.train.build import build_trainer
from minigpt2.core.train.plan import TrainPlan
import torch  # imported before timing: the app imports it at start-up
gaps, done = [], threading.Event()
def tick():
    last = time.perf_counter()
    while not done.is_set():
        time.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
def work():
    trainer = build_trainer(TrainPlan(data=sys.argv[1], steps=20, threads=1, sample_interval_s=0))
    trainer.run()
    trainer.save(sys.argv[2])
ticker = threading.Thread(target=tick)
ticker.start()
worker = threading.Thread(target=work)
worker.start()
worker.join()
done.set()
ticker.join()
print(json.dumps({"largest_stall_ms": round(max(gaps) * 1000),
                  "stalls_over_100ms": sum(g > 0.1 for g in gaps)}))
"""


def stalls(words: Path, folder: Path, sides: dict[str, Path | None]) -> dict[str, Any]:
    """The largest stall of a ticking thread while another loads, trains and saves, per side,
    one side after the other (a stall is the GIL held; side by side, it is also the other
    side's work)."""
    report = {}
    for side, code in sides.items():
        env = dict(os.environ, PYTHONPATH=str(shim(folder, side, code))) if code else None
        out = folder / f"{side}-stall.safetensors"
        result = subprocess.run([sys.executable, "-c", STALL_SCRIPT, str(words), str(out)],
                                capture_output=True, text=True, env=env, check=True)  # fmt: skip
        report[side] = json.loads(result.stdout.splitlines()[-1])
    return report


def at_once(runs: dict[Any, tuple[list[str], Path, Path | None]]) -> dict[Any, dict[str, Any]]:
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {key: pool.submit(run, *job) for key, job in runs.items()}
        return {key: future.result() for key, future in futures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of each steps run")
    parser.add_argument("--words", type=Path, help="a real list instead of the generated 234K")
    parser.add_argument("--old-src", type=Path, help="another checkout's code, run alongside")
    parser.add_argument("--skip-steps", action="store_true", help="only the 1M-word run")
    args = parser.parse_args()

    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="size_bench_") as tmp:
        folder = Path(tmp)
        made = english_like(LIST_WORDS + VAL_FILE_WORDS)
        base, held_out = made[:LIST_WORDS], made[LIST_WORDS:]
        words = args.words or write_list(base, folder / "words234k.txt")
        val_file = write_list(held_out, folder / "val1000.txt")
        million = write_list(with_suffixes(base, MILLION), folder / "words1m.txt")
        report["lists"] = {"words": str(args.words or f"generated, {LIST_WORDS:,} words"),
                           "val_file": VAL_FILE_WORDS, "million": MILLION}  # fmt: skip
        sides = {"new": None, **({"old": args.old_src} if args.old_src else {})}
        report["million"] = million_runs(million, folder, sides)
        report["stall"] = stalls(million, folder, sides)
        if not args.skip_steps:
            report["steps"] = steps_comparison(words, val_file, args.budget, folder, sides)
    report["load_after"] = os.getloadavg()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
