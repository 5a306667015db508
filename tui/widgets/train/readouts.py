"""The Train pane's live numbers: state, step, losses, speed and time, as one widget."""

from __future__ import annotations

from pathlib import Path

from minigpt2.core.data.words import DEFAULT_DATASET
from minigpt2.core.train.plan import TrainEvent, TrainResult
from rich.text import Text
from textual.widget import Widget

READOUTS = {"state": "State", "step": "Step", "epoch": "Epoch", "tokens-per-s": "Tokens/s",
            "train-loss": "Train loss", "val-loss": "Val loss", "elapsed": "Elapsed",
            "remaining": "Left"}
COLUMNS = 4
MIN_COLUMN = 11  # "Train loss" and a space


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


def format_loss(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def data_names(data: str | tuple[str, ...] | None) -> str:
    """The lists a run trains on, e.g. "animals + fruits-vegetables"."""
    sources = (data or DEFAULT_DATASET,) if isinstance(data, str | None) else data
    return " + ".join(Path(source).name for source in sources)


def run_summary(result: TrainResult, kept: str) -> str:
    """How a run ended, on which weights, and whether the model was kept."""
    said = (f"{'Stopped' if result.stopped else 'Finished'} at step {result.steps:,}: train "
            f"loss {format_loss(result.train_loss)}, val loss {format_loss(result.val_loss)}.")
    if result.best_step is not None:
        on = f" on {result.val_subset_words:,} of its words" if result.val_subset_words else ""
        said += (f" Ends on the best weights, from step {result.best_step:,} "
                 f"(val loss {format_loss(result.best_val_loss)}{on}).")
    return f"{said} {kept}".rstrip()


class Readouts(Widget):
    """Labels over values in a grid, e.g. 'Train loss' over '2.3412', drawn as one widget:
    the trainer updates all of them a few times a second, and one widget is one repaint.
    Four columns when they fit, else two; a label never runs into the next one."""

    DEFAULT_CSS = """
    Readouts {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.values = dict.fromkeys(READOUTS, "—")
        self.highlight: str | None = None  # a key whose value stands out (the state)

    def update(self, **values: str) -> None:
        if any(self.values.get(key) != value for key, value in values.items()):
            self.values.update(values)
            self.refresh()

    def show_event(self, event: TrainEvent, train_loss: float | None,
                   val_loss: float | None) -> None:
        """The counters of `event`; the losses given (the latest of a batch) if any."""
        total = f"/{event.total_steps:,}" if event.total_steps else ""
        values = {
            "step": f"{event.step:,}{total}", "epoch": f"{event.epoch:.2f}",
            "tokens-per-s": format_rate(event.tokens_per_s),
            "elapsed": format_duration(event.elapsed_s),
            "remaining": format_duration(event.remaining_s),
        }
        if train_loss is not None:
            values["train-loss"] = format_loss(train_loss)
        val_loss = val_loss if val_loss is not None else event.val_loss
        if val_loss is not None:
            values["val-loss"] = format_loss(val_loss)
        self.update(**values)

    def clear(self) -> None:
        self.update(**{name: "—" for name in READOUTS if name != "state"})

    def _columns(self, width: int) -> int:
        return COLUMNS if width >= COLUMNS * MIN_COLUMN else 2

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return 2 * -(-len(READOUTS) // self._columns(width))

    def render(self) -> Text:
        columns = self._columns(self.size.width)
        width = max(MIN_COLUMN, self.size.width // columns)
        keys = list(READOUTS)
        text = Text(no_wrap=True, overflow="crop")
        for start in range(0, len(keys), columns):
            row = keys[start:start + columns]
            for key in row:
                text.append(READOUTS[key][: width - 1].ljust(width), style="dim")
            text.append("\n")
            for key in row:
                style = "bold reverse" if key == self.highlight else "bold"
                value = self.values[key][: width - 1]
                text.append(value, style=style)
                text.append(" " * (width - len(value)))
            text.append("\n")
        text.rstrip()
        return text
