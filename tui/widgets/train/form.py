"""The Train form: the data (one or more lists), the preset and its overrides, the
checkpoint file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minigpt2.core.config import Preset
from minigpt2.core.data.words import DatasetInfo
from minigpt2.core.train.plan import TrainPlan
from minigpt2.tui.keymap import LOAD, SAVE, tooltip
from minigpt2.tui.widgets.fields import number_field, read_number
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.validation import Integer, Number, Validator
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static

WORD_FILE = "__file__"  # the data choice meaning "a word list of your own"
DataChoice = str | tuple[str, ...]  # one list, or several: each becomes a category
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

    class PlanChanged(Message):
        """The data, the preset or the bound changed: what `auto` chooses may differ."""

    def __init__(self, datasets: list[DatasetInfo], presets: list[Preset], *,
                 data: str | Sequence[str],
                 preset: str, checkpoint_file: str = DEFAULT_CHECKPOINT_FILE,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="form")
        self.datasets = datasets
        self.presets = {p.name: p for p in presets}
        self._initial_data = (data,) if isinstance(data, str) else tuple(data)
        self._initial_preset = preset if preset in self.presets else next(iter(self.presets))
        self._checkpoint_file = checkpoint_file

    def compose(self) -> ComposeResult:
        builtin = {d.name for d in self.datasets}
        own = [source for source in self._initial_data if source not in builtin]
        chosen = {*self._initial_data, *([WORD_FILE] if own else [])}
        yield Label("Data (one or more)", classes="field-label")
        yield SelectionList[str](*[(label, value, value in chosen)
                                   for label, value in self._data_options()],
                                 id="data-lists", compact=True)
        yield Input(value=own[0] if own else "", id="data-file", compact=True,
                    placeholder="path/to/words.txt (one per line)")
        yield Label("Preset", classes="field-label")
        yield Select([(name, name) for name in self.presets], allow_blank=False,
                     value=self._initial_preset, id="preset-select", compact=True)
        yield Static("", id="preset-description", classes="hint")
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
            yield Button("Save", id="save", compact=True, tooltip=tooltip(SAVE))
            yield Button("Load", id="load", compact=True, tooltip=tooltip(LOAD))

    @staticmethod
    def _field(name: str) -> Vertical:
        return number_field(FIELDS[name].label, name, FIELDS[name].validator)

    def _data_options(self) -> list[tuple[str, str]]:
        options = [(f"{d.name} ({d.count:,})", d.name) for d in self.datasets]
        return [*options, ("A word file of my own…", WORD_FILE)]

    def on_mount(self) -> None:
        self._show_preset(self._initial_preset)
        self._show_data_file(WORD_FILE in self.lists.selected)

    def input(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    @property
    def lists(self) -> SelectionList[str]:
        return self.query_one("#data-lists", SelectionList)

    # --- choices ---------------------------------------------------------------------------

    @on(Select.Changed, "#preset-select")
    def _preset_changed(self, event: Select.Changed) -> None:
        self._show_preset(str(event.value))
        self.post_message(self.PlanChanged())

    @on(SelectionList.SelectedChanged, "#data-lists")
    def _data_changed(self) -> None:
        own = WORD_FILE in self.lists.selected
        if own != self.input("data-file").display:
            self._show_data_file(own)
        self.post_message(self.PlanChanged())

    @on(Input.Changed, "#data-file, #epochs, #time-budget")
    def _bound_changed(self) -> None:
        self.post_message(self.PlanChanged())

    def _show_data_file(self, visible: bool) -> None:
        data_file = self.input("data-file")
        data_file.display = visible
        if visible and self.is_mounted and self.app.focused is self.lists:
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

    def set_data(self, source: str | Sequence[str]) -> None:
        """Choose `source`: a built-in name or a path, or several of them."""
        sources = (source,) if isinstance(source, str) else tuple(source)
        builtin = {d.name for d in self.datasets}
        own = [s for s in sources if s not in builtin]
        self.lists.deselect_all()
        for name in [*(s for s in sources if s in builtin), *([WORD_FILE] if own else [])]:
            self.lists.select(name)
        if own:
            self.input("data-file").value = own[0]

    @property
    def data(self) -> DataChoice:
        """The chosen lists in the order shown, the word file last; "" when none is."""
        selected = set(self.lists.selected)
        chosen = [d.name for d in self.datasets if d.name in selected]
        if WORD_FILE in selected and self.input("data-file").value.strip():
            chosen.append(self.input("data-file").value.strip())
        return chosen[0] if len(chosen) == 1 else tuple(chosen) if chosen else ""

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
            own = WORD_FILE in self.lists.selected
            raise ValueError("Choose a word file: type its path under Data." if own else
                             "Choose a word list under Data.")
        values = {name: read_number(self.input(name), FIELDS[name].label) for name in FIELDS}
        return TrainPlan(
            data=self.data, preset=self.preset,
            epochs=_int(values["epochs"]), time_budget_s=values["time-budget"],
            batch_size=_int(values["batch-size"]), lr=values["lr"], seed=_int(values["seed"]),
        )

    def plan_or_none(self) -> TrainPlan | None:
        try:
            return self.plan()
        except ValueError:
            return None

    def set_locked(self, locked: bool) -> None:
        """Disable the choices during a run; the checkpoint file stays editable for saving."""
        for widget in self.query("Input, Select, SelectionList, Checkbox"):
            if widget.id != "checkpoint-path":
                widget.disabled = locked
        self.query_one("#load", Button).disabled = locked


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
