"""The "did you mean" line under the prompt: corrections for a word the model finds unlikely.

One line; ←/→ choose, Enter (or a click) uses one as the prompt. Empty, it takes no room in
a small terminal and keeps its row in a large one (see app.tcss), so the table never jumps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from minigpt2.core.sample.repair import Correction
from minigpt2.tui.keymap import Where, bindings
from rich.text import Text
from textual import events, on, work
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from minigpt2.tui.engine.engine import Engine

LEAD = "Did you mean: "
GAP = "  "


@dataclass
class CorrectionsReady(Message):
    """A worker's corrections for `text` typed as the prompt, under `category`."""

    text: str
    category: str | None
    corrections: list[Correction]


class DidYouMean(Widget, can_focus=True):
    BINDINGS = bindings(Where.DID_YOU_MEAN)

    DEFAULT_CSS = """
    DidYouMean { height: 1; color: $text-muted; }
    DidYouMean.-empty { visibility: hidden; }
    """

    class Chosen(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes="-empty")
        self.for_text = ""  # the prompt these corrections are for
        self.for_category: str | None = None  # and the kind of name they were asked under
        self.stale = False  # the model changed since they were asked: ask again
        self.names: list[str] = []
        self.cursor = 0
        self._spans: list[tuple[int, int]] = []  # each name's columns, for clicks
        self._wanted: tuple[str, str | None] | None = None  # (text, category) last asked

    def ask(self, engine: Engine, text: str, category: str | None) -> None:
        """Look for corrections of `text` on a worker thread; an answer for anything but
        the last question is dropped."""
        self._wanted = (text, category)
        self.stale = False
        self._look_up(engine, text, category)

    @work(thread=True, exclusive=True, group="repair", exit_on_error=False)
    def _look_up(self, engine: Engine, text: str, category: str | None) -> None:
        worker = get_current_worker()
        try:
            found = engine.did_you_mean(text, category, lambda: worker.is_cancelled)
        except Exception:  # no corrections is the quiet answer: sampling reports the errors
            found = []
        if not worker.is_cancelled:
            self.post_message(CorrectionsReady(text, category, found))

    @on(CorrectionsReady)
    def _ready(self, message: CorrectionsReady) -> None:
        message.stop()
        if (message.text, message.category) == self._wanted:
            self.show(message.text, [c.name for c in message.corrections], message.category)

    def show(self, text: str, names: list[str], category: str | None = None) -> None:
        """Offer `names` as corrections of `text` (none: the line is empty)."""
        if not names:
            self._wanted = None  # the text changed: an answer on its way is stale
        self.for_text, self.for_category, self.names, self.cursor = text, category, names, 0
        self.set_class(not names, "-empty")
        self.can_focus = bool(names)
        self.refresh()

    def ask_again(self) -> None:
        """The model changed: the next candidates ask again for the same text, as the new
        model may correct what the last did not. The names shown stay until then, and
        still go when the prompt changes (they are for `for_text`)."""
        self.stale = True

    @property
    def chosen(self) -> str | None:
        return self.names[self.cursor] if self.names else None

    def render(self) -> Text:
        text = Text(LEAD if self.names else "")
        self._spans = []
        for i, name in enumerate(self.names):
            if i:
                text.append(GAP)
            start = text.cell_len
            style = "reverse bold" if self.has_focus and i == self.cursor else "bold underline"
            text.append(name, style=style)
            self._spans.append((start, text.cell_len))
        if self.names and not self.has_focus:
            text.append("  (Enter uses the first)", style="dim")
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.names:
            self.cursor = (self.cursor + step) % len(self.names)
            self.refresh()

    def action_choose(self) -> None:
        if self.chosen is not None:
            self.post_message(self.Chosen(self.chosen))

    def on_click(self, event: events.Click) -> None:
        for i, (start, end) in enumerate(self._spans):
            if start <= event.x < end:
                self.cursor = i
                self.action_choose()
                return
