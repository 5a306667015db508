"""Every key of the app, declared once.

Each `Key` says what a key does, where it works and how the footer labels it; the app's
and the panes' BINDINGS, the command palette, the tooltips that name a key and the key
table (the help screen's, and the README's, which a test compares with it) are all made
from these declarations. A key changed here changes everywhere.

Plain data (and Textual's Binding, which it makes): no widget is imported, so the help
text, the README's check and the panes read it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from textual.binding import Binding


class Where(StrEnum):
    """Whose BINDINGS hold a key: one widget class each."""

    APP = "app"  # MiniGPT2App: works whatever has the focus
    TEXTUAL = "textual"  # bound by Textual itself (the command palette); declared for the table
    EXPLORE = "explore"  # ExplorePane
    CANDIDATES = "candidates"  # CandidateList, the list of names in Explore
    DID_YOU_MEAN = "did_you_mean"  # DidYouMean, the corrections under the prompt
    ATTENTION = "attention"  # AttentionView, the attention map
    FAVOURITES = "favourites"  # FavouritesPane
    EXPORT_DIALOG = "export_dialog"  # ExportScreen
    QUIT_DIALOG = "quit_dialog"  # QuitScreen
    HELP_DIALOG = "help_dialog"  # HelpScreen


@dataclass(frozen=True)
class Command:
    """A key's entry in the command palette (ctrl+p). `help` may name the key as `{key}`;
    `action`, when given, is run instead of the key's own (on the same widget)."""

    title: str
    help: str
    action: str | None = None


@dataclass(frozen=True)
class Key:
    """One binding. `keys` as Textual names them, comma-separated ("delete,d"); the first
    is the one named in help texts and tooltips. `label`: the footer's word for it."""

    keys: str
    action: str
    label: str
    where: Where
    show: bool = True  # in the footer
    priority: bool = False
    command: Command | None = None
    tooltip: str | None = None  # of the button that does the same; `{key}` names the key

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.keys.split(","))

    def binding(self) -> Binding:
        return Binding(self.keys, self.action, self.label, show=self.show,
                       priority=self.priority)


# How help texts, the palette and the README write a key (the footer uses Textual's own
# short forms, ^f and the like). Keys not listed are written as Textual names them.
SHOWN_AS = {
    "question_mark": "?", "enter": "Enter", "delete": "Delete", "escape": "Escape",
    "left": "←", "right": "→", "up": "↑", "down": "↓", "pageup": "PgUp", "pagedown": "PgDn",
    "home": "Home", "end": "End", "left_square_bracket": "[", "right_square_bracket": "]",
}


def shown_as(name: str) -> str:
    """"f5" -> "F5", "question_mark" -> "?", "ctrl+s" -> "ctrl+s"."""
    if name in SHOWN_AS:
        return SHOWN_AS[name]
    return name.upper() if name[:1] == "f" and name[1:].isdigit() else name


# --- the keys, in the order the footer shows them -----------------------------------------

# Training keys live on the app, not on the Train pane, so that they work wherever the
# focus is; the app's check_action shows them on the Train tab, and F5/F6 during a run.
START = Key("f5", "train('start')", "Start", Where.APP,
            command=Command("Train: start, pause or resume", "{key} in the Train tab",
                            action="train('toggle_run')"),
            tooltip="Train a model with the settings on the left ({key})")
PAUSE = Key("f5", "train('pause')", "Pause", Where.APP,
            tooltip="Pause or resume training ({key})")
RESUME = Key("f5", "train('resume')", "Resume", Where.APP)
STOP = Key("f6", "train('stop')", "Stop", Where.APP,
           command=Command("Train: stop", "Stop early and keep the model ({key})"),
           tooltip="Stop early and keep the model as it is ({key})")
RESET = Key("f7", "train('reset')", "Reset", Where.APP,
            command=Command("Train: reset", "Clear the run to start afresh ({key})"),
            tooltip="Clear the run; start afresh ({key})")
SAVE = Key("ctrl+s", "train('save')", "Save model", Where.APP,
           command=Command("Train: save the model", "To the checkpoint file in Train ({key})"),
           tooltip="Save the model to this file ({key})")
LOAD = Key("ctrl+o", "train('load')", "Load model", Where.APP,
           command=Command("Train: load a model", "From the checkpoint file in Train ({key})"),
           tooltip="Load a model from this file into Explore ({key})")
HELP = Key("f1,question_mark", "help", "Help", Where.APP,
           command=Command("Help", "Every key and what the numbers mean ({key})"))
# Priority: handled as the key arrives, before the keys typed after it go to the widget
# focused until then (a binding found by bubbling runs after they are sent).
TRAIN_TAB = Key("f2", "show_tab('train')", "Train", Where.APP, show=False, priority=True,
                command=Command("Go to Train", "Show the train tab"))
EXPLORE_TAB = Key("f3", "show_tab('explore')", "Explore", Where.APP, show=False,
                  priority=True, command=Command("Go to Explore", "Show the explore tab"))
FAVOURITES_TAB = Key("f4", "show_tab('favourites')", "Favourites", Where.APP, show=False,
                     priority=True,
                     command=Command("Go to Favourites", "Show the favourites tab"))
THEME = Key("ctrl+t", "toggle_dark", "Theme", Where.APP,
            command=Command("Light or dark",
                            "Switch between the light and dark themes ({key})"))
QUIT = Key("ctrl+q", "quit_asking", "Quit", Where.APP, priority=True)

PALETTE = Key("ctrl+p", "command_palette", "palette", Where.TEXTUAL)

FAVOURITE = Key("ctrl+f", "favourite", "♥ Favourite", Where.EXPLORE,
                command=Command("Explore: keep the selected name",
                                "Add it to favourites ({key})"))
BLOCK_NAME = Key("ctrl+b", "block", "Block name", Where.EXPLORE)
REROLL = Key("ctrl+r", "reroll", "New names", Where.EXPLORE,
             command=Command("Explore: new names", "Sample again with a new seed ({key})"))
CLEAR_LIKE = Key("ctrl+g", "clear_like", "Clear like", Where.EXPLORE)
TO_PROMPT = Key("ctrl+l", "focus_prompt", "Prompt", Where.EXPLORE, show=False)
TO_CANDIDATES = Key("down", "focus_candidates", "Candidates", Where.EXPLORE, show=False)
# Typed into the prompt when it has the focus; from the list they turn the map.
PREV_HEAD = Key("left_square_bracket", "attention_view(-1)", "Prev head", Where.EXPLORE,
                show=False)
NEXT_HEAD = Key("right_square_bracket", "attention_view(1)", "Next head", Where.EXPLORE,
                show=False)

UP = Key("up", "move(-1)", "Up", Where.CANDIDATES, show=False)
DOWN = Key("down", "move(1)", "Down", Where.CANDIDATES, show=False)
PAGE_UP = Key("pageup", "move(-10)", "Page up", Where.CANDIDATES, show=False)
PAGE_DOWN = Key("pagedown", "move(10)", "Page down", Where.CANDIDATES, show=False)
FIRST = Key("home", "move(-100000)", "First", Where.CANDIDATES, show=False)
LAST = Key("end", "move(100000)", "Last", Where.CANDIDATES, show=False)
KEEP = Key("enter,f", "keep", "Favourite", Where.CANDIDATES, show=False)
BLOCK = Key("b", "block", "Block", Where.CANDIDATES, show=False)

PREVIOUS_CORRECTION = Key("left", "move(-1)", "Previous", Where.DID_YOU_MEAN, show=False)
NEXT_CORRECTION = Key("right", "move(1)", "Next", Where.DID_YOU_MEAN, show=False)
USE_CORRECTION = Key("enter", "choose", "Use it", Where.DID_YOU_MEAN, show=False)

MAP_PREV_HEAD = Key("left_square_bracket", "view(-1)", "Prev head", Where.ATTENTION)
MAP_NEXT_HEAD = Key("right_square_bracket", "view(1)", "Next head", Where.ATTENTION)

REMOVE = Key("delete,d", "remove", "Remove", Where.FAVOURITES,
             tooltip="Forget the selected name ({key})")
EXPORT = Key("ctrl+e", "export", "Export", Where.FAVOURITES,
             command=Command("Favourites: export",
                             "Write them to .txt, .csv or .json ({key})"),
             tooltip="Write the names to a file ({key})")
MARK = Key("space", "mark", "Mark", Where.FAVOURITES, show=False)  # the summary line says it
MORE_LIKE = Key("m", "more_like", "More like these", Where.FAVOURITES,
                tooltip="Explore names like the marked ones ({mark} marks), or all ({key})")
# Hidden, as space is: a shown key would change the Favourites snapshots.
USE_SETTINGS = Key("u", "use_settings", "Use settings", Where.FAVOURITES, show=False)

CANCEL_EXPORT = Key("escape", "cancel", "Cancel", Where.EXPORT_DIALOG)

KEEP_TRAINING = Key("escape", "stay", "Keep training", Where.QUIT_DIALOG)
STOP_AND_QUIT = Key("s", "stop", "Stop", Where.QUIT_DIALOG)

CLOSE_HELP = Key("escape,f1,q,question_mark", "dismiss", "Close help", Where.HELP_DIALOG)

# Every key above, in the order declared: a new key is in KEYS as soon as it is written.
KEYS: tuple[Key, ...] = tuple(value for value in dict(globals()).values()
                              if isinstance(value, Key))


def bindings(where: Where) -> list[Binding]:
    """The BINDINGS of the widget at `where`, in the keymap's order."""
    return [key.binding() for key in KEYS if key.where is where]


def _named(key: Key) -> dict[str, str]:
    """What `{...}` can name in a key's texts: the key itself, and by action the keys of
    the same widget (`{mark}` in a Favourites tooltip)."""
    same_place = {other.action: shown_as(other.names[0]) for other in KEYS
                  if other.where is key.where and other.action.isidentifier()}
    return {**same_place, "key": shown_as(key.names[0])}


def tooltip(key: Key) -> str:
    """The tooltip of the button that does what `key` does, naming the key."""
    if key.tooltip is None:
        raise ValueError(f"{key.action!r} has no tooltip")
    return key.tooltip.format_map(_named(key))


def commands() -> Iterator[tuple[Key, str, str, str]]:
    """(key, title, help, action to run) of each palette entry, in the keymap's order."""
    for key in KEYS:
        if key.command is not None:
            command = key.command
            yield (key, command.title, command.help.format_map(_named(key)),
                   command.action or key.action)


# --- the key table: the help screen's, and the README's --------------------------------

Shown = Key | tuple[Key, ...]  # a key, or keys written side by side ("[ ]")


@dataclass(frozen=True)
class Row:
    """A line of the key table: the keys of `keys`, joined by `joiner`, do `what`.

    The README's table has every row, every name of each key, and `more` after `what`.
    The help screen's leaves out the rows marked `in_help=False` and the names in
    `not_in_help`, to stay the page it has been (its snapshots hold it): those keys are
    aliases, a list's own keys, or a dialog's, which that dialog shows."""

    keys: tuple[Shown, ...]
    where: str
    what: str
    joiner: str = " / "
    in_help: bool = True
    not_in_help: tuple[str, ...] = ()  # key names, as Textual writes them
    more: str = ""  # the README's words after `what`

    def items(self, *, readme: bool) -> list[list[str]]:
        """The key names of each item the row shows: each name of a key on its own, the
        names of keys grouped in a tuple together ("[ ]")."""
        skipped = () if readme else self.not_in_help
        items: list[list[str]] = []
        for part in self.keys:
            if isinstance(part, Key):
                items += [[name] for name in part.names if name not in skipped]
            else:  # one item; F5 starts, pauses and resumes: written once
                items.append([name for name in dict.fromkeys(
                    name for key in part for name in key.names) if name not in skipped])
        return items

    def shown(self, *, readme: bool) -> str:
        return self.joiner.join(" ".join(shown_as(name) for name in item)
                                for item in self.items(readme=readme))


TABLE: tuple[Row, ...] = (
    Row((HELP,), "anywhere", "this help"),
    Row(((TRAIN_TAB, EXPLORE_TAB, FAVOURITES_TAB),), "anywhere", "Train, Explore, Favourites"),
    Row((PALETTE,), "anywhere", "command palette: every action by name"),
    Row((THEME,), "anywhere", "switch between dark and light"),
    Row((QUIT,), "anywhere", "quit",
        more=" (while training: asks whether to stop and keep the model)"),
    Row(((START, PAUSE, RESUME),), "Train", "start, pause, resume",
        more=" (pause and resume on any tab while a model trains)"),
    Row((STOP, RESET), "Train", "stop (keep the model) / reset",
        more=" (F6 on any tab while a model trains)"),
    Row((SAVE, LOAD), "Train", "save / load the model (a .safetensors file)"),
    Row((REROLL,), "Explore", "new names for the same prompt"),
    Row((CLEAR_LIKE,), "Explore", "stop finding names like favourites",
        more=' ("Like: …" goes)'),
    Row((FAVOURITE, KEEP), "Explore", "keep the selected name", joiner=", "),
    Row((BLOCK_NAME, BLOCK), "Explore", "block the selected name: never shown again",
        joiner=", "),
    Row((USE_CORRECTION, (PREVIOUS_CORRECTION, NEXT_CORRECTION)), "Explore's \"did you mean\"",
        "use a correction as the prompt", joiner=", ",
        more="; Enter in the prompt uses the first"),
    Row(((PREV_HEAD, NEXT_HEAD, MAP_PREV_HEAD, MAP_NEXT_HEAD),), "the list or the map",
        "the attention map's other layers and heads"),
    Row((REMOVE, EXPORT), "Favourites", "remove, export", joiner=", ", not_in_help=("d",),
        more=" (.txt, .csv, .json)"),
    Row((MARK, MORE_LIKE), "Favourites", "mark a name; more names like the marked (or all)",
        joiner=", ", more=": Explore finds them"),
    Row((USE_SETTINGS,), "Favourites", "sample again with the selected name's settings",
        in_help=False, more=" (prompt, constraints, kind)"),
    Row((REMOVE,), "Favourites' blocked names", "unblock", not_in_help=("d",)),
    Row((TO_CANDIDATES, TO_PROMPT), "Explore", "into the list / back to the prompt",
        in_help=False),  # the help's first steps say ↓
    Row(((UP, DOWN, PAGE_UP, PAGE_DOWN, FIRST, LAST),), "the list", "move the cursor",
        in_help=False),
    Row((KEEP_TRAINING, STOP_AND_QUIT), "the quit dialog",
        "keep training / stop, keep the model and quit", in_help=False),
    Row((CANCEL_EXPORT,), "the export dialog", "cancel", in_help=False),
    Row((CLOSE_HELP,), "this help", "close it", in_help=False),  # its last line says so
)


def table_rows(*, readme: bool = False) -> list[tuple[str, str, str]]:
    """(keys, where, what) of each row of the help screen's table, or of the README's."""
    return [(row.shown(readme=readme), row.where, row.what + row.more if readme else row.what)
            for row in TABLE if readme or row.in_help]


def table() -> str:
    """The help screen's key table, in Markdown."""
    lines = ["| Key | Where | What |", "| --- | --- | --- |"]
    lines += [f"| {keys} | {where} | {what} |" for keys, where, what in table_rows()]
    return "\n".join(lines)
