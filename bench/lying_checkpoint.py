"""How long, and how much memory, does refusing a checkpoint whose config lies take?

Rewrites the shipped model's metadata as a damaged or crafted file would (the four lies of
issue 20, and a vocabulary size its embedding contradicts), then runs `minigpt2 sample
--checkpoint FILE` on each, and on the honest file, in a fresh process, timing it and taking
its peak RSS (most of the time is the CLI importing torch); and, in this process, the
load itself (honest: load and build the model; a lie: its refusal). Target: each lie
refused (exit 2, one line) within a second, at no more memory than the honest load.
Prints JSON.

    .venv/bin/python bench/lying_checkpoint.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from minigpt2.core.checkpoint import CheckpointError, load_checkpoint
from minigpt2.core.data.words import default_checkpoint_path

LIES: dict[str, dict[str, Any]] = {
    "1M wide, 1000 layers": {"d_model": 1_000_000, "n_layer": 1000},
    "block size 10^9": {"block_size": 10**9},
    "4096 wide, 24 layers": {"d_model": 4096, "n_layer": 24},
    "zero heads": {"n_head": 0},
    "vocab size 32 of 31 rows": {"vocab_size": 32},
}


def rewritten(source: Path, config: dict[str, Any], out: Path) -> Path:
    data = source.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    meta = header["__metadata__"]
    meta["model_config"] = json.dumps(json.loads(meta["model_config"]) | config)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    out.write_bytes(len(encoded).to_bytes(8, "little") + encoded + data[8 + length :])
    return out


def run_once(path: Path) -> dict[str, Any]:
    """`minigpt2 sample` on `path` in a fresh process: exit code, seconds, peak RSS, stderr."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "minigpt2.core.cli", "sample", "-n", "1", "--checkpoint",
         str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": child.returncode, "s": time.perf_counter() - start,
            "rss_mb": usage.ru_maxrss / 1024, "stderr": stderr.strip()}


def load_ms(path: Path) -> float:
    """Milliseconds to load and build the model in `path`, or to refuse it."""
    start = time.perf_counter()
    try:
        load_checkpoint(path).build_model()
    except CheckpointError:
        pass
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    shipped = default_checkpoint_path()
    with tempfile.TemporaryDirectory() as tmp:
        files = {"honest": shipped} | {
            lie: rewritten(shipped, config, Path(tmp) / f"lie{i}.safetensors")
            for i, (lie, config) in enumerate(LIES.items())
        }
        results = {}
        for name, path in files.items():
            runs = [run_once(path) for _ in range(args.runs)]
            results[name] = {
                "rc": runs[0]["rc"],
                "median_s": round(statistics.median(r["s"] for r in runs), 3),
                "median_load_ms": round(statistics.median(
                    load_ms(path) for _ in range(args.runs)), 1),
                "peak_rss_mb": round(max(r["rss_mb"] for r in runs), 1),
                "message": runs[0]["stderr"].splitlines()[-1:] if runs[0]["rc"] else [],
            }
    honest = results["honest"]
    print(json.dumps({
        "runs": args.runs,
        "results": results,
        "worst_lie_s_over_honest": round(max(
            r["median_s"] - honest["median_s"] for n, r in results.items() if n != "honest"), 3),
        "worst_lie_rss_over_honest": round(max(
            r["peak_rss_mb"] / honest["peak_rss_mb"] for n, r in results.items()
            if n != "honest"), 3),
    }))


if __name__ == "__main__":
    main()
