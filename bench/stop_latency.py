"""How long does stopping take, on a large list? Through the engine, as the app stops.

Trains the default (`auto`) preset on a word list (by default makemore's names.txt, 32K
words) on a worker thread, waits until the run is well under way (a number of progress
events, not a time), presses stop, and times until `engine.train` has returned: the
trainer has ended and the model is kept (autosaved, as the app does). Repeats a few
times; prints JSON.
Target: well under a second, whatever the list's size.

    .venv/bin/python bench/stop_latency.py [--data ../shared/data/names.txt] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from minigpt2.core.config import DEFAULT_PRESET
from minigpt2.core.train.plan import TrainEvent, TrainPlan
from minigpt2.tui.engine.engine import Engine
from minigpt2.tui.stores.session import Autosave

DEFAULT_DATA = "/work/shared/data/names.txt"


def stop_once(engine: Engine, plan: TrainPlan, events_first: int, keep: Path
              ) -> dict[str, float]:
    seen = threading.Semaphore(0)
    done = threading.Event()
    steps: list[int] = []

    def on_events(events: list[TrainEvent]) -> None:
        steps.append(events[-1].step)
        seen.release()

    def run() -> None:
        engine.train(plan, on_events, autosave=Autosave(keep))  # as the app keeps the model
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    for _ in range(events_first):
        seen.acquire()
    pressed = time.perf_counter()
    engine.stop()
    done.wait()
    stopped_ms = (time.perf_counter() - pressed) * 1000
    thread.join()
    return {"stop_to_return_ms": round(stopped_ms, 1), "at_step": steps[-1] if steps else 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--preset", default=DEFAULT_PRESET)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=10, help="progress batches before stop")
    args = parser.parse_args(argv)
    engine = Engine(threads=1)
    engine.warm_up()
    plan = TrainPlan(data=args.data, preset=args.preset)
    keep = Path(tempfile.mkdtemp(prefix="minigpt2-stop-")) / "last.safetensors"
    runs = [stop_once(engine, plan, args.events, keep) for _ in range(args.runs)]
    worst = max(r["stop_to_return_ms"] for r in runs)
    print(json.dumps({"data": args.data, "preset": args.preset, "runs": runs,
                      "worst_ms": worst, "pass": worst < 1000}))
    return 0 if worst < 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
