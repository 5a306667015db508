"""The Train form: the data, the preset and its overrides, the checkpoint file."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Integer, Number, Validator
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ...core.config import Preset
from ...core.data import DatasetInfo
from ...core.training import TrainPlan
from .fields import number_field, read_number

WORD_FILE = "__file__"  # the Select value meaning "a word list of your own"
DEFAULT_CHECKPOINT_FILE = "runs/minigpt2.safetensors"


@dataclass(frozen=True)
class Field:
    label: str
    validator: Validator


# Empty means the preset's value; Textual's validators check what is typed.
FIELDS = {
    "epochs": Field("Epochs", Integer(minimum=1)),
    "time-budget": Field("Time (s)", Number(minimum=0.1)),
    "batch-size": Field("Batch", Integer(minimum=1)),
    "lr": Field("Learning rate", Number(minimum=1e-7)),
    "seed": Field("Seed", Integer(minimum=0)),
}


class TrainForm(VerticalScroll):
    """Reads as a `TrainPlan`; locked while a run is in progress."""

    def __init__(self, datasets: list[DatasetInfo], presets: list[Preset], *, data: str,
                 preset: str, checkpoint_file: str = DEFAULT_CHECKPOINT_FILE,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="form")
        self.datasets = datasets
        self.presets = {p.name: p for p in presets}
        self._initial_data = data
        self._initial_preset = preset if preset in self.presets else next(iter(self.presets))
        self._checkpoint_file = checkpoint_file

    def compose(self) -> ComposeResult:
        builtin = {d.name for d in self.datasets}
        own = self._initial_data not in builtin
        yield Label("Data", classes="field-label")
        yield Select(self._data_options(), value=WORD_FILE if own else self._initial_data,
                     allow_blank=False, id="data-select", compact=True)
        yield Input(value=self._initial_data if own else "", id="data-file", compact=True,
                    placeholder="path/to/words.txt (one per line)")
        yield Label("Preset", classes="field-label")
        yield Select([(name, name) for name in self.presets], allow_blank=False,
                     value=self._initial_preset, id="preset-select", compact=True)
        yield Static("", id="preset-description", classes="hint")
        yield Static("", id="preset-choice", classes="hint")  # what `auto` chose, one line
        with Horizontal(classes="field-row"):
            yield self._field("epochs")
            yield self._field("time-budget")
        with Horizontal(classes="field-row"):
            yield self._field("batch-size")
            yield self._field("seed")
        yield self._field("lr")
        yield Checkbox("Continue this model", id="continue", compact=True,
                       tooltip="Train the model in use further instead of a new one")
        yield Label("Checkpoint file", classes="field-label")
        yield Input(value=self._checkpoint_file, id="checkpoint-path", compact=True,
                    placeholder="model.safetensors")
        with Horizontal(classes="buttons"):
            yield Button("Save", id="save", compact=True,
                         tooltip="Save the model to this file (ctrl+s)")
            yield Button("Load", id="load", compact=True,
                         tooltip="Load a model from this file into Explore (ctrl+o)")

    @staticmethod
    def _field(name: str) -> Vertical:
        return number_field(FIELDS[name].label, name, FIELDS[name].validator)

    def _data_options(self) -> list[tuple[str, str]]:
        options = [(f"{d.name} ({d.count:,})", d.name) for d in self.datasets]
        return [*options, ("A word file of my own…", WORD_FILE)]

    def on_mount(self) -> None:
        self._show_preset(self._initial_preset)
        self._show_data_file(self.query_one("#data-select", Select).value == WORD_FILE)

    def input(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    # --- choices ---------------------------------------------------------------------------

    @on(Select.Changed, "#preset-select")
    def _preset_changed(self, event: Select.Changed) -> None:
        self._show_preset(str(event.value))

    @on(Select.Changed, "#data-select")
    def _data_changed(self, event: Select.Changed) -> None:
        self._show_data_file(event.value == WORD_FILE)

    def _show_data_file(self, visible: bool) -> None:
        data_file = self.input("data-file")
        data_file.display = visible
        if visible and self.is_mounted and self.app.focused is self.query_one("#data-select"):
            data_file.focus()

    def _show_preset(self, name: str) -> None:
        preset = self.presets.get(name)
        if preset is None:
            return
        self.query_one("#preset-description", Static).update(preset.description)
        # The placeholders show what an empty field means: the preset's value.
        train = preset.train
        self.input("epochs").placeholder = str(train.epochs) if train.epochs else "—"
        self.input("time-budget").placeholder = (
            f"{train.time_budget_s:g}" if train.time_budget_s else "—")
        self.input("batch-size").placeholder = str(train.batch_size)
        self.input("lr").placeholder = f"{train.lr:g}"
        self.input("seed").placeholder = str(train.seed)

    def show_choice(self, text: str) -> None:
        """One line under the preset: e.g. what the `auto` preset chose for this data."""
        self.query_one("#preset-choice", Static).update(text)

    def set_data(self, source: str) -> None:
        """Choose `source` (a built-in name or a path)."""
        if source in {d.name for d in self.datasets}:
            self.query_one("#data-select", Select).value = source
        else:
            self.query_one("#data-select", Select).value = WORD_FILE
            self.input("data-file").value = source

    @property
    def data(self) -> str:
        choice = self.query_one("#data-select", Select).value
        return self.input("data-file").value.strip() if choice == WORD_FILE else str(choice)

    @property
    def preset(self) -> str:
        return str(self.query_one("#preset-select", Select).value)

    def set_preset(self, name: str) -> None:
        if name in self.presets:
            self.query_one("#preset-select", Select).value = name

    @property
    def continue_current(self) -> bool:
        return self.query_one("#continue", Checkbox).value

    @property
    def checkpoint_path(self) -> str:
        return self.input("checkpoint-path").value.strip()

    def plan(self) -> TrainPlan:
        """The form as a training plan. Raises ValueError naming the bad field."""
        if not self.data:
            raise ValueError("Choose a word file: type its path under Data.")
        values = {name: read_number(self.input(name), FIELDS[name].label) for name in FIELDS}
        return TrainPlan(
            data=self.data, preset=self.preset,
            epochs=_int(values["epochs"]), time_budget_s=values["time-budget"],
            batch_size=_int(values["batch-size"]), lr=values["lr"], seed=_int(values["seed"]),
        )

    def set_locked(self, locked: bool) -> None:
        """Disable the choices during a run; the checkpoint file stays editable for saving."""
        for widget in self.query("Input, Select, Checkbox"):
            if widget.id != "checkpoint-path":
                widget.disabled = locked
        self.query_one("#load", Button).disabled = locked


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
