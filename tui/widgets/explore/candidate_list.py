"""The list of candidate names: one line each, a cursor, nothing more.

A line-API widget rather than a DataTable: it is redrawn on every keystroke, while the
trainer shares the CPU, and a 20-row DataTable costs ~60 ms of event loop to rebuild
where this costs a few.
"""

from __future__ import annotations

from dataclasses import dataclass

from minigpt2.core.sample.request import Sample
from minigpt2.tui.keymap import Where, bindings
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

SOURCE_LABELS = {"novel": "novel", "train": "in train", "val": "in val"}
# (title, width) of each column; the header is drawn by the pane above the list.
COLUMNS = (("♥", 2), ("Name", 16), ("Score", 8), ("Per char", 10), ("Where", 9))
KIND_WIDTH = 18  # the category that likes the name most, for a model with categories
ROW_WIDTH = sum(width for _, width in COLUMNS)


def per_char_shown(width: int, kind: bool) -> bool:
    """A narrow table with a kind column gives up the per-char score to show the kind."""
    return not kind or width >= ROW_WIDTH + 12


def header(kind: bool = False, width: int = 1000) -> str:
    cells = [title.ljust(width) if title != "Score" and title != "Per char"
             else title.rjust(width - 2) + "  " for title, width in COLUMNS]
    if not per_char_shown(width, kind):
        del cells[3]
    return "".join(cells + (["Likeliest kind"] if kind else [])).rstrip()


@dataclass(frozen=True)
class Row:
    candidate: Sample
    favourite: bool
    kind: str | None = None  # the category that likes it most; None: no categories


class CandidateList(ScrollView, can_focus=True):
    """Up/down move the cursor; Enter or `f` keeps the highlighted name, `b` blocks it."""

    BINDINGS = bindings(Where.CANDIDATES)

    COMPONENT_CLASSES = {
        "candidate-list--cursor",
        "candidate-list--novel",
        "candidate-list--train",
        "candidate-list--val",
        "candidate-list--favourite",
    }

    DEFAULT_CSS = """
    CandidateList {
        overflow-x: hidden;
        background: $surface;
    }
    CandidateList > .candidate-list--cursor {
        background: $surface-lighten-1;
        text-style: bold;
    }
    CandidateList:focus > .candidate-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    CandidateList > .candidate-list--novel { color: $success; text-style: bold; }
    CandidateList > .candidate-list--train { color: $text-muted; }
    CandidateList > .candidate-list--val { color: $warning; }
    CandidateList > .candidate-list--favourite { color: $error; }
    """

    cursor: reactive[int] = reactive(0)
    """The highlighted row."""

    class Highlighted(Message):
        def __init__(self, candidate: Sample | None) -> None:
            super().__init__()
            self.candidate = candidate

    class Keep(Message):
        """Enter or `f`: the user wants to keep the highlighted name."""

    class Block(Message):
        """`b`: the user never wants to see the highlighted name again."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.rows: list[Row] = []

    # --- content ---------------------------------------------------------------------------

    def set_rows(self, rows: list[Row], cursor: int = 0) -> None:
        self.rows = rows
        self.virtual_size = Size(self.size.width, len(rows))
        self.set_reactive(CandidateList.cursor, max(0, min(cursor, len(rows) - 1)))
        self._scroll_cursor_into_view()
        self.refresh()
        self.post_message(self.Highlighted(self.highlighted))

    @property
    def highlighted(self) -> Sample | None:
        return self.rows[self.cursor].candidate if 0 <= self.cursor < len(self.rows) else None

    # --- moving ----------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(self.cursor + step, len(self.rows) - 1))

    def action_keep(self) -> None:
        self.post_message(self.Keep())

    def action_block(self) -> None:
        self.post_message(self.Block())

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh_lines(old - int(self.scroll_offset.y))
        self.refresh_lines(new - int(self.scroll_offset.y))
        self.post_message(self.Highlighted(self.highlighted))

    def _scroll_cursor_into_view(self) -> None:
        if self.rows:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)

    def on_click(self, event: events.Click) -> None:
        row = event.y + int(self.scroll_offset.y)
        if 0 <= row < len(self.rows):
            self.cursor = row
            if event.chain == 2:  # a double click keeps the name
                self.action_keep()

    # --- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = y + int(self.scroll_offset.y)
        width = self.size.width
        base = self.rich_style
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        candidate = row.candidate
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("candidate-list--cursor")
        label = base + self.get_component_rich_style(f"candidate-list--{candidate.source}")
        if index == self.cursor:
            label = style
        heart = base + self.get_component_rich_style("candidate-list--favourite")
        name_style = style + Style(bold=candidate.source == "novel")
        (_, w_fav), (_, w_name), (_, w_score), (_, w_char), (_, w_where) = COLUMNS
        segments = [
            Segment("♥".ljust(w_fav) if row.favourite else " " * w_fav,
                    heart if index != self.cursor else style),
            Segment(_fit(candidate.shown, w_name), name_style),
            Segment(f"{candidate.logprob:.2f}".rjust(w_score - 2) + "  ", style),
            Segment(f"{candidate.logprob_per_token:.2f}".rjust(w_char - 2) + "  ", style),
            Segment(SOURCE_LABELS[candidate.source].ljust(w_where), label),
        ]
        if not per_char_shown(width, row.kind is not None):
            del segments[3]
        if row.kind is not None:
            segments.append(Segment(_fit(row.kind, KIND_WIDTH), style))
        return Strip(segments).extend_cell_length(width, style).crop(0, width)


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) < width else text[: width - 2] + "… "
