"""Train: choose data, preset and hyperparameters; start, pause, resume, stop, reset;
watch the loss, the progress and a few names from the model as it learns."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)
from textual.worker import get_current_worker

from ...core.data import DEFAULT_DATASET
from ...core.training import TrainPlan
from ..engine import (
    DatasetChoice,
    Engine,
    EngineError,
    ModelInfo,
    PresetChoice,
)
from ..messages import (
    ModelChanged,
    TrainingEnded,
    TrainingProgress,
    TrainingStateChanged,
    TrainState,
)
from .loss_chart import LossChart

if TYPE_CHECKING:
    from ...core.training import TrainEvent

WORD_FILE = "__file__"  # the Select value meaning "a word list of your own"
DEFAULT_CHECKPOINT_FILE = "runs/minigpt2.safetensors"
ACTIVE = ("starting", "running", "pausing", "paused", "stopping")
SAMPLE_LINES = 4  # the latest few, as makemore prints them
READOUTS = {"state": "State", "step": "Step", "epoch": "Epoch", "tokens-per-s": "Tokens/s",
            "train-loss": "Train loss", "val-loss": "Val loss", "elapsed": "Elapsed",
            "remaining": "Remaining"}
NO_SAMPLES = Text("A few names from the model appear here every few seconds while it trains.",
                  style="dim")
FIELD_LABELS = {"epochs": "Epochs", "time-budget": "Time budget (s)", "batch-size": "Batch size",
                "lr": "Learning rate", "seed": "Seed"}


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_rate(tokens_per_s: float) -> str:
    if tokens_per_s >= 1e6:
        return f"{tokens_per_s / 1e6:.1f}M"
    if tokens_per_s >= 1e3:
        return f"{tokens_per_s / 1e3:.1f}k"
    return f"{tokens_per_s:.0f}"


def _loss(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


class Readouts(Widget):
    """Labels over values in a grid, e.g. 'Train loss' over '2.3412', drawn as one widget:
    the trainer updates all of them a few times a second, and one widget is one repaint."""

    DEFAULT_CSS = """
    Readouts {
        height: 4;
    }
    """

    def __init__(self, labels: dict[str, str], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.labels = labels
        self.values = dict.fromkeys(labels, "—")
        self.highlight: str | None = None  # a key whose value stands out (the state)

    def update(self, **values: str) -> None:
        if any(self.values.get(key) != value for key, value in values.items()):
            self.values.update(values)
            self.refresh()

    def render(self) -> Text:
        columns = 4
        width = max(8, self.size.width // columns)
        keys = list(self.labels)
        text = Text(no_wrap=True, overflow="crop")
        for start in range(0, len(keys), columns):
            row = keys[start:start + columns]
            for key in row:
                text.append(self.labels[key].ljust(width), style="dim")
            text.append("\n")
            for key in row:
                style = "bold reverse" if key == self.highlight else "bold"
                text.append(self.values[key][: width - 1], style=style)
                text.append(" " * (width - min(len(self.values[key]), width - 1)))
            text.append("\n")
        text.rstrip()
        return text


class TrainPane(Vertical):
    """The form on the left, the live readouts on the right. Its keys (F5, F6, F7, ctrl+s,
    ctrl+o) are bound on the app, so that they work wherever the focus is."""

    state: reactive[TrainState] = reactive("idle", bindings=True)
    """Where the training is; drives the buttons, the footer and the status line."""

    def __init__(self, engine: Engine, datasets: list[DatasetChoice],
                 presets: list[PresetChoice], *, data: str | None = None,
                 preset: str = "default", checkpoint_file: str = DEFAULT_CHECKPOINT_FILE,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.engine = engine
        self.datasets = datasets
        self.presets = {p.name: p for p in presets}
        self._initial_data = data or "seed"
        self._initial_preset = preset if preset in self.presets else next(iter(self.presets))
        self._checkpoint_file = checkpoint_file
        self.last_event: TrainEvent | None = None
        self.events_seen = 0
        self.sample_lines: deque[str] = deque(maxlen=SAMPLE_LINES)

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="train-form", classes="form"):
            yield Label("Data", classes="field-label")
            yield Select(self._data_options(), value=self._initial_data_choice(),
                         allow_blank=False, id="data-select", compact=True)
            yield Input(value=self._initial_data_path(), id="data-file", compact=True,
                        placeholder="path/to/words.txt (one name per line)")
            yield Label("Preset", classes="field-label")
            yield Select([(name, name) for name in self.presets], allow_blank=False,
                         value=self._initial_preset, id="preset-select", compact=True)
            yield Static("", id="preset-description", classes="hint")
            with Horizontal(classes="field-row"):
                yield self._field("epochs", "integer")
                yield self._field("time-budget", "number")
            with Horizontal(classes="field-row"):
                yield self._field("batch-size", "integer")
                yield self._field("lr", "number")
            with Horizontal(classes="field-row"):
                yield self._field("seed", "integer")
            yield Checkbox("Continue from the current model", id="continue", compact=True,
                           tooltip="Train the model in use further instead of a new one")
            yield Label("Checkpoint file", classes="field-label")
            yield Input(value=self._checkpoint_file, id="checkpoint-path", compact=True,
                        placeholder="model.safetensors")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", tooltip="Save the model to this file (ctrl+s)")
                yield Button("Load", id="load",
                             tooltip="Load a model from this file into Explore (ctrl+o)")
        with Vertical(id="train-live"):
            with Horizontal(classes="buttons", id="train-buttons"):
                yield Button("Start", id="start", variant="success",
                             tooltip="Train a model with the settings on the left (F5)")
                yield Button("Pause", id="pause", tooltip="Pause or resume training (F5)")
                yield Button("Stop", id="stop", variant="error",
                             tooltip="Stop early and keep the model as it is (F6)")
                yield Button("Reset", id="reset", tooltip="Clear the run; start afresh (F7)")
            yield Static("", id="train-message", classes="message")
            yield Readouts(READOUTS, id="readouts")
            yield ProgressBar(total=1.0, show_eta=False, id="progress")
            yield LossChart(id="loss-chart")
            yield Static(NO_SAMPLES, id="samples")

    @staticmethod
    def _field(name: str, kind: str) -> Vertical:
        return Vertical(
            Label(FIELD_LABELS[name], classes="field-label"),
            Input(id=name, type=kind, valid_empty=True, compact=True),  # type: ignore[arg-type]
            classes="field",
        )

    def _data_options(self) -> list[tuple[str, str]]:
        options = [(f"{d.name} ({d.count:,} names)", d.name) for d in self.datasets]
        return [*options, ("A word file of my own…", WORD_FILE)]

    def _initial_data_choice(self) -> str:
        builtin = {d.name for d in self.datasets}
        return self._initial_data if self._initial_data in builtin else WORD_FILE

    def _initial_data_path(self) -> str:
        return "" if self._initial_data_choice() != WORD_FILE else self._initial_data

    def on_mount(self) -> None:
        self.query_one("#samples").border_title = "Names from the model as it learns"
        self._show_preset(self._initial_preset)
        self._show_data_file(self._initial_data_choice() == WORD_FILE)
        self._apply_state(self.state)

    # --- widgets by name -------------------------------------------------------------------

    @property
    def chart(self) -> LossChart:
        return self.query_one(LossChart)

    @property
    def readouts(self) -> Readouts:
        return self.query_one(Readouts)

    def readout(self, name: str) -> str:
        """The value shown under `name`, e.g. readout("train-loss") == "2.3412"."""
        return self.readouts.values[name]

    def _input(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    # --- the form --------------------------------------------------------------------------

    @on(Select.Changed, "#preset-select")
    def _preset_changed(self, event: Select.Changed) -> None:
        self._show_preset(str(event.value))

    @on(Select.Changed, "#data-select")
    def _data_changed(self, event: Select.Changed) -> None:
        self._show_data_file(event.value == WORD_FILE)

    def _show_data_file(self, visible: bool) -> None:
        data_file = self._input("data-file")
        data_file.display = visible
        if visible and self.is_mounted and self.app.focused is self.query_one("#data-select"):
            data_file.focus()

    def _show_preset(self, name: str) -> None:
        preset = self.presets.get(name)
        if preset is None:
            return
        self.query_one("#preset-description", Static).update(preset.description)
        # The placeholders show what an empty field means: the preset's value.
        self._input("epochs").placeholder = str(preset.epochs) if preset.epochs else "—"
        self._input("time-budget").placeholder = (
            f"{preset.time_budget_s:g}" if preset.time_budget_s else "—")
        self._input("batch-size").placeholder = str(preset.batch_size)
        self._input("lr").placeholder = f"{preset.lr:g}"
        self._input("seed").placeholder = str(preset.seed)

    def set_data(self, source: str) -> None:
        """Choose `source` (a built-in name or a path) in the form."""
        if source in {d.name for d in self.datasets}:
            self.query_one("#data-select", Select).value = source
        else:
            self.query_one("#data-select", Select).value = WORD_FILE
            self._input("data-file").value = source

    def plan(self) -> TrainPlan:
        """The form as a training plan. Raises ValueError naming the bad field."""
        choice = self.query_one("#data-select", Select).value
        data = self._input("data-file").value.strip() if choice == WORD_FILE else str(choice)
        if not data:
            raise ValueError("Choose a word file: type its path under Data.")
        return TrainPlan(
            data=data,
            preset=str(self.query_one("#preset-select", Select).value),
            epochs=self._integer("epochs", minimum=1),
            time_budget_s=self._number("time-budget", minimum=0.1),
            batch_size=self._integer("batch-size", minimum=1),
            lr=self._number("lr", minimum=1e-7),
            seed=self._integer("seed", minimum=0),
        )

    @property
    def continue_current(self) -> bool:
        return self.query_one("#continue", Checkbox).value

    def _integer(self, name: str, minimum: int) -> int | None:
        value = self._number(name, minimum, whole=True)
        return None if value is None else int(value)

    def _number(self, name: str, minimum: float, *, whole: bool = False) -> float | None:
        """The field's value; None if empty (the preset's value). Raises ValueError."""
        text = self._input(name).value.strip()
        if not text:
            return None
        label = FIELD_LABELS[name]
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise ValueError(f"{label}: {text!r} is not {kind}.") from None
        if value < minimum:
            raise ValueError(f"{label}: must be at least {minimum:g}.")
        return value

    def show_message(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#train-message", Static)
        message.update(Text(text))  # plain text: paths and names may hold [brackets]
        message.set_class(error, "error")

    # --- actions (keys, buttons and the command palette) ---------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """False: the key is hidden; None: shown greyed out; True: it works now."""
        state = self.state
        shown = {
            "start": state not in ACTIVE,
            "pause": state in ("starting", "running"),
            "resume": state in ("pausing", "paused"),
        }
        if action in shown:
            return shown[action]
        enabled = {
            "stop": state in ("starting", "running", "pausing", "paused"),
            "reset": state not in ACTIVE,
            "save": state not in ("starting", "stopping"),
            "load": state not in ACTIVE,
        }
        return enabled.get(action, True) or None  # None: shown greyed out

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        action = {
            "start": self.action_start, "pause": self.action_toggle_pause,
            "stop": self.action_stop, "reset": self.action_reset,
            "save": self.action_save, "load": self.action_load,
        }.get(event.button.id or "")
        if action is not None:
            action()

    def action_toggle_pause(self) -> None:
        if self.state in ("pausing", "paused"):
            self.action_resume()
        else:
            self.action_pause()

    def action_toggle_run(self) -> None:
        """Start, pause or resume: whichever makes sense now (for the command palette)."""
        if self.state not in ACTIVE:
            self.action_start()
        else:
            self.action_toggle_pause()

    def action_start(self, plan: TrainPlan | None = None) -> None:
        if self.state in ACTIVE:
            return
        try:
            plan = plan or self.plan()
        except ValueError as exc:
            self.show_message(str(exc), error=True)
            self.app.bell()
            return
        if not self.continue_current:
            self._clear_run()
        data = Path(plan.data or DEFAULT_DATASET).name
        self.show_message(f"Training the {plan.preset} preset on {data}…")
        self.state = "starting"
        self._train(plan, self.continue_current)

    def action_pause(self) -> None:
        if self.state in ("starting", "running"):
            self.engine.pause()
            self.state = "pausing"

    def action_resume(self) -> None:
        if self.state in ("pausing", "paused"):
            self.engine.resume()
            self.state = "running"

    def action_stop(self) -> None:
        if self.state in ("starting", "running", "pausing", "paused"):
            self.engine.stop()
            self.state = "stopping"

    def action_reset(self) -> None:
        if self.state in ACTIVE:
            return
        try:
            self.engine.reset()
        except EngineError as exc:
            self.show_message(str(exc), error=True)
            return
        self._clear_run()
        self.show_message("Cleared. Press Start (F5) to train a fresh model.")
        self.state = "idle"

    def action_save(self) -> None:
        path = Path(self._input("checkpoint-path").value.strip() or DEFAULT_CHECKPOINT_FILE)
        self._save(path)

    def action_load(self) -> None:
        if self.state in ACTIVE:
            return
        path = self._input("checkpoint-path").value.strip()
        if not path:
            self.show_message("Type the checkpoint file to load.", error=True)
            return
        self.show_message(f"Loading {path}…")
        self._load(Path(path).expanduser())

    # --- workers ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="train", exit_on_error=False)
    def _train(self, plan: TrainPlan, continue_current: bool) -> None:
        worker = get_current_worker()

        def deliver(events: list[TrainEvent]) -> None:
            if not worker.is_cancelled:
                self.post_message(TrainingProgress(events))

        try:
            outcome = self.engine.train(plan, deliver, continue_current=continue_current)
        except EngineError as exc:
            self.post_message(TrainingEnded(None, str(exc)))
        except Exception as exc:  # keep the app alive whatever goes wrong in the core
            self.post_message(TrainingEnded(None, f"Training failed: {exc!r}"))
        else:
            self.post_message(TrainingEnded(outcome))

    @work(thread=True, exclusive=True, group="checkpoint", exit_on_error=False)
    def _save(self, path: Path) -> None:
        try:
            step = self.engine.save_checkpoint(path)
        except EngineError as exc:
            self.app.call_from_thread(self._report, str(exc), True)
        else:
            self.app.call_from_thread(self._report, f"Saved the model (step {step:,}) to {path}.",
                                      False)

    @work(thread=True, exclusive=True, group="checkpoint", exit_on_error=False)
    def _load(self, path: Path) -> None:
        try:
            info = self.engine.load_checkpoint(path)
        except EngineError as exc:
            self.app.call_from_thread(self._report, str(exc), True)
        else:
            # The app shows its history and says so here; Explore samples from it.
            self.post_message(ModelChanged(info, "loaded", path.name))

    def _report(self, text: str, error: bool) -> None:
        self.show_message(text, error=error)
        self.app.notify(text, severity="error" if error else "information",
                        timeout=8 if error else 4, markup=False)

    # --- what the worker reports -----------------------------------------------------------

    @on(TrainingProgress)
    def _progress(self, message: TrainingProgress) -> None:
        message.stop()
        if not message.events:
            return
        train: list[tuple[float, float]] = []
        val: list[tuple[float, float]] = []
        for event in message.events:
            self.events_seen += 1
            if event.kind == "progress" and event.train_loss is not None:
                train.append((event.step, event.train_loss))
            elif event.kind == "eval" and event.val_loss is not None:
                val.append((event.step, event.val_loss))
            elif event.kind == "samples" and event.samples:
                self.sample_lines.append(f"step {event.step:>6,} │ {'  '.join(event.samples)}")
                self._show_samples()
            elif event.kind == "paused":
                self.state = "paused"
            elif event.kind == "resumed" and self.state != "stopping":
                self.state = "running"
        first = self.last_event is None
        self.chart.add(train, val)
        # Only "progress" events carry a train loss and only "eval" ones a fresh val loss:
        # show the latest of each in the batch, with the counters of its last event.
        self._show_event(message.events[-1], train[-1][1] if train else None,
                         val[-1][1] if val else None)
        if self.state == "starting":
            self.state = "running"
        if first or val:  # Explore can sample the weights in training; a new epoch is in
            self.post_message(ModelChanged(None, "training"))

    def _show_samples(self) -> None:
        text = Text("\n".join(self.sample_lines)) if self.sample_lines else NO_SAMPLES
        self.query_one("#samples", Static).update(text, layout=False)  # fixed height

    def _show_event(self, event: TrainEvent, train_loss: float | None,
                    val_loss: float | None) -> None:
        self.last_event = event
        total = f"/{event.total_steps:,}" if event.total_steps else ""
        values = {
            "step": f"{event.step:,}{total}", "epoch": f"{event.epoch:.2f}",
            "tokens-per-s": format_rate(event.tokens_per_s),
            "elapsed": format_duration(event.elapsed_s),
            "remaining": format_duration(event.remaining_s),
        }
        if train_loss is not None:
            values["train-loss"] = _loss(train_loss)
        val_loss = val_loss if val_loss is not None else event.val_loss
        if val_loss is not None:
            values["val-loss"] = _loss(val_loss)
        self.readouts.update(**values)
        if event.progress is not None:
            self.query_one(ProgressBar).update(total=1.0, progress=event.progress)

    @on(TrainingEnded)
    def _ended(self, message: TrainingEnded) -> None:
        message.stop()
        if message.outcome is None:
            self.state = "failed"
            self.show_message(message.error or "Training failed.", error=True)
            self.app.notify(message.error or "Training failed.", severity="error", timeout=10,
                            markup=False)
            return
        outcome = message.outcome
        if outcome.info is None:  # stopped before the first step: nothing changed
            self.state = "idle"
            self.show_message("Stopped before the first step.")
            return
        how = "Stopped" if outcome.stopped else "Finished"
        self.readouts.update(**{"train-loss": _loss(outcome.train_loss),
                                "val-loss": _loss(outcome.val_loss),
                                "remaining": format_duration(0)})
        if not outcome.stopped:
            self.query_one(ProgressBar).update(progress=1.0)
        self.state = "done"
        self.chart.redraw_now()
        self.show_message(
            f"{how} at step {outcome.steps:,}: train loss {_loss(outcome.train_loss)}, "
            f"val loss {_loss(outcome.val_loss)}. Explore the names, or save the model.")
        self.post_message(ModelChanged(outcome.info, "stopped" if outcome.stopped else "finished"))


    def show_history(self, info: ModelInfo) -> None:
        """Show a loaded model's past evaluations in the chart and readouts."""
        if self.state in ACTIVE:
            return
        self._clear_run()
        self.chart.add([(s, t) for s, t, _ in info.history], [(s, v) for s, _, v in info.history])
        self.chart.redraw_now()
        self.readouts.update(step=f"{info.step:,}")
        if info.history:
            _, train_loss, val_loss = info.history[-1]
            self.readouts.update(**{"train-loss": _loss(train_loss), "val-loss": _loss(val_loss)})

    def _clear_run(self) -> None:
        self.last_event = None
        self.events_seen = 0
        self.chart.clear()
        self.sample_lines.clear()
        self._show_samples()
        self.query_one(ProgressBar).update(total=1.0, progress=0)
        self.readouts.update(**{name: "—" for name in READOUTS if name != "state"})

    def on_unmount(self) -> None:
        # The trainer thread cannot be killed: ask it to stop, or quitting would wait for
        # the end of the run (and forever on a paused one).
        if self.state in ACTIVE:
            self.engine.stop()

    # --- state -----------------------------------------------------------------------------

    def watch_state(self, state: TrainState) -> None:
        if self.is_mounted:
            self._apply_state(state)
        self.post_message(TrainingStateChanged(state))

    def _apply_state(self, state: TrainState) -> None:
        active = state in ACTIVE
        self.readouts.update(state={
            "idle": "ready", "starting": "starting…", "running": "training",
            "pausing": "pausing…", "paused": "paused", "stopping": "stopping…",
            "done": "done", "failed": "failed",
        }[state])
        self.set_class(active, "-training")
        self.readouts.highlight = "state" if active else None
        for widget in self.query("#train-form Input, #train-form Select, #train-form Checkbox"):
            if widget.id != "checkpoint-path":
                widget.disabled = active
        self.query_one("#start", Button).disabled = active
        pause = self.query_one("#pause", Button)
        pause.disabled = state not in ("starting", "running", "pausing", "paused")
        pause.label = "Resume" if state in ("pausing", "paused") else "Pause"
        self.query_one("#stop", Button).disabled = not active or state == "stopping"
        self.query_one("#reset", Button).disabled = active
        self.query_one("#load", Button).disabled = active
