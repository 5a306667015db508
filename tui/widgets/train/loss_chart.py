"""The live chart of train and validation loss against the step.

Plotext draws the chart in 15-20 ms (more on a busy core), whatever the number of points:
the cost is the canvas. So the chart is drawn on a worker thread, at most twice a second and
only when its points, size or theme changed, and `render` shows the last drawing: a repaint,
a tab switch or a layout pass never draws it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import RenderResult
from textual.color import Color
from textual.geometry import Size
from textual.message import Message
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

REDRAW_INTERVAL_S = 0.5  # a fresh drawing at most this often while points arrive
DOTS_PER_CELL = 2  # braille: two dots across each character cell
# Plotext takes 3 rows for the axis, its ticks and label: under 4 rows of curve (a small
# terminal) its labels overlap, so one sparkline a curve is drawn instead, with its latest loss.
MIN_CHART_ROWS = 7
BARS = "▁▂▃▄▅▆▇█"

Point = tuple[float, float]
EMPTY = Text("The train and validation loss curves appear here once training runs.",
             style="dim", justify="center")


def downsample(points: list[Point], limit: int) -> list[Point]:
    """At most `limit` points: the mean of each run of consecutive points, so that a long
    history draws as many points as the chart has dots across, and noise averages out.
    The last point stays as it is: the latest loss is where the user looks."""
    count = len(points)
    if count <= limit:
        return points
    limit = max(2, limit)
    means = []
    for bucket in range(limit - 1):
        run = points[bucket * (count - 1) // (limit - 1):(bucket + 1) * (count - 1) // (limit - 1)]
        means.append((sum(x for x, _ in run) / len(run), sum(y for _, y in run) / len(run)))
    return [*means, points[-1]]


@dataclass(frozen=True)
class Drawing:
    """What a drawing was made of: a drawing for other inputs is stale."""

    version: int  # of the points
    size: Size
    theme: str


class LossChart(PlotextPlot):
    """Keeps every point; draws them off the event loop, downsampled to its width."""

    @dataclass
    class Drawn(Message):
        drawing: Drawing
        text: Text

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.train_points: list[Point] = []
        self.val_points: list[Point] = []
        self._version = 0
        self._shown: tuple[Drawing, Text] | None = None  # the drawing `render` shows
        self._drawing: Drawing | None = None  # the one being made on a worker thread

    def on_mount(self) -> None:
        super().on_mount()
        self.label_validation(None)
        self.set_interval(REDRAW_INTERVAL_S, self._redraw_if_stale)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._redraw_if_stale())

    def label_validation(self, subset_words: int | None) -> None:
        """The legend, in the border (plotext's own would cover the first, highest points);
        it says when the validation curve is on a subset of a large list's words."""
        subset = f" ({subset_words:,} words)" if subset_words else ""
        self.border_title = f"Loss  [$primary]━━ train[/]  [$warning]━━ validation{subset}[/]"

    def add(self, train: Iterable[Point] = (), val: Iterable[Point] = ()) -> None:
        before = len(self.train_points) + len(self.val_points)
        self.train_points.extend(train)
        self.val_points.extend(val)
        if len(self.train_points) + len(self.val_points) != before:
            self._version += 1

    def clear(self) -> None:
        self.train_points.clear()
        self.val_points.clear()
        self._version += 1
        self._shown = None
        self.refresh()

    def wanted(self) -> Drawing:
        return Drawing(self._version, self.size, self.app.theme)

    def up_to_date(self) -> bool:
        """The drawing shown is of the points, size and theme as they are; none is being made."""
        return self._drawing is None and self._shown is not None and \
            self._shown[0] == self.wanted()

    def redraw_now(self) -> None:
        """Draw on this thread, at once (the end of a run, a loaded model's history)."""
        drawing = self.wanted()
        if drawing.size.area:  # else not laid out yet: drawn once shown
            self._show(drawing, self._draw(drawing, *self._inputs()))

    def _redraw_if_stale(self) -> None:
        """Twice a second, and when the theme changes: a fresh drawing if the one shown is
        stale and the chart is on screen (a hidden chart is drawn when it is shown)."""
        drawing = self.wanted()
        stale = self._shown is None or self._shown[0] != drawing
        if not stale or drawing == self._drawing or not self._visible_now(drawing.size):
            return
        self._drawing = drawing
        self._draw_in_background(drawing, *self._inputs())

    def _visible_now(self, size: Size) -> bool:
        return bool(self.train_points or self.val_points) and size.area > 0 and \
            self.is_on_screen

    def _inputs(self) -> tuple[list[Point], list[Point], tuple[str, str]]:
        """Copies of the points and the theme's colours: the worker must not read them live."""
        variables = self.app.theme_variables
        colours = (variables.get("primary", "#0178d4"), variables.get("warning", "#ffa62b"))
        return list(self.train_points), list(self.val_points), colours

    @work(thread=True, exclusive=True, group="loss-chart", exit_on_error=False)
    def _draw_in_background(self, drawing: Drawing, train: list[Point], val: list[Point],
                            colours: tuple[str, str]) -> None:
        self.post_message(self.Drawn(drawing, self._draw(drawing, train, val, colours)))

    def on_loss_chart_drawn(self, message: Drawn) -> None:
        message.stop()
        if message.drawing == self._drawing:
            self._drawing = None
        if message.drawing.version >= (self._shown[0].version if self._shown else -1):
            self._show(message.drawing, message.text)

    def _show(self, drawing: Drawing, text: Text) -> None:
        self._shown = (drawing, text)
        self.refresh()  # this widget only: its size does not change

    def _draw(self, drawing: Drawing, train: list[Point], val: list[Point],
              colours: tuple[str, str]) -> Text:
        """The chart as plotext draws it, on a plot of its own (thread-safe)."""
        width, height = drawing.size
        if height < MIN_CHART_ROWS:
            return sparklines(width, train, val, colours)
        plt = Plot()
        plt.plotsize(width, height)
        plt._set_size(width, height)  # as PlotextPlot.render does: plotsize alone may not stick
        plt.theme(self._get_plotext_theme_name(drawing.theme))
        plt.xlabel("step")
        if train or val:
            _frame(plt, train + val)
        limit = DOTS_PER_CELL * width
        for points, colour in ((train, colours[0]), (val, colours[1])):
            if points:
                xs, ys = zip(*downsample(points, limit), strict=True)
                plt.plot(list(xs), list(ys), marker="braille", color=Color.parse(colour).rgb)
        text = Text.from_ansi(plt.build())
        text.no_wrap, text.overflow = True, "crop"  # shown at another size until redrawn
        return text

    def render(self) -> RenderResult:
        if not self.train_points and not self.val_points:
            return EMPTY
        if self._shown is None or self._shown[0] != self.wanted():
            self.call_later(self._redraw_if_stale)  # e.g. shown again, or resized
        return self._shown[1] if self._shown is not None else Text()


def sparklines(width: int, train: list[Point], val: list[Point], colours: tuple[str, str]
               ) -> Text:
    """A line a curve: "train ▇▅▃▂▂▁ 1.9326", both on one scale (the chart's), so that the
    validation line reads against the training one."""
    losses = [y for _, y in train + val]
    if not losses:
        return Text()
    low, high = loss_range(losses)
    text = Text(no_wrap=True, overflow="crop")
    for label, points, colour in (("train", train, colours[0]), ("val  ", val, colours[1])):
        if not points:
            continue
        latest = f" {points[-1][1]:.4f}"
        cells = max(1, width - len(label) - 1 - len(latest))
        levels = [(min(y, high) - low) / (high - low) if high > low else 0.0
                  for _, y in downsample(points, cells)]
        bars = "".join(BARS[round(level * (len(BARS) - 1))] for level in levels)
        if text:
            text.append("\n")
        text.append(f"{label} ", style="dim")
        text.append(bars, style=Color.parse(colour).hex)
        text.append(latest, style="bold")
    return text


def _frame(plt: Plot, points: list[Point]) -> None:
    """Whole-number steps on x; on y, the interesting range (loss_range)."""
    steps = [x for x, _ in points]
    low, high = min(steps), max(steps)
    if high > low:
        ticks = sorted({round(low + (high - low) * i / 4) for i in range(5)})
        plt.xticks([float(t) for t in ticks], [f"{t:,}" for t in ticks])
    floor, ceiling = loss_range([y for _, y in points])
    plt.ylim(floor * 0.97, ceiling)


def loss_range(losses: list[float]) -> tuple[float, float]:
    """The interesting range: a first loss many times the current one (a large learning
    rate's first steps) would flatten the rest."""
    floor = min(losses)
    return floor, min(max(losses), max(floor * 2.5, floor + 1.0))
