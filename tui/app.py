"""minigpt2-tui: train a tiny GPT-2 on a word list, explore the names it invents, keep
the ones you like.

    minigpt2-tui [--data SRC] [--checkpoint CKPT] [--preset NAME] [--favourites FILE]
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, cast

from minigpt2.core.data.words import DEFAULT_DATASET
from minigpt2.tui.commands import app_commands
from minigpt2.tui.engine.engine import Engine, EngineClosed
from minigpt2.tui.engine.startup import choose_preset, initial_tab, mark, open_first_model
from minigpt2.tui.engine.train_state import TrainState
from minigpt2.tui.keymap import Where, bindings
from minigpt2.tui.launch import (
    DARK,
    LIGHT,
    TABS,
    LaunchOptions,
    available_datasets,
    available_presets,
    parse_args,
    shipped_checkpoint,
)
from minigpt2.tui.memory import (
    freeze_survivors,
    pause_collection,
    resume_collection,
    tune_malloc,
)
from minigpt2.tui.messages import (
    AutoTrain,
    BlockRequested,
    FavouriteRemoveRequested,
    FavouriteRequested,
    FavouriteSettingsRequested,
    FavouritesExportRequested,
    ModelChanged,
    MoreLikeRequested,
    Notice,
    TrainingStateChanged,
    UnblockRequested,
)
from minigpt2.tui.stores.blocklist import BLOCKLIST_FILE, Blocklist
from minigpt2.tui.stores.favourites import FavouritesStore, default_favourites_path
from minigpt2.tui.stores.favourites_keeper import FavouritesKeeper
from minigpt2.tui.stores.session import Session, Settings, default_data_dir
from minigpt2.tui.widgets.explore.pane import ExplorePane
from minigpt2.tui.widgets.key_footer import KeyFooter
from minigpt2.tui.widgets.main_screen import MainScreen, show_pane, width_class
from minigpt2.tui.widgets.quit_screen import QuitChoice, QuitScreen
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Header, Static, TabbedContent, TabPane

if TYPE_CHECKING:  # imported as they are mounted, after the first frame
    from minigpt2.tui.widgets.favourites.pane import FavouritesPane
    from minigpt2.tui.widgets.train.pane import TrainPane


# The panes not on show are mounted once the first names are on the screen (the mounting and
# the names' sampling share the GIL: names 0.62-0.72 s after launch, not 0.90 s), or after
# this long if they are slow to come.
FIRST_NAMES_FIRST_S = 1.0


class MiniGPT2App(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "minigpt2"
    SUB_TITLE = "invent names with a tiny GPT-2"
    # Screen classes for app.tcss: the panes rearrange below 100 columns (e.g. 80x24).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = bindings(Where.APP)

    def __init__(self, options: LaunchOptions | None = None, engine: Engine | None = None
                 ) -> None:
        super().__init__()
        self.options = options or LaunchOptions()
        self.engine = engine or Engine(self.options.threads)
        self.engine.opening()  # the boot opens one: Explore's first requests wait for it
        if self.options.freeze_gc:  # as the command line runs it: the process is the app's
            tune_malloc()
            pause_collection()  # until the first names are on the screen (_mount_in_order)
        self.keeper = FavouritesKeeper(self.options.favourites or default_favourites_path())
        self.session = Session(self.options.data_dir or default_data_dir())
        self.blocklist = Blocklist(self.session.directory / BLOCKLIST_FILE)  # beside favourites
        # --fresh: the shipped model and the defaults; else where the user left off
        self.settings = Settings() if self.options.fresh else self.session.load_settings()
        self._presets = available_presets()
        self._preset = choose_preset(self.options.preset or self.settings.preset, self._presets)
        self._quitting = False  # the run is stopping so that the app can quit
        self._quit_asked = asyncio.Event()  # before every pane was there: quit once they are
        self._whole = False  # every pane mounted (_mount_the_rest)
        self._first_tab = "explore"  # the tab on show in the first frame (compose)
        self._loaded: ModelChanged | None = None  # the model last loaded, for the Train pane
        self._pending_run: AutoTrain | None = None  # a run asked for before the Train pane

    # --- layout ----------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        # With its width's class from the start: Textual adds it on the first Resize, after
        # the first frame, which was laid out for no width (at 80x24, the wide arrangement
        # showed before the narrow one) and then restyled, laid out and drawn again.
        return MainScreen(id="_default",
                          classes=width_class(self.size.width, self.HORIZONTAL_BREAKPOINTS))

    def compose(self) -> ComposeResult:
        # The first frame holds the pane on show and Explore (whose names come first); the
        # others come just after it (_mount_the_rest): they are half the widgets, whose
        # imports, mounting and styling the first frame would wait for.
        first = self._first_tab = initial_tab(self.options, self.settings,
                                              shipped_checkpoint() is not None)
        yield Header()
        with TabbedContent(id="tabs", initial=TABS[first]):
            with TabPane("Train [dim]F2[/]", id=TABS["train"]):
                if first == "train":
                    yield self._train_pane()
            with TabPane("Explore [dim]F3[/]", id=TABS["explore"]):
                yield ExplorePane(self.engine, seed=self.options.sample_seed, id="explore",
                                  settings=self.settings.sampling)
            with TabPane("Favourites [dim]F4[/]", id=TABS["favourites"]):
                if first == "favourites":
                    yield self._favourites_pane()
        yield Static("Starting…", id="status")
        yield KeyFooter()

    def _train_pane(self) -> TrainPane:
        from minigpt2.tui.widgets.train.pane import TrainPane

        return TrainPane(self.engine, available_datasets(), self._presets,
                         data=self.options.data or self.settings.data, preset=self._preset,
                         autosave_to=self.session.model_path,
                         autosave_interval_s=self.options.autosave_interval_s, id="train")

    @work(group="mount")
    async def _mount_the_rest(self) -> None:
        """The boot; then, once the first names are on the screen, Explore's settings form
        and the panes not in the first frame, and what they show. A task of its own, so the
        app's messages go on meanwhile; what the boot asks of a pane not there yet waits for
        it (_show_loaded, _pending_run)."""
        try:
            await self._mount_in_order()
        except NoMatches:
            if self.is_running:
                raise
            # Quit before every pane was there: the panes it was to go into are gone.

    async def _mount_in_order(self) -> None:
        self._boot()
        if self.options.quick_names and self._first_tab == "explore":  # names on show first
            await self._first_names_or_quit()
        if self.options.freeze_gc:
            resume_collection()
        await self.explore.fill_settings()
        if not self.query("#train"):
            await self.query_one(f"#{TABS['train']}", TabPane).mount(self._train_pane())
        if not self.query("#favourites-pane"):
            await self.query_one(f"#{TABS['favourites']}", TabPane).mount(
                self._favourites_pane())
        self._whole = True
        self._show_favourites()
        self._show_blocklist()
        self._show_loaded()
        self.refresh_bindings()  # the Train pane's keys, now that it is there
        if self._quit_asked.is_set():
            self._quit_now()
        elif self._pending_run is not None:
            self._autotrain(self._pending_run)

    async def _first_names_or_quit(self) -> None:
        """Until the quick model's names are on the screen (at most FIRST_NAMES_FIRST_S), or
        the user quits: then the panes are mounted at once, for the quit to wait on."""
        names = asyncio.ensure_future(
            asyncio.to_thread(self.engine.wait_for_first_names, FIRST_NAMES_FIRST_S))
        quit_asked = asyncio.ensure_future(self._quit_asked.wait())
        await asyncio.wait((names, quit_asked), return_when=asyncio.FIRST_COMPLETED)
        quit_asked.cancel()

    @staticmethod
    def _favourites_pane() -> FavouritesPane:
        from minigpt2.tui.widgets.favourites.pane import FavouritesPane

        return FavouritesPane(id="favourites-pane")

    def _favourites_panes(self) -> list[FavouritesPane]:
        """The Favourites pane once every pane is there (_mount_the_rest shows it then)."""
        return [self.favourites_pane] if self._whole else []

    @property
    def whole(self) -> bool:
        """Every pane is there: those not on show are mounted just after the first frame."""
        return self._whole

    @property
    def train_pane(self) -> TrainPane:
        return cast("TrainPane", self.query_one("#train"))

    @property
    def explore(self) -> ExplorePane:
        return self.query_one(ExplorePane)

    @property
    def favourites_pane(self) -> FavouritesPane:
        return cast("FavouritesPane", self.query_one("#favourites-pane"))

    def on_unmount(self) -> None:
        self.engine.close()  # however the app ends: no model loads for nothing meanwhile

    def on_mount(self) -> None:
        self.theme = self.options.theme
        self._open_favourites()
        self.blocklist.on_change(self._show_blocklist)  # every change, shown in both panes
        self._show_blocklist()
        self._tell(self.blocklist.open(), timeout=12)
        if self.options.preset and self.options.preset != self._preset:
            names = ", ".join(p.name for p in self._presets)
            self.notify(f"Unknown preset {self.options.preset!r}; using {self._preset!r}. "
                        f"Presets: {names}.", severity="error", timeout=10, markup=False)
        if self.query_one(TabbedContent).active == TABS["explore"]:
            self.explore.prompt.focus()
        self._update_status()
        # Boot once the first frame is drawn: its imports (torch) would hold the GIL the UI
        # thread needs to draw it.
        self.call_after_refresh(self._mount_the_rest)

    # --- start-up: find a model to explore -------------------------------------------------

    @work(thread=True, group="boot", exit_on_error=False)
    def _boot(self) -> None:
        """Off the UI thread: open a model (names from numpy first, while torch loads) or
        start training one."""
        mark("boot")
        try:
            open_first_model(self.engine, self.options, self.session, self._preset,
                             shipped_checkpoint(), self.post_message)
            mark("torch_ready")
            self.engine.warm_up()  # the trainer's modules too, before the first Start
            freeze_survivors(self.options.freeze_gc)
        except EngineClosed:  # quit while the model was on its way
            pass
        except Exception as exc:  # a broken install: say so, keep the app open
            self.post_message(Notice(f"Could not start the model: {exc!r}", "error"))
        finally:
            self.engine.opened()  # or none will be: requests say so from now on

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        self.notify(message.text, severity=message.severity,
                    timeout=10 if message.severity == "error" else 6, markup=False)

    @on(AutoTrain)
    def _autotrain(self, message: AutoTrain) -> None:
        self._pending_run = None if self._whole else message  # started once the pane is there
        if self._pending_run is not None:
            return
        self.action_show_tab("train")
        self.train_pane.set_data(message.plan.data or DEFAULT_DATASET)
        self.train_pane.action_start(message.plan)
        self.notify(f"{message.reason}. Explore works while it trains.", timeout=6, markup=False)

    # --- the model and training ------------------------------------------------------------

    @on(ModelChanged)
    def _model_changed(self, message: ModelChanged) -> None:
        if not self.is_running:  # a run that ends as the app quits
            return
        if message.info is not None and message.reason == "loaded":
            self._loaded = message
            self._show_loaded()
        self._update_status()
        self.explore.refresh_model(while_training=message.reason == "training")

    def _show_loaded(self) -> None:
        """The model last loaded, in the Train pane (once it is there)."""
        message = self._loaded
        if message is None or message.info is None or not self._whole:
            return
        self.train_pane.show_history(message.info)
        self.train_pane.show_message(f"Loaded {message.source}: {message.info.describe()}. "
                                     "Press F5 to train a model of your own.")

    @property
    def train_state(self) -> TrainState:
        """Owned by the engine; the Train pane tells the app when it changes."""
        return self.engine.train_state

    @on(TrainingStateChanged)
    def _training_state(self) -> None:
        if self._quitting and not self.train_state.active:  # stopped, and the model kept
            self._quit_now()
            return
        if not self.is_running:
            return
        self._update_status()
        self.refresh_bindings()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        # A tab switch queued as the app shuts down arrives with no screen left to refresh.
        if self.is_running and self.screen_stack:
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "train" or not parameters:
            return True
        name = str(parameters[0])
        try:
            on_train_tab = self.query_one(TabbedContent).active == TABS["train"]
        except NoMatches:  # before compose or while quitting
            return False
        running = self.train_state.active and name in ("pause", "resume", "stop")
        # A flag, not a query: this runs for every binding each time the footer's keys are
        # worked out, and a query walks the whole DOM (it stalled the event loop).
        if not (on_train_tab or running) or not self._whole:
            return False
        return self.train_state.allows(name)

    def action_train(self, name: str) -> None:
        """Forward a training key to the Train pane (start, pause, resume, stop, ...)."""
        getattr(self.train_pane, f"action_{name}")()

    def _update_status(self, columns: int | None = None) -> None:
        try:
            status = self.query_one("#status", Static)
        except NoMatches:  # not composed yet, or shutting down
            return
        info = self.engine.info
        state = self.train_state
        training = "" if state is TrainState.IDLE else f" │ training: {state.label}"
        kept = len(self.favourites)
        saved = "" if not self.favourites.unsaved else " (not saved!)"
        # The longest line that fits, so that none is cut mid-word at 80 columns: the
        # model's data goes first, then the pointer to help (the footer shows F1 too).
        lines = [f"Model: {model}{training} │ ♥ {kept} kept{saved}{hint}"
                 for model in ([info.describe(), info.describe(brief=True)] if info else
                               ["no model loaded yet"])
                 for hint in (" │ F1 help", "")]
        width = (columns or self.size.width) - 2  # less the status line's padding
        line = next((text for text in lines if len(text) <= width), lines[-1])
        status.update(Text(line), layout=False)

    def on_resize(self, event: events.Resize) -> None:
        self._update_status(event.size.width)  # runs before the app's own size is updated

    # --- favourites and blocked names: the panes ask, the app changes its stores and shows
    # the panes what they hold ---------------------------------------------------------------

    @property
    def favourites(self) -> FavouritesStore:
        return self.keeper.store

    def _open_favourites(self) -> None:
        self._tell(self.keeper.open(), timeout=12)
        self._show_favourites()

    def _show_favourites(self) -> None:
        items = list(self.favourites)
        for pane in self._favourites_panes():
            pane.show(items, path=self.keeper.path, unsaved=self.favourites.unsaved)
        tab = self.query_one(TabbedContent).get_tab(TABS["favourites"])
        tab.label = f"Favourites ({len(items)}) F4" if items else "Favourites [dim]F4[/]"
        self.explore.mark_favourites({item.name for item in items})
        self._update_status()

    def _tell(self, said: tuple[SeverityLevel, str] | None, timeout: float = 3) -> None:
        if said is not None:
            severity, text = said
            self.notify(text, severity=severity, markup=False,
                        timeout=max(timeout, 10) if severity == "error" else timeout)

    @on(FavouriteRequested)
    def _add_favourite(self, message: FavouriteRequested) -> None:
        self._tell(self.keeper.keep(message.name, message.prompt, message.settings))
        self._show_favourites()

    @on(FavouriteRemoveRequested)
    def _remove_favourite(self, message: FavouriteRemoveRequested) -> None:
        self._tell(self.keeper.remove(message.name))
        self._show_favourites()

    def _show_blocklist(self) -> None:
        blocklist = self.blocklist
        for pane in self._favourites_panes():
            pane.show_blocklist(blocklist.names, path=blocklist.path, unsaved=blocklist.unsaved)
        self.explore.mark_blocked(blocklist.frozen())

    @on(BlockRequested)
    def _block(self, message: BlockRequested) -> None:
        self._tell(self.blocklist.block(message.name), timeout=5)

    @on(UnblockRequested)
    def _unblock(self, message: UnblockRequested) -> None:
        self._tell(self.blocklist.unblock(message.name), timeout=5)

    @on(MoreLikeRequested)
    def _more_like(self, message: MoreLikeRequested) -> None:
        self.action_show_tab("explore")
        self.explore.set_like(message.names, message.label)

    @on(FavouriteSettingsRequested)
    def _use_favourite_settings(self, message: FavouriteSettingsRequested) -> None:
        self.action_show_tab("explore")
        self.explore.use_settings(message.settings)

    @on(FavouritesExportRequested)
    def _export_favourites(self, message: FavouritesExportRequested) -> None:
        self._tell(self.keeper.export(message.path), timeout=5)

    # --- quitting: nothing the user made is lost ------------------------------------------

    def action_quit_asking(self) -> None:
        """ctrl+q: at once, unless a model is training; then ask first."""
        if self._quitting:
            return
        if not self.train_state.active:
            self._quit_now()
        elif not isinstance(self.screen, QuitScreen):
            self.push_screen(QuitScreen(), self._quit_answered)

    def _quit_answered(self, choice: QuitChoice | None) -> None:
        if choice != "stop":
            return
        if not self.train_state.active:  # the run ended while the question was open
            self._quit_now()
            return
        self._quitting = True  # the run stops, saves its model, then the app quits
        self.train_pane.action_stop()
        self.train_pane.show_message("Stopping and keeping the model, then quitting…")

    def _quit_now(self) -> None:
        if not self._whole:  # panes being mounted: Textual fails on a widget closed mid-mount
            self._quit_asked.set()  # (a traceback on exit); _mount_the_rest quits once done
            return
        self.save_settings()
        self.exit()

    def save_settings(self) -> None:
        """Remember the data, preset, sampling settings and tab for the next launch."""
        try:
            tab = next(name for name, id_ in TABS.items()
                       if id_ == self.query_one(TabbedContent).active)
            form = self.train_pane.form
            data = form.data
            settings = Settings(data=list(data) if isinstance(data, tuple) else data or None,
                                preset=form.preset, tab=tab, sampling=self.explore.settings())
            self.session.save_settings(settings)
        except (NoMatches, StopIteration):  # not composed: nothing was chosen
            pass
        except OSError as exc:
            self.notify(f"Could not keep your settings: {exc}", severity="warning")

    def action_help(self) -> None:
        from minigpt2.tui.widgets.help_screen import (
            HelpScreen,  # Markdown: not imported before it is asked
        )

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_tab(self, name: str) -> None:
        target = {"train": "#start", "explore": "#prompt", "favourites": "#favourites"}[name]
        tabs = self.query_one(TabbedContent)
        try:
            focus: Widget = self.query_one(target)  # query_one is cached; query is a DOM walk
        except NoMatches:  # a pane mounted just after the first frame, not there yet
            focus = tabs
        show_pane(tabs, TABS[name], focus)

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT if self.current_theme.dark else DARK

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from app_commands(self)


def main(argv: list[str] | None = None) -> int:
    """The `minigpt2-tui` command."""
    with suppress(KeyboardInterrupt):
        MiniGPT2App(parse_args(argv)).run()
    return 0
