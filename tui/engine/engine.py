"""The app's door to the model: threads, fresh weights, batched events, errors as messages.

The app speaks the core's plain, torch-free types (SampleConfig, Sample, AttentionMap,
TrainPlan, TrainEvent, TrainResult). Torch is imported lazily, inside methods (it costs a
second and more, and must not delay the first frame): call those from worker threads.

Threads: the trainer runs on one worker thread; sampling runs on others, one at a time.
While a model trains, each sampling request copies its weights as they are at that moment
(between two steps), so Explore never samples weights older than the request.

At start-up the model is opened twice: with numpy alone (`open_quickly`, a tenth of a
second), then with torch (`load_checkpoint`, seconds). In between, the requests that the
numpy sampler supports (core/sample/numpy_sampler.py) are answered by it, the others wait.

The engine owns the state the UI shows: where training is (`status`, which the Train pane,
the footer and the quit dialog watch) and what the model in use is (`info`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from minigpt2.core.data.dataset import LoadProgress, WordData
from minigpt2.core.data.vocab import UnknownCharacterError, Vocab
from minigpt2.core.data.words import WordListError
from minigpt2.core.sample.request import AttentionMap, Sample, SampleConfig
from minigpt2.core.train.plan import TrainEvent, TrainPlan, TrainResult, chosen_preset, plan_data
from minigpt2.tui.engine.explore_queries import ExploreQueries
from minigpt2.tui.engine.model_info import EventBatcher, ModelInfo
from minigpt2.tui.engine.train_state import RunEnd, TrainState, TrainStatus

if TYPE_CHECKING:  # torch-heavy modules (and numpy): types only at import time
    from minigpt2.core.checkpoint import Checkpoint
    from minigpt2.core.sample.numpy_sampler import NumpySampler
    from minigpt2.core.sample.repair import Correction
    from minigpt2.core.sample.sampler import Sampler
    from minigpt2.core.train.trainer import Trainer
    from minigpt2.tui.stores.session import Autosave

T = TypeVar("T")
SWITCH_INTERVAL_S = 0.0005  # GIL hand-over while training (Python's default: 0.005)
# Between two training steps the trainer waits up to this long for a sampling request under
# way: on 2 cores the two shared a core and the GIL, which cost a request 5-6 ms of its 22.
YIELD_TO_SAMPLING_S = 0.1
# A few names from the model in training, as makemore prints them: every 2 s, or every 200
# steps if sooner (a fast run's names from 3 s ago were 700 steps old).
SAMPLES_INTERVAL_S = 2.0
SAMPLES_INTERVAL_STEPS = 200
# Loading torch holds the GIL for seconds (its libraries' loading, long stretches at once), and
# the UI thread needs it to draw: torch waits until the quick model's first names are on the
# screen, up to this long.
QUICK_FIRST_S = 2.0


class EngineError(Exception):
    """Something the user did or chose cannot work; the message says what, in plain words."""


class EngineClosed(Exception):
    """The app is quitting (Engine.close): the start-up's model is no longer wanted."""


class Engine:
    def __init__(self, threads: int | None = None, *,
                 repair_clock: Callable[[], float] | None = None) -> None:
        """`repair_clock`: what "did you mean" measures its time budget on (default: the
        Repairer's own clock)."""
        self.threads = threads  # None: the core's default, which leaves the event loop a core
        self._lock = threading.Lock()  # guards the fields below and the changes of `status`
        self._sampling = threading.Lock()  # one sampling at a time: a Sampler is not thread-safe
        self.status = TrainStatus()  # where training is: the one record, watched by the UI
        self._trainer: Trainer | None = None  # the run in progress, or the last one
        self._live: Trainer | None = None  # the trainer whose loop is running, if any
        self._checkpoint: Checkpoint | None = None  # the loaded model, when not trained here
        self._sampler: Sampler | None = None
        self._sampler_of: Trainer | None = None  # the run whose weights _sampler copies
        self._quick: NumpySampler | None = None  # the model opened with numpy, torch loading
        self._ready = threading.Event()  # set unless a model is being opened (start-up)
        self._ready.set()
        self._quick_done = threading.Event()  # the quick model's names are on the screen
        self._closed = False  # the app is quitting: load no model
        self.sampling_from: tuple[str, int] | None = None  # (preset, step) Explore samples
        self.info: ModelInfo | None = None
        self.autosave_error: str | None = None  # why the last autosave failed
        self._auto_words: tuple[object, WordData] | None = None  # describe_auto's last words
        self._explore = ExploreQueries(self._use_sampler, lambda: self._quick,
                                       lambda: self.sampling_from, repair_clock)

    @property
    def train_state(self) -> TrainState:
        return self.status.state

    def warm_up(self) -> None:  # import torch now, on a worker thread, not on first use
        from minigpt2.core.sample import sampler  # noqa: F401
        from minigpt2.core.train import trainer  # noqa: F401

    # --- checkpoints -----------------------------------------------------------------------

    def opening(self) -> None:
        """A model is on its way (the app's start-up): until `opened()`, or until it has
        loaded, requests for names wait for it instead of failing ("no model yet")."""
        self._ready.clear()

    def opened(self) -> None:
        self._ready.set()
        self._quick_done.set()  # whatever was opened, nothing waits for quick names now

    def open_quickly(self, path: Path) -> ModelInfo | None:
        """Open the checkpoint at `path` with numpy alone, for Explore to sample from until
        `load_checkpoint(path)` has returned. None if numpy cannot: the load will say why."""
        from minigpt2.core.sample.numpy_model import load_numpy_checkpoint
        from minigpt2.core.sample.numpy_sampler import NumpySampler

        try:
            ckpt = load_numpy_checkpoint(path)
        except Exception:  # whatever is wrong, load_checkpoint says it to the user
            return None
        info = ModelInfo.of(ckpt, ckpt.model.num_params())
        with self._lock:
            self._quick, self.info, self.sampling_from = NumpySampler(ckpt), info, (
                ckpt.preset, ckpt.step)
            self._ready.clear()
        return info

    def load_checkpoint(self, path: Path) -> ModelInfo:
        """Make the checkpoint at `path` the model Explore samples from and training continues.
        Ends a quick opening of it (open_quickly), whether it loads or not."""
        info = None
        try:
            info = self._load_checkpoint(path)
            return info
        finally:
            with self._lock:
                if info is None and self._quick is not None:  # opened quickly, yet unusable
                    self.info = self.sampling_from = None
                self._quick = None
            self._ready.set()

    def _load_checkpoint(self, path: Path) -> ModelInfo:
        if self._quick is not None:
            self._quick_done.wait(QUICK_FIRST_S)
        self._quick_done.set()  # (no quick model: no first names to wait for)
        if self._closed:
            raise EngineClosed
        from minigpt2.core.checkpoint import CheckpointError, load_checkpoint
        from minigpt2.core.sample.sampler import Sampler

        if self._live is not None:  # a run's loop, not a Start pressed while torch loads
            raise EngineError("Stop training before loading a checkpoint.")
        try:
            ckpt = load_checkpoint(path)
            sampler = warmed(Sampler.from_checkpoint(ckpt))
        except CheckpointError as exc:
            raise EngineError(f"Cannot load checkpoint: {exc}") from None
        info = ModelInfo.of(ckpt, sampler.model.num_params())
        with self._lock:
            self._checkpoint, self._trainer, self._sampler, self.info = ckpt, None, sampler, info
            self._sampler_of = None
            self.sampling_from = (ckpt.preset, ckpt.step)
        return info

    def save_checkpoint(self, path: Path) -> int:
        """Save the current model (weights, optimizer, step, words) atomically to `path`,
        also while it trains; return the step saved."""
        from minigpt2.core.checkpoint import save_checkpoint

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

    def _current_checkpoint(self) -> Checkpoint | None:  # a trainer's: between two steps
        self._ready.wait()  # a model being opened is there once torch has it
        with self._lock:
            return self._trainer.snapshot() if self._trainer is not None else self._checkpoint

    # --- training --------------------------------------------------------------------------

    def begin(self) -> bool:
        """Start pressed: the run is on its way (STARTING) until `train` builds its trainer on
        a worker thread. False if a run is in progress already."""
        with self._lock:
            if self.status.state.active:
                return False
            self.status.set(TrainState.STARTING)
            return True

    def train(self, plan: TrainPlan, on_events: Callable[[list[TrainEvent]], None], *,
              continue_current: bool = False, autosave: Autosave | None = None,
              on_load: LoadProgress | None = None) -> tuple[TrainResult, ModelInfo] | None:
        """Train as `plan` says; blocking, so call it on a worker thread. Events arrive in
        batches through `on_events`, on this thread. None: stopped before the first step.
        With `autosave`, the model is kept during the run and when it ends or is stopped.
        `on_load` hears how far loading the words is, before the run starts. The status
        ends the run with how it ended (RunEnd), once the model is kept."""
        with self._lock:
            if self._live is not None:
                raise EngineError("A model is training already.")
            if not self.status.state.active:  # called without begin(): begin now
                self.status.set(TrainState.STARTING)
        # Torch ops release and retake the GIL; with the trainer busy, the event loop and
        # sampling would wait up to the default 5 ms switch interval for each retake.
        # Restored after the run: only a run needs the quicker hand-over.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        end = RunEnd(error="Training failed.")
        try:
            outcome = self._train(plan, on_events, continue_current, autosave, on_load)
            end = RunEnd(*outcome) if outcome is not None else RunEnd()
            return outcome
        except EngineError as exc:
            end = RunEnd(error=str(exc))
            raise
        except Exception as exc:  # whatever goes wrong in the core, the run has ended
            end = RunEnd(error=f"Training failed: {exc!r}")
            raise
        finally:
            sys.setswitchinterval(switch_interval)
            with self._lock:
                self.status.set(end.state, end)

    def _train(self, plan: TrainPlan, on_events: Callable[[list[TrainEvent]], None],
               continue_current: bool, autosave: Autosave | None,
               on_load: LoadProgress | None) -> tuple[TrainResult, ModelInfo] | None:
        batcher = EventBatcher(on_events)

        def on_event(event: TrainEvent) -> None:
            batcher(event)  # first: the UI has a pause's last steps before the state it leads to
            self._follow_event(event)
            if autosave is not None and autosave.due(event):
                self._keep(autosave.path)

        trainer = self._make_trainer(plan, on_event, continue_current, on_load)
        with self._lock:  # a stop or pause pressed while the trainer was built applies now
            state = self.status.state
            if state is TrainState.STOPPING:
                return None
            if state is TrainState.PAUSING:
                trainer.pause()  # the loop starts by pausing
            else:
                self.status.set(TrainState.RUNNING)
            self._trainer, self._live, self._checkpoint = trainer, trainer, None
        try:
            result = trainer.run()
        except (RuntimeError, ValueError) as exc:  # e.g. out of memory on a large preset
            raise EngineError(f"Training failed: {exc}") from None
        finally:
            batcher.flush()
            with self._lock:
                self._live = None
        with self._sampling:  # Explore samples the final weights from now on
            self._follow(trainer)
        self.info = info = ModelInfo.of(trainer.snapshot(), result.params)
        if autosave is not None:
            self._keep(autosave.path)
        return result, info

    def _follow_event(self, event: TrainEvent) -> None:
        """The trainer's loop paused or resumed: so does the state (a stop asked stays)."""
        with self._lock:
            state = self.status.state
            if event.kind == "paused" and state in (TrainState.PAUSING, TrainState.RUNNING):
                self.status.set(TrainState.PAUSED)
            elif event.kind == "resumed" and state is not TrainState.STOPPING:
                self.status.set(TrainState.RUNNING)

    def _keep(self, path: Path) -> None:  # autosave: a failure is told at the end of the run
        try:
            self.save_checkpoint(path)
            self.autosave_error = None
        except EngineError as exc:
            self.autosave_error = str(exc)

    def _make_trainer(self, plan: TrainPlan, on_event: Callable[[TrainEvent], None],
                      continue_current: bool, on_load: LoadProgress | None) -> Trainer:
        from minigpt2.core.train.build import build_trainer

        interval = SAMPLES_INTERVAL_S if plan.sample_interval_s is None else plan.sample_interval_s
        plan = replace(plan, threads=self.threads, sample_interval_s=interval)
        current = self._current_checkpoint() if continue_current else None
        if current is not None:  # the run continues on the current model's own words
            plan = replace(plan, data=None, val_data=None, preset=None, keep_case=False)
        try:
            trainer = build_trainer(plan, on_event, current=current, on_load=on_load)
        except ValueError as exc:  # WordListError, CheckpointError, a bad preset or value
            raise EngineError(str(exc) if isinstance(exc, WordListError)
                              else f"Cannot train: {exc}") from None
        trainer.between_steps = self._yield_to_sampling
        trainer.sample_interval_steps = SAMPLES_INTERVAL_STEPS
        return trainer

    def _yield_to_sampling(self) -> None:
        """The user is waiting on a sampling request: let it finish first (bounded, so that
        a stream of requests slows training down but never stops it)."""
        if self._sampling.acquire(timeout=YIELD_TO_SAMPLING_S):
            self._sampling.release()

    # A pause or stop asked between begin() and the trainer being built (a key pressed just
    # after Start) is kept in the state: the trainer obeys it at once. With no run, nothing.

    def pause(self) -> None:
        with self._lock:
            if self.status.state.can_pause:
                self.status.set(TrainState.PAUSING)
                if self._live is not None:
                    self._live.pause()

    def resume(self) -> None:
        with self._lock:
            if self.status.state.can_resume:
                self.status.set(TrainState.RUNNING if self._live else TrainState.STARTING)
                if self._live is not None:
                    self._live.resume()

    def stop(self) -> None:
        with self._lock:
            if self.status.state.can_stop:
                self.status.set(TrainState.STOPPING)
                if self._live is not None:
                    self._live.stop()

    def reset(self) -> None:
        """The next start trains a fresh model; until then the last one stays in use."""
        with self._lock:
            if self.status.state.active:
                raise EngineError("Stop training before resetting.")
            trainer, self._trainer = self._trainer, None
            self.status.set(TrainState.IDLE)
        if trainer is not None:
            self._checkpoint = trainer.snapshot()

    def describe_auto(self, plan: TrainPlan) -> str:
        """What the `auto` preset chooses for `plan`'s words and bound, in a line; blocking
        (reading a big word list takes a while): call it on a worker thread. The words read
        are kept for the next call with the same data."""
        key = (plan.data, plan.val_data, plan.seed, plan.keep_case)
        try:
            words = self._auto_words
            if words is None or words[0] != key:
                words = self._auto_words = (key, plan_data(plan))
            return chosen_preset(plan, words[1]).description
        except ValueError as exc:  # an unreadable list: Start says so in full
            return f"auto: {exc}"

    # --- exploring -------------------------------------------------------------------------

    def sample(self, config: SampleConfig, cancelled: Callable[[], bool] = lambda: False
               ) -> list[Sample] | None:
        """Names for `config`, or None if `cancelled()` turned true while waiting or while
        sampling: the sampler checks it every step, so a stale request stops mid-way. Raises
        EngineError."""
        quick = self._quick
        if quick is not None and quick.supports(config):
            try:
                names: list[Sample] | None = explained(
                    "Cannot sample", quick.vocab, lambda: quick.sample(config, cancelled))
            except EngineError:
                self.names_shown()  # none will be: torch need not wait
                raise
        else:
            if quick is not None:  # a request only torch can answer: let it load now
                self.names_shown()
            names = self._use_sampler("Cannot sample", cancelled,
                                      lambda sampler: sampler.sample(config, cancelled))
        return None if cancelled() else names

    def wait_for_first_names(self, timeout: float) -> None:
        """Blocking: until the quick model's first names are on the screen, or there will be
        none (no quick model, a request only torch answers, torch loaded), or `timeout`."""
        self._quick_done.wait(timeout)

    def close(self) -> None:
        """The app is quitting. A model still to load (torch, at start-up) is not loaded: the
        process waits for the thread loading it, which kept it alive 3.5 s after a quit in
        the first moments (2 s waiting for names never drawn, then torch's import)."""
        self._closed = True
        self._quick_done.set()

    def names_shown(self) -> None:
        """Explore has drawn names (the UI calls it): torch, which holds the GIL for long
        stretches as it loads, may load now without delaying the first names."""
        self._quick_done.set()

    def attention(self, word: str) -> AttentionMap | None:
        if (quick := self._quick) is not None:
            return explained("No attention map", quick.vocab, lambda: quick.attention(word))
        return self._use_sampler("No attention map", lambda: False,
                                 lambda sampler: sampler.attention(word))

    def _use_sampler(self, what: str, cancelled: Callable[[], bool],
                     use: Callable[[Sampler], T]) -> T | None:
        while not self._ready.wait(0.05):  # a model being opened: torch still loading it
            if cancelled():
                return None
        with self._sampling:
            if cancelled():  # a newer keystroke came while this one waited its turn
                return None
            sampler = self._current_sampler()
            return explained(what, sampler.vocab, lambda: use(sampler))

    def did_you_mean(self, text: str, category: str | None = None,
                     cancelled: Callable[[], bool] = lambda: False) -> list[Correction]:
        return self._explore.did_you_mean(text, category, cancelled)

    def best_categories(self, names: list[str]) -> list[str | None]:
        return self._explore.best_categories(names)

    def _current_sampler(self) -> Sampler:
        with self._lock:
            trainer = self._live
            sampler = self._sampler
        if trainer is not None:
            return self._follow(trainer)
        if sampler is None:
            raise EngineError("No model yet: train one in the Train tab or load a checkpoint.")
        return sampler

    def _follow(self, trainer: Trainer) -> Sampler:
        """A sampler over the weights in training as they are now, copied between two steps
        (weights only: cheap), so a request never samples weights older than itself."""
        with self._lock:
            sampler = self._sampler if self._sampler_of is trainer else None
        if sampler is None:
            sampler = trainer.snapshot_sampler()
        step = trainer.copy_weights(sampler.model)
        with self._lock:
            self._sampler, self._sampler_of = sampler, trainer
            self.sampling_from = (trainer.preset, step)
        return sampler


def warmed(sampler: Sampler) -> Sampler:
    """Sample once, untimed, before the user does: torch's first passes are slow (0.4 s
    on a busy machine), and Explore's requests have a time limit (0.5 s)."""
    sampler.sample(SampleConfig(n=8, seed=0, time_limit_s=None))
    return sampler


def explained(what: str, vocab: Vocab, use: Callable[[], T]) -> T:
    """`use()`, its ValueError said in words (an unknown character with the known ones)."""
    try:
        return use()
    except ValueError as exc:
        known = "".join(vocab.chars)
        also = f" It knows: {known}" if isinstance(exc, UnknownCharacterError) else ""
        raise EngineError(f"{what}: {exc}.{also}") from None
