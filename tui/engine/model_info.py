"""What the app shows about a model, and how training events reach it: plain types the
engine hands to the UI thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from minigpt2.core.train.plan import TrainEvent

if TYPE_CHECKING:
    from minigpt2.core.checkpoint import Checkpoint
    from minigpt2.core.sample.numpy_model import NumpyCheckpoint

FLUSH_INTERVAL_S = 0.2  # at most ~5 UI updates a second from the trainer


@dataclass(frozen=True)
class ModelInfo:
    """What the status line and the panes say about the model in use."""

    preset: str
    step: int
    source: str
    params: int
    train_words: int
    val_words: int
    chars: str  # the characters it knows, to show with an unknown-character error
    history: tuple[tuple[int, float, float], ...] = ()  # (step, train loss, val loss)
    categories: tuple[str, ...] = ()  # the kinds of names it can be asked for; () = one list

    @classmethod
    def of(cls, ckpt: Checkpoint | NumpyCheckpoint, params: int) -> ModelInfo:
        history = tuple((int(h["step"]), float(h["train_loss"]), float(h["val_loss"]))
                        for h in ckpt.history if {"step", "train_loss", "val_loss"} <= h.keys())
        return cls(ckpt.preset, ckpt.step, ckpt.source, params, len(ckpt.train_words),
                   len(ckpt.val_words), "".join(ckpt.vocab.chars), history,
                   tuple(ckpt.vocab.categories))

    def describe(self, *, brief: bool = False) -> str:
        """The model in words; `brief`: without its data, for a narrow terminal."""
        model = f"{self.preset or 'custom'} model · {self.params:,} params · step {self.step:,}"
        if brief:
            return model
        source = Path(self.source).name if "/" in self.source else self.source
        names = self.train_words + self.val_words
        return f"{model} · {source or 'unknown data'} ({names:,} names)"


@dataclass
class EventBatcher:
    """Collects the trainer's events on the training thread and hands them on in batches,
    so that the UI gets a handful of messages a second whatever the step rate."""

    deliver: Callable[[list[TrainEvent]], None]
    interval_s: float = FLUSH_INTERVAL_S
    _pending: list[TrainEvent] = field(default_factory=list)
    _last_flush: float = 0.0

    def __call__(self, event: TrainEvent) -> None:
        self._pending.append(event)
        urgent = event.kind != "progress"  # state changes and samples go out at once
        if urgent or time.monotonic() - self._last_flush >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            self.deliver(batch)


