"""The app's door to the model: threads, fresh weights, batched events, errors as messages.

The app and its widgets speak the core's own plain types (`SampleConfig`, `Sample`,
`AttentionMap`, `TrainPlan`, `TrainEvent`, `TrainResult`), which live in torch-free modules.
The modules that need torch are imported lazily, inside methods, because importing torch
costs over a second and must not delay the first frame. Every method that imports torch or
computes is meant for a worker thread.

Threads: the trainer runs on one worker thread; sampling runs on others, one at a time.
While a model trains, each sampling request copies its weights as they are at that moment
(between two steps), so Explore never samples weights older than the request.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..core.data import UnknownCharacterError, WordListError
from ..core.sampling import AttentionMap, Sample, SampleConfig
from ..core.training import TrainEvent, TrainPlan, TrainResult
from .model_info import EventBatcher, ModelInfo

if TYPE_CHECKING:  # torch-heavy modules: types only at import time
    from ..core.checkpoint import Checkpoint
    from ..core.sample import Sampler
    from ..core.train import Trainer
    from .session import Autosave

SWITCH_INTERVAL_S = 0.0005  # GIL hand-over while training (Python's default: 0.005)
SAMPLES_INTERVAL_S = 3.0  # a few names from the model in training, as makemore prints them


class EngineError(Exception):
    """Something the user did or chose cannot work; the message says what, in plain words."""


class Engine:
    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads  # None: the core's default, which leaves the event loop a core
        self._lock = threading.Lock()  # guards the fields below
        self._sampling = threading.Lock()  # one sampling at a time: a Sampler is not thread-safe
        self._trainer: Trainer | None = None  # the run in progress, or the last one
        self._running = False  # its loop is running (the pane owns the user-facing state)
        self._wanted: Literal["pause", "stop"] | None = None  # asked before the trainer ran
        self._checkpoint: Checkpoint | None = None  # the loaded model, when not trained here
        self._sampler: Sampler | None = None
        self._sampler_of: Trainer | None = None  # the run whose weights _sampler copies
        self.sampling_from: tuple[str, int] | None = None  # (preset, step) Explore samples
        self.info: ModelInfo | None = None
        self.autosave_error: str | None = None  # why the last autosave failed

    @property
    def has_model(self) -> bool:
        with self._lock:
            return self._sampler is not None or self._trainer is not None

    @property
    def training(self) -> bool:
        """A trainer's loop is running on a worker thread."""
        return self._running

    def warm_up(self) -> None:
        """Import torch and the model code now, on a worker thread, rather than on first use."""
        from ..core import sample, train  # noqa: F401

    # --- checkpoints -----------------------------------------------------------------------

    def load_checkpoint(self, path: Path) -> ModelInfo:
        """Make the checkpoint at `path` the model Explore samples from and training continues."""
        from ..core.checkpoint import CheckpointError, load_checkpoint
        from ..core.sample import Sampler

        if self._running:
            raise EngineError("Stop training before loading a checkpoint.")
        try:
            ckpt = load_checkpoint(path)
            model = ckpt.build_model("cpu")
        except CheckpointError as exc:
            raise EngineError(f"Cannot load checkpoint: {exc}") from None
        sampler = Sampler(model, ckpt.vocab, ckpt.train_words, ckpt.val_words)
        info = ModelInfo.of(ckpt, model.num_params())
        with self._lock:
            self._checkpoint, self._trainer, self._sampler, self.info = ckpt, None, sampler, info
            self._sampler_of = None
            self.sampling_from = (ckpt.preset, ckpt.step)
        return info

    def save_checkpoint(self, path: Path) -> int:
        """Save the current model (weights, optimizer, step, words) atomically to `path`,
        also while it trains; return the step saved."""
        from ..core.checkpoint import save_checkpoint

        path = path.expanduser()
        if path.suffix != ".safetensors":
            raise EngineError(f"{path.name}: checkpoint files end in .safetensors")
        ckpt = self._current_checkpoint()
        if ckpt is None:
            raise EngineError("There is no model to save yet: train one first.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_checkpoint(path, ckpt)
        except OSError as exc:
            raise EngineError(f"Cannot save to {path}: {exc.strerror or exc}") from None
        return ckpt.step

    def _current_checkpoint(self) -> Checkpoint | None:
        with self._lock:
            trainer, ckpt = self._trainer, self._checkpoint
        return trainer.snapshot() if trainer is not None else ckpt  # taken between two steps

    # --- training --------------------------------------------------------------------------

    def train(self, plan: TrainPlan, on_events: Callable[[list[TrainEvent]], None], *,
              continue_current: bool = False, autosave: Autosave | None = None
              ) -> tuple[TrainResult, ModelInfo] | None:
        """Train as `plan` says; blocking, so call it on a worker thread. Events arrive in
        batches through `on_events`, on this thread. None: stopped before the first step.
        With `autosave`, the model is kept during the run and when it ends or is stopped."""
        batcher = EventBatcher(on_events)

        def on_event(event: TrainEvent) -> None:
            batcher(event)
            if autosave is not None and autosave.due(event):
                self._keep(autosave.path)

        # Torch ops release and retake the GIL; with the trainer busy, the event loop and
        # sampling would wait up to the default 5 ms switch interval for each retake.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            trainer = self._make_trainer(plan, on_event, continue_current)
            with self._lock:  # a stop or pause pressed while the trainer was built applies now
                if self._wanted == "stop":
                    return None
                if self._wanted == "pause":
                    trainer.pause()  # the loop starts by pausing
                self._trainer, self._running, self._checkpoint = trainer, True, None
            try:
                result = trainer.run()
            except (RuntimeError, ValueError) as exc:  # e.g. out of memory on a large preset
                raise EngineError(f"Training failed: {exc}") from None
            finally:
                batcher.flush()
        finally:
            with self._lock:
                self._running, self._wanted = False, None
        with self._sampling:  # Explore samples the final weights from now on
            self._follow(trainer)
        info = ModelInfo.of(trainer.snapshot(), result.params)
        with self._lock:
            self.info = info
        if autosave is not None:
            self._keep(autosave.path)
        return result, info

    def _keep(self, path: Path) -> None:
        """Autosave: on failure, say so once the run ends, and train on."""
        try:
            self.save_checkpoint(path)
            self.autosave_error = None
        except EngineError as exc:
            self.autosave_error = str(exc)

    def _make_trainer(self, plan: TrainPlan, on_event: Callable[[TrainEvent], None],
                      continue_current: bool) -> Trainer:
        from ..core.training import build_trainer

        interval = SAMPLES_INTERVAL_S if plan.sample_interval_s is None else plan.sample_interval_s
        plan = replace(plan, threads=self.threads, sample_interval_s=interval)
        current = self._current_checkpoint() if continue_current else None
        if current is not None:  # the run continues on the current model's own words
            plan = replace(plan, data=None, val_data=None, preset=None, keep_case=False)
        try:
            return build_trainer(plan, on_event, current=current)
        except ValueError as exc:  # WordListError, CheckpointError, a bad preset or value
            raise EngineError(str(exc) if isinstance(exc, WordListError)
                              else f"Cannot train: {exc}") from None

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
            trainer = self._trainer if self._running else None
        if trainer is not None:
            {"stop": trainer.stop, "pause": trainer.pause, None: trainer.resume}[wanted]()

    def reset(self) -> None:
        """Forget the model trained here; the next start trains a fresh one. Explore keeps
        the last model it had until then."""
        if self._running:
            raise EngineError("Stop training before resetting.")
        with self._lock:
            self._trainer = None

    # --- exploring -------------------------------------------------------------------------

    def sample(self, config: SampleConfig, cancelled: Callable[[], bool] = lambda: False
               ) -> list[Sample] | None:
        """Names for `config` (cut ones kept, marked), or None if `cancelled()` turned true
        while waiting. Raises EngineError."""
        with self._sampling:
            if cancelled():  # a newer keystroke came while this one waited its turn
                return None
            sampler = self._current_sampler()
            try:
                return sampler.sample(replace(config, keep_cut=True))
            except ValueError as exc:
                raise _explained("Cannot sample", exc, sampler) from None

    def attention(self, word: str) -> AttentionMap:
        with self._sampling:
            sampler = self._current_sampler()
            try:
                return sampler.attention(word)
            except ValueError as exc:
                raise _explained("No attention map", exc, sampler) from None

    def _current_sampler(self) -> Sampler:
        with self._lock:
            trainer = self._trainer if self._running else None
            sampler = self._sampler
        if trainer is not None:
            return self._follow(trainer)
        if sampler is None:
            raise EngineError("No model yet: train one in the Train tab or load a checkpoint.")
        return sampler

    def _follow(self, trainer: Trainer) -> Sampler:
        """A sampler over the weights in training as they are now, copied between two steps
        (weights only: cheap), so a request never samples weights older than itself."""
        from ..core.sample import Sampler

        with self._lock:
            sampler = self._sampler if self._sampler_of is trainer else None
        if sampler is None:
            data = trainer.data
            sampler = Sampler(trainer.model_copy(), data.vocab, data.train_words, data.val_words)
        step = trainer.copy_weights(sampler.model)
        with self._lock:
            self._sampler, self._sampler_of = sampler, trainer
            self.sampling_from = (trainer.preset, step)
        return sampler


def _explained(what: str, exc: ValueError, sampler: Sampler) -> EngineError:
    """The core's message as one line for the user; an unknown character comes with the
    characters the model does know."""
    known = ""
    if isinstance(exc, UnknownCharacterError):
        known = f" It knows: {''.join(sampler.vocab.chars)}"
    return EngineError(f"{what}: {exc}.{known}")
