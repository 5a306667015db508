"""When a run validates and ends, and its learning rate: a pure function of how far it has
gone (`lr_at`), the bounds that measure that (`RunBounds`), and a clock that skips pauses."""

from __future__ import annotations

import math
import time

from minigpt2.core.config import TrainConfig

FLOOR = 0.1  # the cosine ends at this fraction of the peak rate, not at zero


def lr_at(progress: float, config: TrainConfig, step: int = 0) -> float:
    """The rate for `step` (counted from 0) at `progress` (0..1) through the run's bound.

    A linear warm-up over the first `warmup_steps` steps, then, for "cosine", a decay from the
    peak to FLOOR of it as progress goes from 0 to 1: by steps for a step or epoch bound, by
    the fraction of the time budget used for a time budget, so that either way the run ends on
    its lowest rate."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.lr_schedule == "constant":
        return config.lr
    done = min(max(progress, 0.0), 1.0)
    return config.lr * (FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * done)))


def schedule_progress(
    config: TrainConfig,
    step: int,
    total_steps: int | None,
    elapsed_s: float,
    warmed_up_at_s: float = 0.0,
) -> float:
    """How far through its bound a run is, for the cosine, counted from the end of the warm-up
    (at `warmed_up_at_s` seconds) by steps for a step bound and by seconds for a time budget;
    the further of the two when both are set. Counting both from there means that a run which
    reaches its step bound within its budget is scheduled by steps alone, so any budget long
    enough gives exactly the same run."""
    fractions = [0.0]
    if total_steps:
        span = max(total_steps - config.warmup_steps, 1)
        fractions.append((step - config.warmup_steps) / span)
    if config.time_budget_s:
        span_s = config.time_budget_s - warmed_up_at_s
        fractions.append((elapsed_s - warmed_up_at_s) / span_s if span_s > 0 else 1.0)
    return min(max(fractions), 1.0)


def run_progress(
    config: TrainConfig, step: int, total_steps: int | None, elapsed_s: float
) -> tuple[float | None, float | None]:
    """How much of its bound a run has done (0..1), and the seconds it has left, if known."""
    fractions = []
    if total_steps:
        fractions.append(step / total_steps)
    if config.time_budget_s:
        fractions.append(elapsed_s / config.time_budget_s)
    if not fractions:
        return None, None
    done = min(max(fractions), 1.0)
    remaining = elapsed_s * (1 - done) / done if done > 0 else None
    return done, remaining


class Clock:
    """Elapsed training time with pauses left out."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused_at: float | None = None

    @property
    def elapsed(self) -> float:
        now = self._paused_at if self._paused_at is not None else time.perf_counter()
        return now - self._start

    def pause(self) -> None:
        self._paused_at = time.perf_counter()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._start += time.perf_counter() - self._paused_at
            self._paused_at = None


class RunBounds:
    """When a run validates, how far through its bound it is, and when it ends."""

    EVAL_EVERY_MAX = 200  # validate at least this often (steps): small sets are cheap to check

    def __init__(self, config: TrainConfig, steps_per_epoch: int) -> None:
        self.config = config
        epochs, cap = (
            None if n is None else n * steps_per_epoch for n in (config.epochs, config.epoch_cap)
        )
        bounds = (config.steps, epochs, cap)
        self.total_steps = min((b for b in bounds if b is not None), default=None)
        self.eval_interval = config.eval_interval or min(steps_per_epoch, self.EVAL_EVERY_MAX)
        self._warmed_up_at_s: float | None = None  # this run's clock when the cosine began

    def begin(self) -> None:
        """A run starts (a new one, or a resumed one on a fresh clock)."""
        self._warmed_up_at_s = None

    def reached(self, step: int, elapsed_s: float) -> bool:
        budget = self.config.time_budget_s
        return (self.total_steps is not None and step >= self.total_steps) or (
            budget is not None and elapsed_s >= budget
        )

    def out_of_patience(self, step: int, best_step: int | None) -> bool:
        """Whether `patience` validations have passed without a new best."""
        patience = self.config.patience
        if patience is None or best_step is None:
            return False
        return step - best_step >= patience * self.eval_interval

    def lr(self, step: int, elapsed_s: float) -> float:
        if step >= self.config.warmup_steps and self._warmed_up_at_s is None:
            self._warmed_up_at_s = elapsed_s
        progress = schedule_progress(
            self.config, step, self.total_steps, elapsed_s, self._warmed_up_at_s or 0.0
        )
        return lr_at(progress, self.config, step)

    def progress(self, step: int, elapsed_s: float) -> tuple[float | None, float | None]:
        return run_progress(self.config, step, self.total_steps, elapsed_s)
