"""Train: the form on the left, the run on the right (buttons, readouts, progress, the loss
chart and a few names from the model as it learns). The engine owns the training state: the
pane asks it to start, pause, resume, stop or reset, and shows each state it is told."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from minigpt2.core.config import Preset
from minigpt2.core.data.words import DEFAULT_DATASET, DatasetInfo
from minigpt2.core.train.plan import TrainPlan
from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.engine.model_info import ModelInfo
from minigpt2.tui.engine.train_state import RunEnd, TrainState
from minigpt2.tui.keymap import PAUSE, RESET, START, STOP, tooltip
from minigpt2.tui.memory import release_free_memory
from minigpt2.tui.messages import (
    ModelChanged,
    Said,
    TrainingLoading,
    TrainingProgress,
    TrainingStateChanged,
)
from minigpt2.tui.stores.session import AUTOSAVE_INTERVAL_S, Autosave
from minigpt2.tui.widgets.train.choice import PresetChoice
from minigpt2.tui.widgets.train.files import ModelFiles
from minigpt2.tui.widgets.train.form import DEFAULT_CHECKPOINT_FILE, TrainForm
from minigpt2.tui.widgets.train.loss_chart import LossChart
from minigpt2.tui.widgets.train.readouts import (
    Readouts,
    data_names,
    format_duration,
    format_loss,
    run_summary,
)
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, ProgressBar, Static
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from minigpt2.core.train.plan import TrainEvent

TRAINER_NICENESS = 10  # the trainer thread gives way to the UI thread when both want a core
SAMPLE_LINES = 4  # the latest few, as makemore prints them
NO_SAMPLES = Text("Names from the model appear here while it trains.", style="dim")


class TrainPane(Horizontal):
    """Its keys (F5, F6, F7, ctrl+s, ctrl+o) are bound on the app: they work anywhere."""

    state: reactive[TrainState] = reactive(TrainState.IDLE, bindings=True)
    """The engine's training state as this pane last heard it (TrainingStateChanged), in
    step with the events shown; drives the buttons and readouts. Set from those messages."""

    def __init__(self, engine: Engine, datasets: list[DatasetInfo], presets: list[Preset], *,
                 data: str | Sequence[str] | None = None, preset: str,
                 autosave_to: Path | None = None, autosave_interval_s: float = AUTOSAVE_INTERVAL_S,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.engine = engine
        self.files = ModelFiles(engine)
        self.autosave_to = autosave_to  # where the model trained here is kept; None: nowhere
        self.autosave_interval_s = autosave_interval_s
        self._form_args = (datasets, presets, data or DEFAULT_DATASET, preset)
        self.last_event: TrainEvent | None = None
        self._starting = ""  # the message while a run starts
        self.sample_lines: deque[str] = deque(maxlen=SAMPLE_LINES)

    def compose(self) -> ComposeResult:
        datasets, presets, data, preset = self._form_args
        yield TrainForm(datasets, presets, data=data, preset=preset, id="train-form")
        with Vertical(id="train-live"):
            with Horizontal(classes="buttons", id="train-buttons"):
                yield Button("Start", id="start", variant="success", compact=True,
                             tooltip=tooltip(START))
                yield Button("Pause", id="pause", compact=True, tooltip=tooltip(PAUSE))
                yield Button("Stop", id="stop", variant="error", compact=True,
                             tooltip=tooltip(STOP))
                yield Button("Reset", id="reset", compact=True, tooltip=tooltip(RESET))
            yield Static("", id="train-message", classes="message")
            yield PresetChoice(engine=self.engine, id="preset-choice")
            yield Readouts(id="readouts")
            yield ProgressBar(total=1.0, show_eta=False, id="progress")
            yield LossChart(id="loss-chart")
            yield Static(NO_SAMPLES, id="samples")

    def on_mount(self) -> None:
        self.query_one("#samples").border_title = "Names as it learns"
        # Posted on the thread that changes the state: a run's worker thread posts its event
        # batches here too, so the pane hears both in the order they happened.
        self.engine.status.watch(self._post_state)
        self.state = self.engine.train_state
        self._apply_state(self.state)
        self._plan_changed()

    def _post_state(self, state: TrainState, ended: RunEnd | None) -> None:
        self.post_message(TrainingStateChanged(state, ended))

    @on(TrainForm.PlanChanged)
    def _plan_changed(self) -> None:
        """Before Start: say what `auto` will choose for the data and bound in the form."""
        if self.state.active:
            return
        self.query_one(PresetChoice).show_plan(self.form.plan_or_none())

    @property
    def form(self) -> TrainForm:
        return self.query_one(TrainForm)

    @property
    def chart(self) -> LossChart:
        return self.query_one(LossChart)

    @property
    def readouts(self) -> Readouts:
        return self.query_one(Readouts)

    def readout(self, name: str) -> str:
        """The value shown under `name`, e.g. readout("train-loss") == "2.3412"."""
        return self.readouts.values[name]

    def set_data(self, source: str | Sequence[str]) -> None:
        self.form.set_data(source)

    def plan(self) -> TrainPlan:
        return self.form.plan()

    def show_message(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#train-message", Static)
        message.update(Text(text))  # plain text: paths and names may hold [brackets]
        message.set_class(error, "error")

    # --- actions (keys, buttons and the command palette) ---------------------------------

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()  # start, pause (or resume), stop, reset, save, load
        name = "toggle_pause" if event.button.id == "pause" else event.button.id
        getattr(self, f"action_{name}", lambda: None)()

    def action_toggle_pause(self) -> None:
        self.action_resume() if self.engine.train_state.can_resume else self.action_pause()

    def action_toggle_run(self) -> None:
        """Start, pause or resume: whichever makes sense now (for the command palette)."""
        self.action_toggle_pause() if self.engine.train_state.active else self.action_start()

    def action_start(self, plan: TrainPlan | None = None) -> None:
        if self.engine.train_state.active:
            return
        try:
            plan = plan or self.plan()
        except ValueError as exc:
            self.show_message(str(exc), error=True)
            self.app.bell()
            return
        if not self.engine.begin():
            return
        continuing = self.form.continue_current
        if not continuing:
            self._clear_run()
        self._starting = ("Training the current model further…" if continuing else
                          f"Training the {plan.preset} preset on {data_names(plan.data)}…")
        self.show_message(self._starting)
        self._train(plan, continuing)

    # The engine changes the state; the pane shows it when the engine's message comes.

    def action_pause(self) -> None:
        if self.engine.train_state.can_pause:
            self.engine.pause()

    def action_resume(self) -> None:
        if self.engine.train_state.can_resume:
            self.engine.resume()

    def action_stop(self) -> None:
        if self.engine.train_state.can_stop:
            self.engine.stop()

    def action_reset(self) -> None:
        if self.engine.train_state.active:
            return
        try:
            self.engine.reset()
        except EngineError as exc:
            self.show_message(str(exc), error=True)
            return
        self._clear_run()
        self.show_message("Cleared. Press Start (F5) to train a fresh model.")

    # --- model files: the engine saves and loads, on a worker thread ----------------------

    def action_save(self) -> None:
        path = Path(self.form.checkpoint_path or DEFAULT_CHECKPOINT_FILE).expanduser()
        self._use_files(self.files.save, path)

    def action_load(self) -> None:
        if self.engine.train_state.active:
            return
        if not self.form.checkpoint_path:
            self.show_message("Type the checkpoint file to load.", error=True)
            return
        self.show_message(f"Loading {self.form.checkpoint_path}…")
        self._use_files(self.files.load, Path(self.form.checkpoint_path).expanduser())

    @work(thread=True, exclusive=True, group="checkpoint", exit_on_error=False)
    def _use_files(self, use: Callable[[Path], Message], path: Path) -> None:
        self.post_message(use(path))

    @on(Said)
    def _said(self, message: Said) -> None:
        message.stop()
        self.show_message(message.text, error=message.error)
        self.app.notify(message.text, severity="error" if message.error else "information",
                        timeout=8 if message.error else 4, markup=False)

    # --- workers: they talk back through messages only -------------------------------------

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, plan: TrainPlan, continue_current: bool) -> None:
        worker = get_current_worker()
        yield_to_the_ui()

        def deliver(events: list[TrainEvent]) -> None:
            if not worker.is_cancelled:
                self.post_message(TrainingProgress(events))

        autosave = (
            Autosave(self.autosave_to, self.autosave_interval_s) if self.autosave_to else None
        )
        def loading(what: str, done: float) -> None:
            if not worker.is_cancelled:
                self.post_message(TrainingLoading(what, done))

        try:
            self.engine.train(plan, deliver, continue_current=continue_current,
                              autosave=autosave, on_load=loading)
        except Exception:  # keep the app alive whatever goes wrong in the core: the
            pass  # engine's state change (TrainingStateChanged) says how the run ended
        finally:
            release_free_memory()  # the run's freed heap, back to the system

    # --- what the trainer reports ----------------------------------------------------------

    @on(TrainingLoading)
    def _loading(self, message: TrainingLoading) -> None:
        message.stop()
        if self.state is TrainState.STARTING:  # the words load on the worker: no freeze
            done = message.done < 1
            self.show_message(f"{self._starting} Loading the words: {message.what}, "
                              f"{message.done:.0%}." if done else self._starting)
            self.query_one(ProgressBar).update(total=1.0, progress=message.done)

    @on(TrainingProgress)
    def _progress(self, message: TrainingProgress) -> None:
        message.stop()
        if not message.events:
            return
        train: list[tuple[float, float]] = []
        val: list[tuple[float, float]] = []
        for event in message.events:
            if event.kind == "progress" and event.train_loss is not None:
                train.append((event.step, event.train_loss))
            elif event.kind == "eval" and event.val_loss is not None:
                val.append((event.step, event.val_loss))
            elif event.kind == "samples" and event.samples:
                self.sample_lines.append(f"step {event.step:>6,} │ {'  '.join(event.samples)}")
                self._show_samples()
        first = self.last_event is None
        if first:
            self.chart.label_validation(message.events[0].val_subset_words)
        self.chart.add(train, val)
        # Only "progress" events carry a train loss and only "eval" ones a fresh val loss:
        # show the latest of each in the batch, with the counters of its last event.
        self._show_event(message.events[-1], train[-1][1] if train else None,
                         val[-1][1] if val else None)
        if first or val:  # Explore can sample the weights in training; a new epoch is in
            self.post_message(ModelChanged(None, "training"))

    def _show_samples(self) -> None:
        """Newest first: a box cut short (a small terminal) still shows the latest names."""
        text = Text("\n".join(reversed(self.sample_lines))) if self.sample_lines else NO_SAMPLES
        self.query_one("#samples", Static).update(text, layout=False)  # fixed height

    def _show_event(self, event: TrainEvent, train_loss: float | None,
                    val_loss: float | None) -> None:
        self.last_event = event
        self.readouts.show_event(event, train_loss, val_loss)
        if event.progress is not None:
            self.query_one(ProgressBar).update(total=1.0, progress=event.progress)

    @on(TrainingStateChanged)
    def _state_changed(self, message: TrainingStateChanged) -> None:
        """The engine's state, in step with the events: shown here, then on to the app. A
        run's end comes with its state, in this one handler: "done" with its summary."""
        self.state = message.state  # first: the chart is redrawn at its size after the run
        if message.ended is not None:
            self._show_end(message.ended)

    def _show_end(self, end: RunEnd) -> None:
        result, info = end.result, end.info
        if end.error is not None:
            self.show_message(end.error, error=True)
            self.app.notify(end.error, severity="error", timeout=10, markup=False)
            return
        if result is None or info is None:  # stopped before the first step: nothing changed
            self.show_message("Stopped before the first step.")
            return
        error = self.engine.autosave_error
        kept = f"Not kept: {error}" if error else "Kept for next time." if self.autosave_to else ""
        self.readouts.update(**{"train-loss": format_loss(result.train_loss),
                                "val-loss": format_loss(result.val_loss),
                                "remaining": format_duration(0)})
        if not result.stopped:
            self.query_one(ProgressBar).update(progress=1.0)
        self.chart.redraw_now()
        self.show_message(run_summary(result, kept))
        self.post_message(ModelChanged(info, "stopped" if result.stopped else "finished"))

    def show_history(self, info: ModelInfo) -> None:
        """Show a loaded model's past evaluations in the chart and readouts."""
        if self.engine.train_state.active:
            return
        self._clear_run()
        self.chart.add([(s, t) for s, t, _ in info.history], [(s, v) for s, _, v in info.history])
        self.chart.redraw_now()
        self.readouts.update(step=f"{info.step:,}")
        if info.history:
            _, train_loss, val_loss = info.history[-1]
            self.readouts.update(**{"train-loss": format_loss(train_loss),
                                    "val-loss": format_loss(val_loss)})

    def _clear_run(self) -> None:
        self.last_event = None
        self.chart.clear()
        self.sample_lines.clear()
        self._show_samples()
        self.query_one(ProgressBar).update(total=1.0, progress=0)
        self.readouts.clear()

    def on_unmount(self) -> None:
        self.engine.status.unwatch(self._post_state)
        # The trainer thread cannot be killed: ask it to stop, or quitting would wait for
        # the end of the run (and forever on a paused one).
        if self.engine.train_state.active:
            self.engine.stop()

    # --- state -----------------------------------------------------------------------------

    def watch_state(self, state: TrainState) -> None:
        if self.is_mounted:
            self._apply_state(state)

    def _apply_state(self, state: TrainState) -> None:
        self.readouts.update(state=state.label)
        self.set_class(state.active, "-training")
        self.readouts.highlight = "state" if state.active else None
        self.form.set_locked(state.active)
        self.query_one("#start", Button).disabled = state.active
        pause = self.query_one("#pause", Button)
        pause.disabled = not (state.can_pause or state.can_resume)
        pause.label = "Resume" if state.can_resume else "Pause"
        self.query_one("#stop", Button).disabled = not state.can_stop
        self.query_one("#reset", Button).disabled = state.active


def yield_to_the_ui() -> None:
    """Lower this thread's CPU priority (Linux: per thread), so that on a busy machine the
    event loop is not kept waiting for a core by the trainer: typing and tab switches stay
    quick, training slows only while the UI works. Elsewhere, or if refused, nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), TRAINER_NICENESS)
    except (AttributeError, OSError):
        pass
