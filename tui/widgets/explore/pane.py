"""Explore: type the start of a name and the model proposes names that begin with it,
shaped by the settings beside them (settings.py), and, after "More like these" in
Favourites, like a few example names until ctrl+g clears them."""

from __future__ import annotations

import time
from typing import Any

from minigpt2.core.sample.request import Sample, SampleConfig
from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.keymap import Where, bindings
from minigpt2.tui.messages import (
    BlockRequested,
    CandidatesFailed,
    CandidatesReady,
    FavouriteRequested,
)
from minigpt2.tui.stores.favourites import favourite_settings
from minigpt2.tui.widgets.explore.attention_map import AttentionView
from minigpt2.tui.widgets.explore.candidate_list import CandidateList, Row, header
from minigpt2.tui.widgets.explore.did_you_mean import DidYouMean
from minigpt2.tui.widgets.explore.settings import ExploreSettings
from minigpt2.tui.widgets.fields import TypingInput
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Label, Select, Static
from textual.worker import get_current_worker

DEBOUNCE_S = 0.1  # keystrokes closer than this are typed as one burst: sample once, after it
AUTO_REFRESH_IDLE_S = 4.0  # while training, new names after this long without user input


class ExplorePane(Vertical):
    BINDINGS = bindings(Where.EXPLORE)

    def __init__(self, engine: Engine, *, seed: int = 0, settings: dict[str, Any] | None = None,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.engine = engine
        self.blocked: frozenset[str] = frozenset()  # names never shown: the app's blocklist
        self.clock = time.monotonic  # when the user typed; a test may hold it still
        # The controls as the user left them last time: the kind chosen is applied once a
        # model offers kinds (refresh_model); the rest goes to the form at once.
        self._restore = dict(settings or {})
        self.seed = seed
        self.candidates: list[Sample] = []
        self._kinds: dict[str, str | None] = {}  # name: the category that likes it most
        self.shown_request: SampleConfig | None = None  # what the table shows now
        self.wanted_request: SampleConfig | None = None  # what was asked for last
        self.favourites: set[str] = set()
        self.last_sample_ms = 0.0
        self._last_change = 0.0  # when the user last changed the prompt or a setting
        self._last_auto = 0.0
        self._debounce: Timer | None = None
        self.like: tuple[str, ...] = ()  # example names the candidates are like
        self._like_label = ""  # where they came from, e.g. "5 favourites"

    def compose(self) -> ComposeResult:
        # A grid: the candidates on the left, the settings on the right, and the attention
        # map under the settings when wide, under both when narrow (see app.tcss).
        with Vertical(id="explore-main"):
            yield Label("Start of the name", classes="field-label")
            yield TypingInput(id="prompt", compact=True,  # whole at 80x24
                              placeholder="Type a start, e.g. 'ma' (empty: any name)")
            yield DidYouMean(id="did-you-mean")
            yield Static("", id="like-marker")
            yield Static("Loading the model…", id="explore-message", classes="message")
            yield Static(header(), id="candidates-header")
            yield CandidateList(id="candidates")
        yield ExploreSettings(id="sampling-settings", classes="form")
        yield AttentionView(id="attention")

    def on_mount(self) -> None:
        self.query_one("#like-marker").display = False
        if isinstance(prompt := self._restore.get("prompt"), str):
            self.prompt.value = prompt
        self.form.restore(self._restore)

    async def fill_settings(self) -> None:
        """The settings form's fields (the app calls this once the first names are on the
        screen: the form answers until then from the values it will show)."""
        await self.form.fill()

    def settings(self) -> dict[str, Any]:
        """The controls as they are, to restore them on the next launch; and the kind chosen
        last time while no model has offered kinds to choose it from."""
        unapplied = {name: self._restore[name] for name in ("category", "kind_weights")
                     if name in self._restore}
        return {"prompt": self.prompt.value, **self.form.values(), **unapplied}

    # --- widgets by name -------------------------------------------------------------------

    @property
    def prompt(self) -> Input:
        return self.query_one("#prompt", Input)

    @property
    def form(self) -> ExploreSettings:
        return self.query_one(ExploreSettings)

    @property
    def did_you_mean(self) -> DidYouMean:
        return self.query_one(DidYouMean)

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
        if event.input is self.prompt and event.value != self.did_you_mean.for_text:
            self.did_you_mean.show("", [])  # for another word: never offer a stale one
        self.request_candidates()

    @on(Select.Changed)
    def _category_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.request_candidates(now=True)

    @on(Checkbox.Changed)
    def _switch_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if event.checkbox.id == "sort":
            self._show(self.candidates)  # a new order needs no new names
        else:
            self._hide_known_now()
            self.request_candidates(now=True)

    def request_candidates(self, *, now: bool = False, again: bool = False) -> None:
        """Debounce: the first keystroke after a pause samples at once; keystrokes in a burst
        wait until the burst ends. Either way a newer request cancels an older one. A request
        the same as the last is let be (`again`: it is asked anew, for a changed model)."""
        clock = self.clock()
        quiet, self._last_change = clock - self._last_change >= DEBOUNCE_S, clock
        if self._debounce is not None:
            self._debounce.stop()
        if now or quiet:
            self._start_sampling(again=again)
        else:
            self._debounce = self.set_timer(DEBOUNCE_S, lambda: self._start_sampling(again=again))

    def set_like(self, examples: tuple[str, ...], label: str) -> None:
        """Sample names like `examples` from now on (until cleared); `label` says what
        they are, as in "Like: 5 favourites"."""
        self.like, self._like_label = examples, label
        marker = self.query_one("#like-marker", Static)
        marker.update(Text(f"Like: {label} · ctrl+g clears"), layout=False)
        marker.display = bool(examples)
        self.refresh_bindings()  # ctrl+g shows in the footer only while there is a "Like:"
        self.request_candidates(now=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return bool(self.like) if action == "clear_like" else True

    def action_clear_like(self) -> None:
        self.set_like((), "")

    def action_reroll(self) -> None:
        self.seed += 1
        self.request_candidates(now=True)

    def refresh_model(self, *, while_training: bool = False) -> None:
        """The model changed: show what the new one makes of the same prompt. While it
        trains, only when the user has left Explore alone for a while: names should not
        change under the cursor of someone choosing one."""
        info = self.engine.info
        self.did_you_mean.ask_again()
        wanted = self._restore.pop("category", None)  # as the user left it last time
        weights = self._restore.pop("kind_weights", None)
        with self.prevent(Select.Changed):
            self.form.set_categories(info.categories if info is not None else (),
                                     wanted if isinstance(wanted, str) else None,
                                     weights if isinstance(weights, dict) else None)
        if while_training:
            idle = self.clock() - self._last_change >= AUTO_REFRESH_IDLE_S
            if not (idle and self.clock() - self._last_auto >= AUTO_REFRESH_IDLE_S):
                return
            self._last_auto = self.clock()
            self._start_sampling(again=True)  # not a user's change: leave _last_change alone
            return
        self.request_candidates(now=True, again=True)

    def _start_sampling(self, *, again: bool = False) -> None:
        self._debounce = None
        try:
            request = self.current_request()
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        if request == self.wanted_request and not again:
            # Fields that post Changed without a change (mounted with their values, e.g. a
            # kind's weight) would cancel names on their way: at start-up, the first ones.
            # A prompt typed away from and back within one burst comes here too: its names
            # are on show, but the first change cleared the correction line.
            if request == self.shown_request:
                self._ask_for_corrections(request)
            return
        self.wanted_request = request
        self._sample(request)

    def _ask_for_corrections(self, request: SampleConfig) -> None:
        """Once a prompt's candidates are in: corrections are a second thought, and looking
        for them while sampling would halve the one core sampling has beside training."""
        line = self.did_you_mean
        if request.prompt != self.prompt.value:  # typed on since: its own request will ask
            return
        if line.stale or (request.prompt, request.category) != (line.for_text, line.for_category):
            line.ask(self.engine, request.prompt, request.category)

    def current_request(self) -> SampleConfig:
        """The controls as a sampling config. Raises ValueError naming a bad setting."""
        return self.form.config(self.prompt.value, self.seed, self.blocked, self.like)

    @work(thread=True, exclusive=True, group="sample", exit_on_error=False)
    def _sample(self, request: SampleConfig) -> None:
        worker = get_current_worker()
        started = time.perf_counter()
        try:
            candidates = self.engine.sample(request, cancelled=lambda: worker.is_cancelled)
            info = self.engine.info
            if candidates and info and info.categories and not worker.is_cancelled:
                best = tuple(self.engine.best_categories([c.name for c in candidates]))
            else:
                best = ()
        except EngineError as exc:
            self.post_message(CandidatesFailed(request, str(exc)))
        except Exception as exc:  # the core failing must not take the app down
            self.post_message(CandidatesFailed(request, f"Sampling failed: {exc!r}"))
        else:
            if candidates is not None and not worker.is_cancelled:
                elapsed_ms = (time.perf_counter() - started) * 1000
                self.post_message(CandidatesReady(request, candidates, elapsed_ms, best))

    @on(DidYouMean.Chosen)
    @on(Input.Submitted, "#prompt")  # Enter in the prompt: the first correction, if any
    def _correction_chosen(self, event: DidYouMean.Chosen | Input.Submitted) -> None:
        event.stop()
        name = event.name if isinstance(event, DidYouMean.Chosen) else self.did_you_mean.chosen
        if name is not None:
            self.use_correction(name)

    def use_correction(self, name: str) -> None:
        self.did_you_mean.show(name, [], self.form.category)
        self.prompt.value = name
        self.prompt.cursor_position = len(name)
        self.prompt.focus()

    # --- showing them ----------------------------------------------------------------------

    @on(CandidatesReady)
    def _ready(self, message: CandidatesReady) -> None:
        message.stop()
        if message.request != self.wanted_request:
            return  # a newer request is on its way; these would flicker past
        self.shown_request = message.request
        self.last_sample_ms = message.elapsed_ms
        # The request excluded the names blocked when it went out, not those blocked since.
        candidates = [c for c in message.candidates if c.name not in self.blocked]
        self._show(candidates,
                   dict(zip((c.name for c in message.candidates), message.kinds, strict=False)))
        request = message.request
        self._ask_for_corrections(request)
        start = f" starting with “{request.prompt}”" if request.prompt else ""
        count = len(candidates)
        note = f" (found {count} of {request.n})" if 0 < count < request.n else ""
        if any(c.cut for c in candidates):
            note += " · … = cut at the length limit"
        if request.most_likely and not all(c.proven for c in candidates):
            note += " · ranking not proven (search cut short)"
        if count:
            self._say(f"{count} names{start}{note} · ↓ then ctrl+f keeps one")
        else:
            self._say(f"No names{start} found in time: the model rarely makes such names. "
                      "Try fewer constraints or a shorter prompt.", error=True)
        self.call_after_refresh(self.engine.names_shown)

    @on(CandidatesFailed)
    def _failed(self, message: CandidatesFailed) -> None:
        message.stop()
        if message.request != self.wanted_request:
            return
        self.shown_request = message.request
        self._show([], {})
        self._say(message.error, error=True)
        self._ask_for_corrections(message.request)

    def _show(self, candidates: list[Sample], kinds: dict[str, str | None] | None = None
              ) -> None:
        """Show `candidates` (with, for a model with categories, the kind each is likeliest
        as: by default the ones known); keep the cursor on the same name if still there."""
        self._kinds = self._kinds if kinds is None else kinds
        if self.form.switch("sort"):
            rank = (self.shown_request or SampleConfig()).rank_key
            candidates = sorted(candidates, key=rank, reverse=True)
        previous = self.selected()
        self.candidates = list(candidates)
        names = self.shown_names()
        cursor = names.index(previous.name) if previous and previous.name in names else 0
        title = header(bool(self._kinds), self.table.size.width)
        self.query_one("#candidates-header", Static).update(title, layout=False)
        self.table.set_rows(self._rows(), cursor)

    def _rows(self) -> list[Row]:
        return [Row(c, c.name.casefold() in self.favourites, self._kinds.get(c.name))
                for c in self.candidates]

    def _hide_known_now(self) -> None:
        """Hide names from the word list at once, before the fresh candidates arrive."""
        if self.form.switch("novel-only"):
            self._show([c for c in self.candidates if c.source == "novel"])

    def _say(self, text: str, *, error: bool = False) -> None:
        # Plain text (the prompt may hold [brackets]); fixed height, so no layout pass.
        self.message.update(Text(text), layout=False)
        self.message.set_class(error, "error")

    def mark_favourites(self, names: set[str]) -> None:
        self.favourites = {name.casefold() for name in names}
        self.table.set_rows(self._rows(), self.table.cursor)

    def mark_blocked(self, names: frozenset[str]) -> None:
        """The names every request excludes from now on (the app's blocklist)."""
        self.blocked = names

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

    @on(CandidateList.Block)
    def _block(self, event: CandidateList.Block) -> None:
        event.stop()
        self.action_block()

    def _request_attention(self) -> None:
        candidate = self.selected()
        self.attention_map.fetch(self.engine, candidate.name if candidate else "")

    # --- keys ------------------------------------------------------------------------------

    def action_favourite(self) -> None:
        candidate = self.selected()
        if candidate is None:
            self.app.bell()
            self._say("Nothing to keep yet: type a prompt and pick a name with ↓.", error=True)
            return
        request = self.shown_request or SampleConfig()
        preset, step = self.engine.sampling_from or (None, None)
        settings = {**favourite_settings(request), "model": preset, "step": step}
        self.post_message(FavouriteRequested(candidate.name, request.prompt, settings))

    def use_settings(self, settings: dict[str, Any]) -> None:
        """Sample as a favourite was found: its prompt, seed, kinds, constraints and, if it
        was found like some examples, those examples."""
        try:
            config = SampleConfig.from_dict(settings)
        except ValueError as exc:
            self._say(f"Cannot use these settings: {exc}", error=True)
            return
        self.prompt.value = config.prompt
        self.seed = self.seed if config.seed is None else config.seed
        self.form.apply(config)
        count = len(config.like)
        self.set_like(config.like, f"{count} example{'s' * (count != 1)} of a favourite")

    def action_block(self) -> None:
        """Never show the highlighted name again: it goes to the blocklist (the app keeps
        it), which every request excludes, and leaves the table at once."""
        candidate = self.selected()
        if candidate is None:
            self.app.bell()
            return
        self.post_message(BlockRequested(candidate.name))
        self._show([c for c in self.candidates if c.name != candidate.name])

    def action_attention_view(self, step: int) -> None:
        self.attention_map.action_view(step)

    def action_focus_prompt(self) -> None:
        self.prompt.focus()

    def action_focus_candidates(self) -> None:
        """↓ from the prompt or a setting goes to the list of candidates."""
        if self.candidates:
            self.table.focus()
