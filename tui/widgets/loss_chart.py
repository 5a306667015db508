"""The live chart of train and validation loss against the step."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

MAX_PLOTTED = 300  # points per curve handed to plotext: its cost grows with the count
REDRAW_INTERVAL_S = 0.5  # plotext takes ~10 ms a frame; twice a second is plenty

Point = tuple[float, float]


def thin(points: list[Point], limit: int = MAX_PLOTTED) -> list[Point]:
    """Every k-th point so at most `limit` remain; the last point always stays."""
    if len(points) <= limit:
        return points
    stride = -(-len(points) // limit)  # ceiling division
    kept = points[::stride]
    return kept if kept[-1] == points[-1] else [*kept, points[-1]]


class LossChart(PlotextPlot):
    """Keeps every point and redraws at most twice a second, so a fast trainer costs the
    event loop a few milliseconds a second, not one plot per step."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.train_points: list[Point] = []
        self.val_points: list[Point] = []
        self._dirty = False

    def on_mount(self) -> None:
        super().on_mount()
        # A legend in the border: plotext's own would cover the first, highest points.
        self.border_title = "Loss  [$primary]━━ train[/]  [$warning]━━ validation[/]"
        self.set_interval(REDRAW_INTERVAL_S, self._redraw_if_dirty)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._mark_dirty())

    def add(self, train: Iterable[Point] = (), val: Iterable[Point] = ()) -> None:
        before = len(self.train_points) + len(self.val_points)
        self.train_points.extend(train)
        self.val_points.extend(val)
        if len(self.train_points) + len(self.val_points) != before:
            self._mark_dirty()

    def clear(self) -> None:
        self.train_points.clear()
        self.val_points.clear()
        self._mark_dirty()

    def redraw_now(self) -> None:
        """Skip the wait (for tests and screenshots)."""
        self._dirty = True
        self._redraw_if_dirty()

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        variables = self.app.theme_variables
        plt.xlabel("step")
        everything = self.train_points + self.val_points
        if everything:
            self._frame(everything)
        for points, colour in (
            (self.train_points, variables.get("primary", "#0178d4")),
            (self.val_points, variables.get("warning", "#ffa62b")),
        ):
            if points:
                xs, ys = zip(*thin(points), strict=True)
                plt.plot(list(xs), list(ys), marker="braille", color=Color.parse(colour).rgb)
        self.refresh()

    def _frame(self, points: list[Point]) -> None:
        """Whole-number steps on x; on y, the interesting range: a first loss many times
        the current one (a large learning rate's first steps) would flatten the rest."""
        steps = [x for x, _ in points]
        low, high = min(steps), max(steps)
        if high > low:
            ticks = sorted({round(low + (high - low) * i / 4) for i in range(5)})
            self.plt.xticks([float(t) for t in ticks], [f"{t:,}" for t in ticks])
        losses = [y for _, y in points]
        floor = min(losses)
        ceiling = min(max(losses), max(floor * 2.5, floor + 1.0))
        self.plt.ylim(floor * 0.97, ceiling)

    def render(self) -> RenderResult:
        if not self.train_points and not self.val_points:
            return Text("The train and validation loss curves appear here once training runs.",
                        style="dim", justify="center")
        return super().render()
