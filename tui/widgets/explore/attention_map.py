"""A small heatmap of a name's attention: which earlier characters each character looks at."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minigpt2.core.sample.request import AttentionMap
from minigpt2.tui.keymap import Where, bindings
from minigpt2.tui.messages import AttentionReady
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import RenderResult
from textual.color import Color
from textual.reactive import reactive
from textual.widget import Widget
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from minigpt2.tui.engine.engine import Engine

CELL = 2  # characters per heatmap cell: square-ish in most terminal fonts
START = "^"  # how the start-of-name token is shown


class AttentionView(Widget, can_focus=True):
    """Rows are the characters that look (queries), columns the ones looked at (keys).
    `[` and `]` step through the layers and heads; the first view of each layer is the
    mean over its heads."""

    BINDINGS = bindings(Where.ATTENTION)

    view: reactive[int] = reactive(0)
    """Which layer/head is shown: an index into `views()`."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.word = ""
        self.attention: AttentionMap | None = None  # None: show a hint instead
        self.error = ""
        self.wanted = ""  # the word last asked for: an older one's map is dropped

    def fetch(self, engine: Engine, word: str) -> None:
        """Show `word`'s map once the engine has it (on a worker thread); "" clears it."""
        self.wanted = word
        if word:
            self._attend(engine, word)
        else:
            self.show("", None)

    @work(thread=True, exclusive=True, group="attention", exit_on_error=False)
    def _attend(self, engine: Engine, word: str) -> None:
        from minigpt2.tui.engine.engine import EngineError

        worker = get_current_worker()
        try:
            attention = engine.attention(word)
        except EngineError as exc:
            self.post_message(AttentionReady(word, None, str(exc)))
        except Exception as exc:  # the core failing must not take the app down
            self.post_message(AttentionReady(word, None, f"No attention map: {exc!r}"))
        else:
            if not worker.is_cancelled:
                self.post_message(AttentionReady(word, attention))

    @on(AttentionReady)
    def _ready(self, message: AttentionReady) -> None:
        message.stop()
        if message.word == self.wanted:
            self.show(message.word, message.attention, message.error)

    def show(self, word: str, attention: AttentionMap | None, error: str = "") -> None:
        self.word, self.attention, self.error = word, attention, error
        self.set_reactive(AttentionView.view, min(self.view, len(self.views()) - 1))
        self.refresh()

    def views(self) -> list[tuple[int, int | None]]:
        """(layer, head) pairs, head None meaning the mean of the layer's heads."""
        if self.attention is None:
            return [(0, None)]
        heads: list[int | None] = [None] if self.attention.n_head > 1 else []
        heads += list(range(self.attention.n_head))
        return [(layer, head) for layer in range(self.attention.n_layer) for head in heads]

    def action_view(self, step: int) -> None:
        self.view = (self.view + step) % len(self.views())

    def on_click(self) -> None:
        self.action_view(1)

    def title(self) -> str:
        if self.attention is None:
            return "Attention"
        layer, head = self.views()[self.view]
        which = f"mean of {self.attention.n_head} heads" if head is None else f"head {head + 1}"
        return f"Attention · layer {layer + 1} · {which}"

    def render(self) -> RenderResult:
        if self.error:
            return Text(self.error, style="italic")
        if self.attention is None:
            return Text("Select a name to see which earlier letters each letter attends to.",
                        style="dim")
        layer, head = self.views()[self.view]
        weights = self.attention.weights[layer]  # (n_head, T, T)
        grid = weights.mean(axis=0) if head is None else weights[head]
        return self._heatmap(self.attention.tokens, grid.tolist())

    def _heatmap(self, tokens: list[str], grid: list[list[float]]) -> Text:
        variables = self.app.theme_variables
        low = Color.parse(variables.get("surface", "#1e1e1e"))
        high = Color.parse(variables.get("accent", "#ffa62b"))
        labels = [START if token.startswith("<") else token for token in tokens]
        text = Text(no_wrap=True, overflow="crop")
        text.append(f"{self.title()}\n", style="bold")
        text.append(" " * CELL + "".join(label.center(CELL) for label in labels) + "\n",
                    style="dim")
        for label, row in zip(labels, grid, strict=True):
            text.append(label.rjust(CELL - 1) + " ", style="dim")
            for weight in row:
                colour = low.blend(high, max(0.0, min(1.0, weight)))
                text.append(" " * CELL, style=Style(bgcolor=colour.rich_color))
            text.append("\n")
        text.append(f"{START} = start · brighter = more attention · [ ] other heads",
                    style="dim")
        return text
