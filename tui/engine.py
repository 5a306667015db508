"""The one door between the app and `minigpt2.core`.

Widgets never import core: they call an `Engine` and read the plain results it returns.
The core modules that need torch are imported lazily, inside methods, because importing
torch costs over a second and must not delay the app's first frame. Every method that
imports torch or computes is meant for a worker thread.

Threads: the trainer runs on one worker thread; sampling runs on others. The engine
guards its own state with a lock, and gives each sampling call a consistent snapshot of
the weights (the trainer copies them between two steps).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..core.config import PRESETS
from ..core.data import (
    UnknownCharacterError,
    WordListError,
    builtin_datasets,
    default_checkpoint_path,
)
from ..core.training import TrainEvent, TrainPlan

if TYPE_CHECKING:  # torch-heavy modules: types only at import time
    import numpy as np

    from ..core.checkpoint import Checkpoint
    from ..core.sample import AttentionMap, Sample, Sampler
    from ..core.train import Trainer

SourceLabel = Literal["novel", "train", "val"]
FLUSH_INTERVAL_S = 0.2  # at most ~5 UI updates a second from the trainer
SWITCH_INTERVAL_S = 0.0005  # GIL hand-over while training (Python's default: 0.005)
SAMPLES_INTERVAL_S = 3.0  # a few names from the model in training, as makemore prints them


class EngineError(Exception):
    """Something the user did or chose cannot work; the message says what, in plain words."""


class UnknownCharacters(EngineError):
    """A prompt holds characters the model's vocabulary lacks."""

    def __init__(self, chars: Sequence[str], known: str = "") -> None:
        self.chars = list(chars)
        self.known = known  # the characters it does know, to show the user
        shown = " ".join(repr(c) for c in self.chars)
        plural = "s" if len(self.chars) > 1 else ""
        super().__init__(f"The model does not know the character{plural} {shown}")


# --- what the app can choose from (torch-free, cheap) -------------------------------------


@dataclass(frozen=True)
class DatasetChoice:
    name: str
    count: int


@dataclass(frozen=True)
class PresetChoice:
    name: str
    description: str
    epochs: int | None
    time_budget_s: float | None
    batch_size: int
    lr: float
    seed: int


def datasets() -> list[DatasetChoice]:
    try:
        return [DatasetChoice(info.name, info.count) for info in builtin_datasets()]
    except OSError:  # a broken install should not stop the app from opening
        return []


def presets() -> list[PresetChoice]:
    return [
        PresetChoice(p.name, p.description, p.train.epochs, p.train.time_budget_s,
                     p.train.batch_size, p.train.lr, p.train.seed)
        for p in PRESETS.values()
    ]


def shipped_checkpoint() -> Path | None:
    path = default_checkpoint_path()
    return path if path.is_file() else None


# --- requests and results ------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    """What the status line and the panes say about the model in use."""

    preset: str
    step: int
    source: str
    params: int
    train_words: int
    val_words: int
    chars: str
    history: tuple[tuple[int, float, float], ...] = ()  # (step, train loss, val loss)

    def describe(self) -> str:
        source = Path(self.source).name if "/" in self.source else self.source
        names = self.train_words + self.val_words
        return (f"{self.preset or 'custom'} model · {self.params:,} params · step {self.step:,}"
                f" · {source or 'unknown data'} ({names:,} names)")


@dataclass(frozen=True)
class SampleRequest:
    prompt: str = ""
    n: int = 20
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    novel_only: bool = False
    seed: int | None = 0

    def settings(self) -> dict[str, object]:
        """What a favourite records about how it was made."""
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p,
                "seed": self.seed}


@dataclass(frozen=True)
class Candidate:
    name: str
    logprob: float
    source: SourceLabel
    cut: bool = False

    @property
    def per_char(self) -> float:
        """Log-probability per character and end token: fair across lengths."""
        return self.logprob / (len(self.name) + 1)


@dataclass(frozen=True, eq=False)  # identity: comparing numpy arrays is ambiguous
class Attention:
    tokens: list[str]
    weights: np.ndarray  # (n_layer, n_head, T, T); row i: how token i attends to 0..i
    n_layer: int
    n_head: int


@dataclass(frozen=True)
class TrainOutcome:
    stopped: bool
    steps: int
    train_loss: float | None
    val_loss: float | None
    info: ModelInfo | None = None


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


class Engine:
    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads  # None: the core's default, which leaves the event loop a core
        self._lock = threading.Lock()  # guards the fields below
        self._sampling = threading.Lock()  # one sampling at a time: a Sampler is not thread-safe
        self._trainer: Trainer | None = None
        self._training = False
        self._wanted: Literal["pause", "stop"] | None = None  # asked before the trainer ran
        self._checkpoint: Checkpoint | None = None  # the loaded model, when not trained here
        self._sampler: Sampler | None = None
        self._run_sampler: Sampler | None = None  # over a copy of the weights in training
        self.sampling_from: tuple[str, int] | None = None  # (preset, step) Explore samples
        self.info: ModelInfo | None = None

    # --- state -----------------------------------------------------------------------------

    @property
    def has_model(self) -> bool:
        with self._lock:
            return self._sampler is not None or self._trainer is not None

    @property
    def training(self) -> bool:
        return self._training

    # --- loading ---------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Import torch and the model code now, on a worker thread, rather than on first use."""
        from ..core import sample, train  # noqa: F401

    def load_checkpoint(self, path: Path) -> ModelInfo:
        """Make the checkpoint at `path` the model Explore samples from."""
        from ..core.checkpoint import CheckpointError, load_checkpoint
        from ..core.sample import Sampler

        if self._training:
            raise EngineError("Stop training before loading a checkpoint.")
        try:
            ckpt = load_checkpoint(path)
            model = ckpt.build_model("cpu")
        except CheckpointError as exc:
            raise EngineError(f"Cannot load checkpoint: {exc}") from None
        sampler = Sampler(model, ckpt.vocab, ckpt.train_words, ckpt.val_words)
        info = _info(ckpt, model.num_params())
        with self._lock:
            self._checkpoint, self._trainer = ckpt, None
            self._sampler, self.info = sampler, info
            self.sampling_from = (ckpt.preset, ckpt.step)
        return info

    def save_checkpoint(self, path: Path) -> int:
        """Save the current model (weights, optimizer, step, words) atomically to `path`,
        also while it trains; return the step saved."""
        from ..core.checkpoint import save_checkpoint

        with self._lock:
            trainer, ckpt = self._trainer, self._checkpoint
        if trainer is not None:
            ckpt = trainer.snapshot()  # a consistent copy, taken between two steps
        if ckpt is None:
            raise EngineError("There is no model to save yet: train one first.")
        path = path.expanduser()
        if path.suffix != ".safetensors":
            raise EngineError(f"{path.name}: checkpoint files end in .safetensors")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_checkpoint(path, ckpt)
        except OSError as exc:
            raise EngineError(f"Cannot save to {path}: {exc.strerror or exc}") from None
        return ckpt.step

    def check_data(self, source: str) -> None:
        """Raise EngineError unless `source` is a usable word list."""
        from ..core.data import WordData

        try:
            WordData.from_source(source)
        except WordListError as exc:
            raise EngineError(str(exc)) from None

    # --- training --------------------------------------------------------------------------

    def train(self, plan: TrainPlan, on_events: Callable[[list[TrainEvent]], None],
              *, continue_current: bool = False) -> TrainOutcome:
        """Train as `plan` says; blocking, so call it on a worker thread. Events arrive in
        batches through `on_events`, on this thread."""
        batcher = EventBatcher(on_events)
        # Torch ops release and retake the GIL; with the trainer busy, the event loop and
        # sampling would wait up to the default 5 ms switch interval for each retake.
        sys.setswitchinterval(SWITCH_INTERVAL_S)

        try:
            trainer = self._make_trainer(plan, batcher, continue_current)
            with self._lock:
                # A stop or pause pressed while the trainer was being built applies now.
                if self._wanted == "stop":
                    return TrainOutcome(stopped=True, steps=0, train_loss=None, val_loss=None)
                if self._wanted == "pause":
                    trainer.pause()  # the loop starts by pausing
                self._trainer, self._training, self._run_sampler = trainer, True, None
            try:
                result = trainer.run()
            except (RuntimeError, ValueError) as exc:  # e.g. out of memory on a large preset
                raise EngineError(f"Training failed: {exc}") from None
            finally:
                batcher.flush()
        finally:
            with self._lock:
                self._training, self._wanted = False, None
        with self._sampling:  # the final weights, for Explore from now on
            self._follow(trainer)
        info = ModelInfo(
            preset=trainer.preset, step=trainer.step, source=trainer.data.source,
            params=trainer.model.num_params(), train_words=len(trainer.data.train_words),
            val_words=len(trainer.data.val_words), chars="".join(trainer.data.vocab.chars),
            history=_history(trainer.history),
        )
        with self._lock:
            self.info, self._checkpoint = info, None
        return TrainOutcome(result.stopped, result.steps, result.train_loss, result.val_loss, info)

    def _make_trainer(self, plan: TrainPlan, on_event: Callable[[TrainEvent], None],
                      continue_current: bool) -> Trainer:
        from ..core.training import build_trainer

        interval = SAMPLES_INTERVAL_S if plan.sample_interval_s is None else plan.sample_interval_s
        plan = replace(plan, threads=self.threads, sample_interval_s=interval)
        with self._lock:
            current = self._current_checkpoint() if continue_current else None
        if current is not None:  # the run continues on the current model's own words
            plan = replace(plan, data=None, val_data=None, preset=None, keep_case=False)
        try:
            return build_trainer(plan, on_event, current=current)
        except WordListError as exc:
            raise EngineError(str(exc)) from None
        except ValueError as exc:
            raise EngineError(f"Cannot train: {exc}") from None

    def _current_checkpoint(self) -> Checkpoint | None:
        if self._trainer is not None:
            return self._trainer.snapshot()
        return self._checkpoint

    def pause(self) -> None:
        self._control("pause")

    def resume(self) -> None:
        self._control(None)

    def stop(self) -> None:
        self._control("stop")

    def _control(self, wanted: Literal["pause", "stop"] | None) -> None:
        """Pass a pause, resume or stop to the running trainer, or keep it for the trainer
        being built (a key pressed just after Start must not be lost)."""
        with self._lock:
            self._wanted = wanted
            trainer = self._trainer if self._training else None
        if trainer is None:
            return
        if wanted == "stop":
            trainer.stop()
        elif wanted == "pause":
            trainer.pause()
        else:
            trainer.resume()

    def reset(self) -> None:
        """Forget the model trained here; the next start trains a fresh one. Explore keeps
        the last model it had until then."""
        if self._training:
            raise EngineError("Stop training before resetting.")
        with self._lock:
            if self._trainer is not None and self._checkpoint is None:
                self._checkpoint = self._trainer.snapshot()
            self._trainer = None

    # --- exploring -------------------------------------------------------------------------

    def _current_sampler(self) -> Sampler:
        with self._lock:
            trainer = self._trainer if self._training else None
            sampler = self._sampler
        if trainer is not None:
            return self._follow(trainer)
        if sampler is None:
            raise EngineError("No model yet: train one in the Train tab or load a checkpoint.")
        return sampler

    def _follow(self, trainer: Trainer) -> Sampler:
        """A sampler over the weights in training as they are now, copied between two steps:
        a request never samples weights older than itself, however fast the trainer runs."""
        from ..core.sample import Sampler

        sampler = self._run_sampler
        if sampler is None:
            data = trainer.data
            sampler = Sampler(trainer.model_copy(), data.vocab, data.train_words, data.val_words)
        step = trainer.copy_weights(sampler.model)
        with self._lock:
            self._run_sampler = self._sampler = sampler
            self.sampling_from = (trainer.preset, step)
        return sampler

    def sample(self, request: SampleRequest, cancelled: Callable[[], bool] = lambda: False
               ) -> list[Candidate] | None:
        """Candidates for `request`, or None if `cancelled()` turned true while waiting."""
        from ..core.sample import SampleConfig

        with self._sampling:
            if cancelled():  # a newer keystroke came while this one waited its turn
                return None
            sampler = self._current_sampler()
            try:
                config = SampleConfig(
                    prompt=request.prompt, n=request.n, temperature=request.temperature,
                    top_k=request.top_k, top_p=request.top_p, seed=request.seed,
                    novel_only=request.novel_only, unique=True, keep_cut=True,
                )
                samples: list[Sample] = sampler.sample(config)
            except UnknownCharacterError as exc:
                raise UnknownCharacters(exc.chars, "".join(sampler.vocab.chars)) from None
            except ValueError as exc:
                raise EngineError(_sentence(str(exc))) from None
        return [Candidate(s.name, s.logprob, s.source, s.cut) for s in samples]

    def attention(self, word: str) -> Attention:
        with self._sampling:
            sampler = self._current_sampler()
            try:
                result: AttentionMap = sampler.attention(word)
            except UnknownCharacterError as exc:
                raise UnknownCharacters(exc.chars, "".join(sampler.vocab.chars)) from None
            except ValueError as exc:
                raise EngineError(_sentence(str(exc))) from None
        n_layer, n_head = result.weights.shape[:2]
        return Attention(list(result.tokens), result.weights, int(n_layer), int(n_head))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _history(history: list[dict[str, float]]) -> tuple[tuple[int, float, float], ...]:
    return tuple((int(h["step"]), float(h["train_loss"]), float(h["val_loss"]))
                 for h in history if {"step", "train_loss", "val_loss"} <= h.keys())


def _info(ckpt: Checkpoint, params: int) -> ModelInfo:
    return ModelInfo(
        preset=ckpt.preset, step=ckpt.step, source=ckpt.source, params=params,
        train_words=len(ckpt.train_words), val_words=len(ckpt.val_words),
        chars="".join(ckpt.vocab.chars), history=_history(ckpt.history),
    )
