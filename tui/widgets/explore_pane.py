"""Explore: type the start of a name and the model proposes names that begin with it."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.validation import Integer, Number
from textual.widgets import Checkbox, Input, Label, Static
from textual.worker import get_current_worker

from ...core.sampling import Sample, SampleConfig
from ..engine import Engine, EngineError
from ..favourites import SETTING_LABELS
from ..messages import (
    AttentionReady,
    CandidatesFailed,
    CandidatesReady,
    FavouriteRequested,
)
from .attention_map import AttentionView
from .candidate_list import CandidateList, Row, header
from .fields import number_field, read_number

DEBOUNCE_S = 0.1  # keystrokes closer than this are typed as one burst: sample once, after it
AUTO_REFRESH_IDLE_S = 4.0  # while training, new names after this long without user input
MAX_COUNT = 500
# (label, id, what is typed, what empty means); SampleConfig checks the ranges it owns.
SETTINGS = (
    ("Temperature", "temperature", Number(minimum=0), "1.0"),
    ("How many", "count", Integer(minimum=1, maximum=MAX_COUNT), "20"),
    ("Top-k", "top-k", Integer(minimum=1), "off"),
    ("Top-p", "top-p", Number(), "off"),
)
TEXT_SETTINGS = ("prompt", *(name for _, name, _, _ in SETTINGS))
SWITCHES = ("novel-only", "sort")


class ExplorePane(Vertical):
    BINDINGS = [
        Binding("ctrl+f", "favourite", "♥ Favourite"),
        Binding("ctrl+r", "reroll", "New names"),
        Binding("ctrl+l", "focus_prompt", "Prompt", show=False),
        Binding("down", "focus_candidates", "Candidates", show=False),
        # Typed into the prompt when it has the focus; from the list they turn the map.
        Binding("left_square_bracket", "attention_view(-1)", "Prev head", show=False),
        Binding("right_square_bracket", "attention_view(1)", "Next head", show=False),
    ]

    def __init__(self, engine: Engine, *, seed: int = 0, settings: dict[str, Any] | None = None,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.engine = engine
        self.clock = time.monotonic  # when the user typed; a test may hold it still
        self._restore = dict(settings or {})  # the controls as the user left them last time
        self.seed = seed
        self.candidates: list[Sample] = []
        self.shown_request: SampleConfig | None = None  # what the table shows now
        self.wanted_request: SampleConfig | None = None  # what was asked for last
        self.favourites: set[str] = set()
        self.last_sample_ms = 0.0
        self._last_change = 0.0  # when the user last changed the prompt or a setting
        self._last_auto = 0.0
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        # A grid: the candidates on the left, the settings on the right, and the attention
        # map under the settings when wide, under both when narrow (see app.tcss).
        with Vertical(id="explore-main"):
            yield Label("Start of the name", classes="field-label")
            yield Input(id="prompt", compact=True, placeholder="Type a few letters, e.g. 'ma'"
                        ", or leave empty for any name")
            yield Static("Loading the model…", id="explore-message", classes="message")
            yield Static(header(), id="candidates-header")
            yield CandidateList(id="candidates")
        with Vertical(id="sampling-settings", classes="form"):
            with Horizontal(classes="field-row"):
                yield number_field(*SETTINGS[0], value="1.0")
                yield number_field(*SETTINGS[1], value="20")
            with Horizontal(classes="field-row"):
                yield number_field(*SETTINGS[2])
                yield number_field(*SETTINGS[3])
            yield Checkbox("Only new names", id="novel-only", compact=True,
                           tooltip="Hide names that are in the word list")
            yield Checkbox("Most likely first", id="sort", compact=True)
        yield AttentionView(id="attention")

    def on_mount(self) -> None:
        for name, value in self._restore.items():
            if name in TEXT_SETTINGS and isinstance(value, str):
                self.query_one(f"#{name}", Input).value = value
            elif name in SWITCHES and isinstance(value, bool):
                self.query_one(f"#{name}", Checkbox).value = value

    def settings(self) -> dict[str, Any]:
        """The controls as they are, to restore them on the next launch."""
        values: dict[str, Any] = {n: self.query_one(f"#{n}", Input).value for n in TEXT_SETTINGS}
        return values | {n: self.query_one(f"#{n}", Checkbox).value for n in SWITCHES}

    # --- widgets by name -------------------------------------------------------------------

    @property
    def prompt(self) -> Input:
        return self.query_one("#prompt", Input)

    @property
    def table(self) -> CandidateList:
        return self.query_one(CandidateList)

    @property
    def attention_map(self) -> AttentionView:
        return self.query_one(AttentionView)

    @property
    def message(self) -> Static:
        return self.query_one("#explore-message", Static)

    def shown_names(self) -> list[str]:
        return [c.name for c in self.candidates]

    def selected(self) -> Sample | None:
        return self.table.highlighted

    # --- asking for candidates -------------------------------------------------------------

    @on(Input.Changed)
    def _setting_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.request_candidates()

    @on(Checkbox.Changed)
    def _switch_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if event.checkbox.id == "sort":
            self._show(self.candidates)  # a new order needs no new names
        else:
            self._hide_known_now()
            self.request_candidates(now=True)

    def request_candidates(self, *, now: bool = False) -> None:
        """Debounce: the first keystroke after a pause samples at once; keystrokes in a burst
        wait until the burst ends. Either way a newer request cancels an older one."""
        clock = self.clock()
        quiet, self._last_change = clock - self._last_change >= DEBOUNCE_S, clock
        if self._debounce is not None:
            self._debounce.stop()
        if now or quiet:
            self._start_sampling()
        else:
            self._debounce = self.set_timer(DEBOUNCE_S, self._start_sampling)

    def action_reroll(self) -> None:
        self.seed += 1
        self.request_candidates(now=True)

    def refresh_model(self, *, while_training: bool = False) -> None:
        """The model changed: show what the new one makes of the same prompt. While it
        trains, only when the user has left Explore alone for a while: names should not
        change under the cursor of someone choosing one."""
        if while_training:
            idle = self.clock() - self._last_change >= AUTO_REFRESH_IDLE_S
            if not (idle and self.clock() - self._last_auto >= AUTO_REFRESH_IDLE_S):
                return
            self._last_auto = self.clock()
            self._start_sampling()  # not a user's change: leave _last_change alone
            return
        self.request_candidates(now=True)

    def _start_sampling(self) -> None:
        self._debounce = None
        try:
            request = self.current_request()
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        self.wanted_request = request
        self._sample(request)

    def current_request(self) -> SampleConfig:
        """The controls as a sampling config. Raises ValueError naming a bad setting."""
        values = {name: read_number(self.query_one(f"#{name}", Input), label)
                  for label, name, _, _ in SETTINGS}
        try:
            return SampleConfig(
                prompt=self.prompt.value,
                n=int(values["count"] or 20),
                temperature=1.0 if values["temperature"] is None else values["temperature"],
                top_k=None if values["top-k"] is None else int(values["top-k"]),
                top_p=values["top-p"], seed=self.seed, unique=True,
                novel_only=self.query_one("#novel-only", Checkbox).value,
            )
        except ValueError as exc:  # a range SampleConfig owns, e.g. top-p in (0, 1]
            raise ValueError(f"Cannot sample: {exc}.") from None

    @work(thread=True, exclusive=True, group="sample", exit_on_error=False)
    def _sample(self, request: SampleConfig) -> None:
        worker = get_current_worker()
        started = time.perf_counter()
        try:
            candidates = self.engine.sample(request, cancelled=lambda: worker.is_cancelled)
        except EngineError as exc:
            self.post_message(CandidatesFailed(request, str(exc)))
        except Exception as exc:  # the core failing must not take the app down
            self.post_message(CandidatesFailed(request, f"Sampling failed: {exc!r}"))
        else:
            if candidates is not None and not worker.is_cancelled:
                elapsed_ms = (time.perf_counter() - started) * 1000
                self.post_message(CandidatesReady(request, candidates, elapsed_ms))

    # --- showing them ----------------------------------------------------------------------

    @on(CandidatesReady)
    def _ready(self, message: CandidatesReady) -> None:
        message.stop()
        if message.request != self.wanted_request:
            return  # a newer request is on its way; these would flicker past
        self.shown_request = message.request
        self.last_sample_ms = message.elapsed_ms
        self._show(message.candidates)
        request = message.request
        start = f" starting with “{request.prompt}”" if request.prompt else ""
        count = len(message.candidates)
        note = ""
        if request.novel_only and count < request.n:
            note = f" (only {count} new ones found: try a higher temperature)"
        if any(c.cut for c in message.candidates):
            note += " · … = cut at the length limit"
        if count:
            self._say(f"{count} names{start}{note} · ↓ then ctrl+f keeps one")
        else:
            self._say(f"No names{start}: the model always ran past its length limit. "
                      "Try a shorter prompt or a lower temperature.", error=True)

    @on(CandidatesFailed)
    def _failed(self, message: CandidatesFailed) -> None:
        message.stop()
        if message.request != self.wanted_request:
            return
        self.shown_request = message.request
        self._show([])
        self._say(message.error, error=True)

    def _show(self, candidates: list[Sample]) -> None:
        if self.query_one("#sort", Checkbox).value:
            candidates = sorted(candidates, key=lambda c: c.logprob, reverse=True)
        previous = self.selected()
        self.candidates = list(candidates)
        names = self.shown_names()
        cursor = names.index(previous.name) if previous and previous.name in names else 0
        self.table.set_rows(self._rows(), cursor)

    def _rows(self) -> list[Row]:
        return [Row(c, c.name.casefold() in self.favourites) for c in self.candidates]

    def _hide_known_now(self) -> None:
        """Hide names from the word list at once, before the fresh candidates arrive."""
        if self.query_one("#novel-only", Checkbox).value:
            self._show([c for c in self.candidates if c.source == "novel"])

    def _say(self, text: str, *, error: bool = False) -> None:
        # Plain text (the prompt may hold [brackets]); fixed height, so no layout pass.
        self.message.update(Text(text), layout=False)
        self.message.set_class(error, "error")

    def mark_favourites(self, names: set[str]) -> None:
        self.favourites = {name.casefold() for name in names}
        self.table.set_rows(self._rows(), self.table.cursor)

    # --- attention -------------------------------------------------------------------------

    @on(CandidateList.Highlighted)
    def _highlighted(self, event: CandidateList.Highlighted) -> None:
        event.stop()
        if self.table.has_focus:  # the user is choosing: hold the names still
            self._last_change = self.clock()
        self._request_attention()

    @on(CandidateList.Keep)
    def _keep(self, event: CandidateList.Keep) -> None:
        event.stop()
        self.action_favourite()

    def _request_attention(self) -> None:
        candidate = self.selected()
        if candidate is None:
            self.attention_map.show("", None)
            return
        self._attend(candidate.name)

    @work(thread=True, exclusive=True, group="attention", exit_on_error=False)
    def _attend(self, word: str) -> None:
        worker = get_current_worker()
        try:
            attention = self.engine.attention(word)
        except EngineError as exc:
            self.post_message(AttentionReady(word, None, str(exc)))
        except Exception as exc:
            self.post_message(AttentionReady(word, None, f"No attention map: {exc!r}"))
        else:
            if not worker.is_cancelled:
                self.post_message(AttentionReady(word, attention))

    @on(AttentionReady)
    def _attention_ready(self, message: AttentionReady) -> None:
        message.stop()
        selected = self.selected()
        if selected is not None and selected.name == message.word:
            self.attention_map.show(message.word, message.attention, message.error)

    # --- keys ------------------------------------------------------------------------------

    def action_favourite(self) -> None:
        candidate = self.selected()
        if candidate is None:
            self.app.bell()
            self._say("Nothing to keep yet: type a prompt and pick a name with ↓.", error=True)
            return
        request = self.shown_request or SampleConfig()
        preset, step = self.engine.sampling_from or (None, None)
        settings = {**{key: getattr(request, key) for key in SETTING_LABELS},
                    "model": preset, "step": step}
        self.post_message(FavouriteRequested(candidate.name, request.prompt, settings))

    def action_attention_view(self, step: int) -> None:
        self.attention_map.action_view(step)

    def action_focus_prompt(self) -> None:
        self.prompt.focus()

    def action_focus_candidates(self) -> None:
        """↓ from the prompt or a setting goes to the list of candidates."""
        if self.candidates:
            self.table.focus()
