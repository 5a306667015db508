"""minigpt2-tui: train a tiny GPT-2 on a word list, explore the names it invents, keep
the ones you like.

    minigpt2-tui [--data SRC] [--checkpoint CKPT] [--preset NAME] [--favourites FILE]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from ..core.config import DEFAULT_PRESET, PRESETS, Preset
from ..core.data import (
    DEFAULT_DATASET,
    DatasetInfo,
    WordData,
    WordListError,
    builtin_datasets,
    default_checkpoint_path,
)
from ..core.training import TrainPlan
from .engine import Engine, EngineError, ModelInfo
from .favourites import (
    Favourite,
    FavouritesCorrupt,
    FavouritesError,
    FavouritesStore,
    backup_unreadable,
    default_favourites_path,
)
from .messages import (
    AutoTrain,
    FavouriteRemoveRequested,
    FavouriteRequested,
    FavouritesExportRequested,
    ModelChanged,
    Notice,
    TrainingStateChanged,
)
from .train_state import TrainState
from .widgets.explore_pane import ExplorePane
from .widgets.favourites_pane import FavouritesPane
from .widgets.help_screen import HelpScreen
from .widgets.train_pane import TrainPane

DARK, LIGHT = "textual-dark", "textual-light"
TABS = {"train": "train-tab", "explore": "explore-tab", "favourites": "favourites-tab"}


def available_datasets() -> list[DatasetInfo]:
    try:
        return builtin_datasets()
    except OSError:  # a broken install should not stop the app from opening
        return []


def available_presets() -> list[Preset]:
    return list(PRESETS.values())


def shipped_checkpoint() -> Path | None:
    path = default_checkpoint_path()
    return path if path.is_file() else None


@dataclass(frozen=True)
class LaunchOptions:
    """The command line, plus a few knobs that tests and the benchmark turn."""

    data: str | None = None
    checkpoint: Path | None = None
    preset: str | None = None
    favourites: Path | None = None
    sample_seed: int = 0  # Explore's first seed; ctrl+r moves on to the next
    threads: int | None = None  # torch threads for training; None = the core's default
    theme: str = DARK


class MiniGPT2App(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "minigpt2"
    SUB_TITLE = "invent names with a tiny GPT-2"
    # Screen classes for app.tcss: the panes rearrange below 100 columns (e.g. 80x24).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        # Training keys live here, not on the Train pane, so that they work wherever the
        # focus is; check_action shows them on the Train tab, and F5/F6 during a run.
        Binding("f5", "train('start')", "Start"),
        Binding("f5", "train('pause')", "Pause"),
        Binding("f5", "train('resume')", "Resume"),
        Binding("f6", "train('stop')", "Stop"),
        Binding("f7", "train('reset')", "Reset"),
        Binding("ctrl+s", "train('save')", "Save model"),
        Binding("ctrl+o", "train('load')", "Load model"),
        Binding("f1,question_mark", "help", "Help"),
        Binding("f2", "show_tab('train')", "Train", show=False),
        Binding("f3", "show_tab('explore')", "Explore", show=False),
        Binding("f4", "show_tab('favourites')", "Favourites", show=False),
        Binding("ctrl+t", "toggle_dark", "Theme"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, options: LaunchOptions | None = None, engine: Engine | None = None
                 ) -> None:
        super().__init__()
        self.options = options or LaunchOptions()
        self.engine = engine or Engine(self.options.threads)
        self.favourites_path = self.options.favourites or default_favourites_path()
        self.favourites = FavouritesStore(self.favourites_path)
        self.model_info: ModelInfo | None = None
        self.notices: list[tuple[str, str]] = []  # (severity, text) of every notification
        self._presets = available_presets()
        self._preset = self._choose_preset()

    def _choose_preset(self) -> str:
        names = [p.name for p in self._presets]
        wanted = self.options.preset or DEFAULT_PRESET
        return wanted if wanted in names else (DEFAULT_PRESET if DEFAULT_PRESET in names
                                                 else names[0])

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial=self._initial_tab(), id="tabs"):
            with TabPane("Train [dim]F2[/]", id=TABS["train"]):
                yield TrainPane(self.engine, available_datasets(), self._presets,
                                data=self.options.data, preset=self._preset, id="train")
            with TabPane("Explore [dim]F3[/]", id=TABS["explore"]):
                yield ExplorePane(self.engine, seed=self.options.sample_seed, id="explore")
            with TabPane("Favourites [dim]F4[/]", id=TABS["favourites"]):
                yield FavouritesPane(id="favourites-pane")
        yield Static("Starting…", id="status")
        yield Footer()

    def _initial_tab(self) -> str:
        """Explore when a model will be there to explore, else Train (which starts)."""
        if self.options.checkpoint is not None or (
                self.options.data is None and shipped_checkpoint() is not None):
            return TABS["explore"]
        return TABS["train"]

    @property
    def train_pane(self) -> TrainPane:
        return self.query_one(TrainPane)

    @property
    def explore(self) -> ExplorePane:
        return self.query_one(ExplorePane)

    @property
    def favourites_pane(self) -> FavouritesPane:
        return self.query_one(FavouritesPane)

    def on_mount(self) -> None:
        self.theme = self.options.theme
        self._open_favourites()
        if self.options.preset and self.options.preset != self._preset:
            names = ", ".join(p.name for p in self._presets)
            self.notify(f"Unknown preset {self.options.preset!r}; using {self._preset!r}. "
                        f"Presets: {names}.", severity="error", timeout=10, markup=False)
        if self.query_one(TabbedContent).active == TABS["explore"]:
            self.explore.prompt.focus()
        self._update_status()
        self._boot()

    # --- start-up: find a model to explore -------------------------------------------------

    @work(thread=True, group="boot", exit_on_error=False)
    def _boot(self) -> None:
        """Import torch off the UI thread, then load a model or start training one."""
        try:
            self.engine.warm_up()
            self._choose_start()
        except Exception as exc:  # a broken install: say so, keep the app open
            self.post_message(Notice(f"Could not start the model: {exc!r}", "error"))

    def _choose_start(self) -> None:
        options = self.options
        if options.checkpoint is not None:
            if self._load_at_start(options.checkpoint):
                return
            fallback = "the built-in model" if shipped_checkpoint() else "training a new one"
            self.post_message(Notice(f"Using {fallback} instead.", "warning"))
        elif options.data is not None:
            try:
                WordData.from_source(options.data)  # a typo is an error now, not at Start
            except WordListError as exc:
                self.post_message(Notice(f"{exc}. Using the built-in list instead.", "error"))
            else:
                self.post_message(AutoTrain(TrainPlan(data=options.data, preset=self._preset),
                                            f"Training on {options.data}"))
                return
        shipped = shipped_checkpoint()
        if shipped is not None and self._load_at_start(shipped):
            return
        self.post_message(AutoTrain(TrainPlan(preset=self._preset),
                                    "No trained model yet: training one now"))

    def _load_at_start(self, path: Path) -> bool:
        try:
            info = self.engine.load_checkpoint(path)
        except EngineError as exc:
            self.post_message(Notice(str(exc), "error"))
            return False
        self.post_message(ModelChanged(info, "loaded", path.name))
        return True

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        self.notify(message.text, severity=message.severity,
                    timeout=10 if message.severity == "error" else 6, markup=False)

    @on(AutoTrain)
    def _autotrain(self, message: AutoTrain) -> None:
        self.action_show_tab("train")
        self.train_pane.set_data(message.plan.data or DEFAULT_DATASET)
        self.train_pane.action_start(message.plan)
        self.notify(f"{message.reason}. Explore works while it trains.", timeout=6, markup=False)

    # --- the model and training ------------------------------------------------------------

    @on(ModelChanged)
    def _model_changed(self, message: ModelChanged) -> None:
        if not self.is_running:  # a run that ends as the app quits
            return
        if message.info is not None:
            self.model_info = message.info
        if message.info is not None and message.reason == "loaded":
            self.train_pane.show_history(message.info)
            self.train_pane.show_message(f"Loaded {message.source}: {message.info.describe()}. "
                                         "Press F5 to train a model of your own.")
        self._update_status()
        self.explore.refresh_model(while_training=message.reason == "training")

    @property
    def train_state(self) -> TrainState:
        """Owned by the Train pane; read there."""
        try:
            return self.train_pane.state
        except NoMatches:  # before compose or while quitting
            return TrainState.IDLE

    @on(TrainingStateChanged)
    def _training_state(self) -> None:
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
        if not (on_train_tab or running):
            return False
        return self.train_pane.check_action(name, ())

    def action_train(self, name: str) -> None:
        """Forward a training key to the Train pane (start, pause, resume, stop, ...)."""
        getattr(self.train_pane, f"action_{name}")()

    def _update_status(self) -> None:
        try:
            status = self.query_one("#status", Static)
        except NoMatches:  # not composed yet, or shutting down
            return
        info = self.model_info
        model = info.describe() if info is not None else "no model loaded yet"
        state = self.train_state
        training = "" if state is TrainState.IDLE else f" │ training: {state.label}"
        kept = len(self.favourites)
        saved = "" if not self.favourites.unsaved else " (not saved!)"
        status.update(
            Text(f"Model: {model}{training} │ ♥ {kept} kept{saved} │ F1 help"), layout=False)

    # --- favourites ------------------------------------------------------------------------

    def _open_favourites(self) -> None:
        path = self.favourites_path
        try:
            self.favourites = FavouritesStore.load(path)
        except FavouritesCorrupt as exc:
            backup = backup_unreadable(path)
            kept = f" It was moved to {backup.name}." if backup else ""
            self.notify(f"{exc}.{kept} Starting with no favourites.", severity="error",
                        timeout=12, markup=False)
        except FavouritesError as exc:
            self.notify(f"{exc}. Names you keep now stay in memory only.", severity="error",
                        timeout=12, markup=False)
            self.favourites.unsaved = True
        else:
            problem = _unwritable_reason(path)
            if problem:
                self.favourites.unsaved = True
                self.notify(f"Favourites cannot be saved to {path} ({problem}). Names you keep "
                            "stay in memory for this session; choose another file with "
                            "--favourites or export them.", severity="warning", timeout=12,
                            markup=False)
        self._show_favourites()

    def _show_favourites(self) -> None:
        items = list(self.favourites)
        self.favourites_pane.show(items, path=self.favourites_path,
                                  unsaved=self.favourites.unsaved)
        tab = self.query_one(TabbedContent).get_tab(TABS["favourites"])
        tab.label = f"Favourites ({len(items)}) F4" if items else "Favourites [dim]F4[/]"
        self.explore.mark_favourites({item.name for item in items})
        self._update_status()

    def _save_favourites(self) -> bool:
        try:
            self.favourites.save()
        except FavouritesError as exc:
            self.notify(f"{exc}. Your names are kept in memory; export them (ctrl+e in "
                        "Favourites) to keep them.", severity="error", timeout=10, markup=False)
            return False
        return True

    @on(FavouriteRequested)
    def _add_favourite(self, message: FavouriteRequested) -> None:
        favourite = Favourite.now(message.name, message.prompt, message.settings)
        if not self.favourites.add(favourite):
            self.notify(f"“{message.name}” is already a favourite.", timeout=3, markup=False)
            return
        if self._save_favourites():
            self.notify(f"♥ Kept “{message.name}”.", timeout=3, markup=False)
        self._show_favourites()

    @on(FavouriteRemoveRequested)
    def _remove_favourite(self, message: FavouriteRemoveRequested) -> None:
        if self.favourites.remove(message.name):
            self._save_favourites()
            self.notify(f"Removed “{message.name}”.", timeout=3, markup=False)
        self._show_favourites()

    @on(FavouritesExportRequested)
    def _export_favourites(self, message: FavouritesExportRequested) -> None:
        path = Path(message.path).expanduser()
        try:
            count = self.favourites.export(path)
        except FavouritesError as exc:
            self.notify(str(exc), severity="error", timeout=10, markup=False)
        else:
            self.notify(f"Exported {count} names to {path}.", timeout=5, markup=False)

    # --- app-wide actions ------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        self.notices.append((severity, message))  # what the user was told, for tests
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_tab(self, name: str) -> None:
        # Unfocus first: hiding a focused widget makes Textual focus one of its (also
        # hidden) siblings, which drags the old tab back.
        self.set_focus(None)
        self.query_one(TabbedContent).active = TABS[name]
        target = {"train": "#start", "explore": "#prompt", "favourites": "#favourites"}[name]
        widget = self.query_one(target)
        self.call_after_refresh(widget.focus if widget.focusable else self.screen.focus_next)

    def action_toggle_dark(self) -> None:
        self.theme = LIGHT if self.current_theme.dark else DARK

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        train, explore = self.train_pane, self.explore
        yield SystemCommand("Train: start, pause or resume", "F5 in the Train tab",
                            train.action_toggle_run)
        yield SystemCommand("Train: stop", "Stop early and keep the model (F6)",
                            train.action_stop)
        yield SystemCommand("Train: reset", "Clear the run to start afresh (F7)",
                            train.action_reset)
        yield SystemCommand("Train: save the model", "To the checkpoint file in Train (ctrl+s)",
                            train.action_save)
        yield SystemCommand("Train: load a model", "From the checkpoint file in Train (ctrl+o)",
                            train.action_load)
        yield SystemCommand("Explore: new names", "Sample again with a new seed (ctrl+r)",
                            explore.action_reroll)
        yield SystemCommand("Explore: keep the selected name", "Add it to favourites (ctrl+f)",
                            explore.action_favourite)
        yield SystemCommand("Favourites: export", "Write them to .txt, .csv or .json (ctrl+e)",
                            self.favourites_pane.action_export)
        for name in TABS:
            yield SystemCommand(f"Go to {name.title()}", f"Show the {name} tab",
                                lambda name=name: self.action_show_tab(name))
        yield SystemCommand("Light or dark", "Switch between the light and dark themes (ctrl+t)",
                            self.action_toggle_dark)
        yield SystemCommand("Help", "Every key and what the numbers mean (F1)",
                            self.action_help)


def _unwritable_reason(path: Path) -> str | None:
    """Why favourites could not be written to `path`, or None if they probably can."""
    if path.is_dir():
        return "it is a directory"
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "permission denied"
    return None


def parse_args(argv: list[str] | None = None) -> LaunchOptions:
    parser = argparse.ArgumentParser(
        prog="minigpt2-tui",
        description="Train a tiny GPT-2 on a word list and explore the names it invents.",
    )
    parser.add_argument("--data", metavar="SRC",
                        help="a built-in word list's name (e.g. seed) or a word file to train on")
    parser.add_argument("--checkpoint", metavar="CKPT", type=Path,
                        help="a trained model (.safetensors) to explore and train further")
    parser.add_argument("--preset", metavar="NAME",
                        help="model and training preset: "
                             + ", ".join(p.name for p in available_presets()))
    parser.add_argument("--favourites", metavar="FILE", type=Path,
                        help=f"where favourites are kept (default: {default_favourites_path()})")
    parser.add_argument("--light", action="store_true", help="start with the light theme")
    args = parser.parse_args(argv)
    return LaunchOptions(data=args.data, checkpoint=args.checkpoint, preset=args.preset,
                         favourites=args.favourites, theme=LIGHT if args.light else DARK)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        MiniGPT2App(options).run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
