"""Soak the engine: many sampling requests while a trainer runs, pauses, resumes, stops and
restarts. Any exception other than the engine's own messages, or a stall (a deadlock),
fails it.

Requests vary the prompt (unknown characters and over-long prompts included), the count,
temperature, top-k, top-p, novel-only and the seed, and some are cancelled while they
wait. The trainer's life follows the request count, not the clock: every `--every`
requests the next of pause, resume, stop, restart happens.

Prints one JSON object: requests, errors by kind, the trainer actions taken, and the
resident memory (RSS) at the start (torch and the trainer imported, as the app has them
once started), at the end and at its peak.

    .venv/bin/python bench/soak.py [--requests 10000] [--preset auto] [--data seed]
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from minigpt2.core.config import DEFAULT_PRESET
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.train.plan import TrainPlan
from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.memory import release_free_memory

PROMPTS = ["", "a", "ma", "ri", "kat", "el", "Jo", "zz", "é", "ma!", "a" * 80, "sam", "q"]
STALL_S = 120.0  # no request finished for this long: a deadlock; dump every thread's stack
ACTIONS = ("pause", "resume", "stop", "restart")


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS), its peak so far (VmHWM), or of the RSS the
    part in anonymous memory (RssAnon: the heap) or in mapped files (RssFile: mostly the
    pages of torch's libraries used so far, shared and reclaimable), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def random_config(rng: random.Random) -> SampleConfig:
    return SampleConfig(
        prompt=rng.choice(PROMPTS),
        n=rng.choice([1, 5, 20, 60]),
        temperature=rng.choice([0.0, 0.5, 1.0, 1.5]),
        top_k=rng.choice([None, 1, 5, 30]),
        top_p=rng.choice([None, 0.5, 0.9, 1.0]),
        novel_only=rng.random() < 0.3,
        unique=True,
        seed=rng.randrange(1000) if rng.random() < 0.8 else None,
    )


class Trainer:
    """Runs `engine.train` on a thread and restarts it when asked."""

    def __init__(self, engine: Engine, plan: TrainPlan) -> None:
        self.engine, self.plan = engine, plan
        self.thread: threading.Thread | None = None
        self.failures: list[str] = []

    def start(self) -> None:
        def run() -> None:
            try:
                self.engine.train(self.plan, lambda events: None)
            except EngineError as exc:
                self.failures.append(str(exc))
            finally:
                release_free_memory()  # as the app's Train pane does after each run

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def act(self, action: str) -> None:
        if action == "restart":
            if self.thread is not None and self.thread.is_alive():
                self.engine.stop()
                self.thread.join()
            self.start()
        else:
            getattr(self.engine, action)()


def soak(requests: int, every: int, plan: TrainPlan, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    engine = Engine(threads=1)
    engine.warm_up()  # as the app does once started
    rss_start, anon_start, file_start = rss_mb(), rss_mb("RssAnon"), rss_mb("RssFile")
    trainer = Trainer(engine, plan)
    trainer.start()
    errors: Counter[str] = Counter()
    unexpected: list[str] = []
    actions: Counter[str] = Counter()
    names = 0
    trace = []  # RSS as the requests go: a leak climbs, an allocator's pools level off
    started = time.perf_counter()
    for i in range(1, requests + 1):
        faulthandler.dump_traceback_later(STALL_S, exit=True)  # a deadlock: stacks, exit 1
        config = random_config(rng)
        try:
            result = engine.sample(config, cancelled=lambda: rng.random() < 0.02)
            names += len(result or [])
        except EngineError as exc:  # the user's mistake, said in words: expected
            errors[str(exc).split(":")[0]] += 1
        except Exception as exc:  # anything else is a bug
            unexpected.append(f"{config}: {exc!r}")
        if i % every == 0:
            action = ACTIONS[(i // every - 1) % len(ACTIONS)]
            trainer.act(action)
            actions[action] += 1
        if i % max(1, requests // 10) == 0:
            trace.append(rss_mb())
    faulthandler.cancel_dump_traceback_later()
    engine.stop()
    if trainer.thread is not None:
        trainer.thread.join()
    return {
        "requests": requests,
        "names": names,
        "wall_s": round(time.perf_counter() - started, 1),
        "expected_errors": dict(errors),
        "unexpected_errors": unexpected[:10],
        "unexpected_count": len(unexpected),
        "trainer_failures": trainer.failures,
        "trainer_actions": dict(actions),
        "rss_mb": {"start": rss_start, "end": rss_mb(), "peak": rss_mb("VmHWM"),
                   "anon": {"start": anon_start, "end": rss_mb("RssAnon")},
                   "file": {"start": file_start, "end": rss_mb("RssFile")},
                   "every_tenth_of_the_requests": trace},
        "pass": not unexpected and not trainer.failures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=250, help="requests between actions")
    parser.add_argument("--preset", default=DEFAULT_PRESET)
    parser.add_argument("--data", default="seed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    plan = TrainPlan(data=args.data, preset=args.preset, steps=10**9)
    result = soak(args.requests, args.every, plan, args.seed)
    print(json.dumps(result))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
