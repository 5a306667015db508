"""What a training run is asked for and what it reports: plain, torch-free types.

The app and the CLI build a `TrainPlan`; `build_trainer` (build.py) turns it into a
`Trainer`, whose loop (trainer.py) reports `TrainEvent`s and ends with a `TrainResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from minigpt2.core.config import (
    AUTO_BATCH,
    AUTO_STEP_S,
    DEFAULT_PRESET,
    PRIOR_CHARS,
    Preset,
    get_preset,
    resolve_auto,
)
from minigpt2.core.data.dataset import LoadProgress, WordData
from minigpt2.core.data.words import DEFAULT_DATASET

EventKind = Literal["progress", "eval", "samples", "paused", "resumed", "done"]


def _flag(field: str) -> str:
    """The CLI's name for a plan field, as users see it in messages."""
    return "--" + {"time_budget_s": "time-budget"}.get(field, field.replace("_", "-"))


@dataclass(frozen=True)
class TrainPlan:
    """A run as a user describes it. None means: the preset's (or the resumed run's) value.

    `resume` continues a saved run: its words, preset and case are the checkpoint's, so
    giving `data`, `val_data`, `preset` or `keep_case` with it is refused.
    """

    data: str | tuple[str, ...] | None = None  # a list's name or file; several = categories
    val_data: str | None = None
    preset: str | None = None
    epochs: int | None = None  # one bound at most; it replaces the preset's bounds
    steps: int | None = None
    time_budget_s: float | None = None
    batch_size: int | None = None
    lr: float | None = None
    seed: int | None = None
    device: str | None = None
    threads: int | None = None
    keep_case: bool = False
    sample_interval_s: float | None = None
    resume: Path | str | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "steps", "batch_size", "threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{_flag(name)} must be at least 1 (got {value})")
        for name in ("time_budget_s", "lr"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{_flag(name)} must be a positive number (got {value})")
        if self.seed is not None and self.seed < 0:
            raise ValueError(f"--seed must be 0 or more (got {self.seed})")
        if self.sample_interval_s is not None and not (
            math.isfinite(self.sample_interval_s) and self.sample_interval_s >= 0
        ):
            raise ValueError("the sample interval must be 0 or more seconds")
        if len(self.bound) > 1:
            raise ValueError("give one of --epochs, --steps and --time-budget, not several")

    @property
    def resumes(self) -> bool:
        return self.resume is not None

    @property
    def bound(self) -> dict[str, float]:
        """The one run bound given, as TrainConfig fields ({} for the preset's own)."""
        given = {"epochs": self.epochs, "steps": self.steps, "time_budget_s": self.time_budget_s}
        return {k: v for k, v in given.items() if v is not None}


@dataclass(frozen=True)
class TrainEvent:
    kind: EventKind
    step: int
    total_steps: int | None
    epoch: float  # epochs done, fractional
    train_loss: float | None  # mean over the steps since the previous event
    val_loss: float | None  # the latest validation loss, on the subset if val_subset_words
    tokens_per_s: float
    elapsed_s: float  # training time, pauses excluded
    remaining_s: float | None
    progress: float | None  # 0..1 of the run's bound (steps, epochs or time)
    samples: tuple[str, ...] = ()
    best_step: int | None = None  # the step of the weights with the lowest validation loss
    best_val_loss: float | None = None  # theirs (on the subset if val_subset_words)
    # The validation words these losses are on, when a list has more than a run validates on
    # every few hundred steps (trainer.VAL_SUBSET_WORDS); None: on all of them. The "done"
    # event's val_loss is on all of them unless a stopped run skipped that pass.
    val_subset_words: int | None = None


@dataclass(frozen=True)
class TrainResult:
    steps: int
    epochs: float
    wall_s: float
    train_loss: float
    val_loss: float | None  # the final weights on every validation word (None: not measured)
    tokens_per_s: float
    params: int
    stopped: bool  # stopped early from outside
    # The run ends on (and saves) the weights of this step, the lowest validation loss; None
    # when it never validated (train's JSON summary gives it as best_step).
    best_step: int | None = None
    early_stopped: bool = False  # validation stopped improving for `patience` evaluations
    # The loss that chose the best weights, on the validation subset if val_subset_words
    # (a stopped run skips the pass over every validation word: then val_loss is None).
    best_val_loss: float | None = None
    val_subset_words: int | None = None  # as in TrainEvent


def plan_data(plan: TrainPlan, on_progress: LoadProgress | None = None) -> WordData:
    """The words a fresh run of this plan trains and validates on (torch-free)."""
    seed = get_preset(plan.preset or DEFAULT_PRESET).train.updated(seed=plan.seed).seed
    return WordData.from_source(
        plan.data or DEFAULT_DATASET, plan.val_data, seed=seed, keep_case=plan.keep_case,
        on_progress=on_progress,
    )  # fmt: skip


def chosen_preset(plan: TrainPlan, data: WordData, device: str = "cpu") -> Preset:
    """The plan's preset; for `auto`, the model and recipe it picks for these words and the
    plan's bound. Torch-free: a UI shows `chosen_preset(plan, plan_data(plan)).description`
    before training starts."""
    preset = get_preset(plan.preset or DEFAULT_PRESET)
    if preset.name != "auto":
        return preset
    budget = _budget_s(plan, data, device)
    known = prior_known_share(data.train_words)
    return resolve_auto(train_tokens(data.train_words), budget, device, known)


def train_tokens(words: list[str]) -> int:
    """Tokens a model predicts in one pass over these words: their characters and one EOS each."""
    return sum(len(w) + 1 for w in words)


_WITHOUT_PRIOR_CHARS = str.maketrans("", "", "".join(PRIOR_CHARS))


def prior_known_share(words: list[str]) -> float:
    """The share of the words' characters, counted with repeats, that the prior has seen (1
    for no words). One pass in C (str.translate): a list of a million words takes ~0.1 s."""
    text = "".join(words)
    unknown = len(text.translate(_WITHOUT_PRIOR_CHARS))
    return 1 - unknown / len(text) if text else 1.0


def _budget_s(plan: TrainPlan, data: WordData, device: str) -> float | None:
    """The plan's bound in seconds, for auto: a step or epoch bound at auto's rough step cost."""
    if plan.time_budget_s is not None:
        return plan.time_budget_s
    step_s = AUTO_STEP_S.get(device, AUTO_STEP_S["cpu"])
    if plan.steps is not None:
        return plan.steps * step_s
    if plan.epochs is not None:
        return plan.epochs * math.ceil(len(data.train_words) / AUTO_BATCH) * step_s
    return None
