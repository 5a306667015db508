"""One keymap (tui/keymap.py): every BINDINGS list, the help screen, the command palette,
the tooltips that name a key and the README's key table say what it says."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from functools import partial
from pathlib import Path
from typing import Any

import minigpt2.tui
import pytest
from minigpt2.tui import keymap
from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.keymap import KEYS, TABLE, Key, Row, Where, shown_as
from minigpt2.tui.widgets.explore.attention_map import AttentionView
from minigpt2.tui.widgets.explore.candidate_list import CandidateList
from minigpt2.tui.widgets.explore.did_you_mean import DidYouMean
from minigpt2.tui.widgets.explore.pane import ExplorePane
from minigpt2.tui.widgets.favourites.pane import ExportScreen, FavouritesPane
from minigpt2.tui.widgets.help_screen import HELP, HelpScreen
from minigpt2.tui.widgets.key_footer import PALETTE_ACTION
from minigpt2.tui.widgets.quit_screen import QuitScreen
from textual.binding import Binding
from textual.css.query import DOMQuery
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Button, TabbedContent
from tui_helpers import SIZE, AppFactory, wait_for

README = Path(__file__).resolve().parents[2] / "README.md"
OWNERS: dict[Where, type[DOMNode]] = {
    Where.APP: MiniGPT2App, Where.EXPLORE: ExplorePane, Where.CANDIDATES: CandidateList,
    Where.DID_YOU_MEAN: DidYouMean, Where.ATTENTION: AttentionView,
    Where.FAVOURITES: FavouritesPane, Where.EXPORT_DIALOG: ExportScreen,
    Where.QUIT_DIALOG: QuitScreen, Where.HELP_DIALOG: HelpScreen,
}
# Every button whose tooltip names a key, and the key.
TOOLTIPS = {"start": keymap.START, "pause": keymap.PAUSE, "stop": keymap.STOP,
            "reset": keymap.RESET, "save": keymap.SAVE, "load": keymap.LOAD,
            "remove": keymap.REMOVE, "export": keymap.EXPORT, "more-like": keymap.MORE_LIKE}
KEY_IN_TEXT = re.compile(r"\((?:F\d+|ctrl\+\w|Delete|Enter)\b|\(\w+ marks\)")
SEPARATOR = re.compile(r", | / | ")  # between the keys of a key table's cell


def described(key: Key) -> tuple[str, str, str, bool, bool]:
    return key.keys, key.action, key.label, key.show, key.priority


def widget_classes_with_bindings() -> set[type[DOMNode]]:
    """Every class in minigpt2.tui that declares BINDINGS of its own."""
    found: set[type[DOMNode]] = set()
    for module in pkgutil.walk_packages(minigpt2.tui.__path__, "minigpt2.tui."):
        for _, value in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if (issubclass(value, DOMNode) and value.__module__.startswith("minigpt2.tui.")
                    and "BINDINGS" in vars(value)):
                found.add(value)
    return found


def table_cells(text: str, header: str) -> list[tuple[str, str, str]]:
    """The rows of the Markdown table under `header`, as (key, where, what)."""
    lines = text.splitlines()
    start = lines.index(header) + 2  # the header, then its --- line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        key, where, what = (cell.strip() for cell in line.strip("|").split(" | "))
        rows.append((key, where, what))
    return rows


def names_shown(rows: list[tuple[str, str, str]]) -> set[str]:
    """The keys a table's Key column names, as keymap.shown_as writes them."""
    return {name for key, _, _ in rows for name in SEPARATOR.split(key)}


def test_every_bindings_list_is_the_keymaps() -> None:
    assert widget_classes_with_bindings() == set(OWNERS.values())
    assert set(OWNERS) == set(Where) - {Where.TEXTUAL}
    for where, owner in OWNERS.items():
        bound = [(b.key, b.action, b.description, b.show, b.priority)
                 for b in owner.BINDINGS if isinstance(b, Binding)]
        assert len(bound) == len(owner.BINDINGS), owner  # Bindings, not tuples written by hand
        assert bound == [described(key) for key in KEYS if key.where is where], owner


def test_the_palette_key_is_textuals() -> None:
    assert keymap.PALETTE.keys == MiniGPT2App.COMMAND_PALETTE_BINDING
    assert PALETTE_ACTION.endswith(keymap.PALETTE.action)  # the footer docks it right


def test_every_key_is_declared_once() -> None:
    declared = [(key.where, name) for key in KEYS for name in key.names]
    # F5 starts, pauses or resumes, whichever the app's check_action allows now
    repeated = {item for item in declared if declared.count(item) > 1}
    assert repeated == {(Where.APP, "f5")}
    assert len({described(key) + (key.where,) for key in KEYS}) == len(KEYS)


def keys_of(row: Row) -> set[Key]:
    return {key for part in row.keys for key in (part if isinstance(part, tuple) else (part,))}


def test_the_key_table_has_every_key() -> None:
    assert set(KEYS) - {key for row in TABLE for key in keys_of(row)} == set()


def test_the_help_screen_shows_every_key() -> None:
    """All but those the keymap says it leaves out, to stay the page its snapshots hold."""
    rows = table_cells(HELP, "| Key | Where | What |")
    assert rows == keymap.table_rows()
    left_out = {shown_as(name) for row in TABLE for name in row.not_in_help} | {
        shown_as(name) for row in TABLE if not row.in_help
        for item in row.items(readme=True) for name in item}
    every_key = {shown_as(name) for key in KEYS for name in key.names}
    shown = names_shown(rows)
    assert shown <= every_key
    assert every_key - shown <= left_out


def test_the_readme_key_table_is_the_keymaps() -> None:
    rows = table_cells(README.read_text(encoding="utf-8"), "| key | where | what |")
    wanted = keymap.table_rows(readme=True)
    expected = "\n".join(f"| {key} | {where} | {what} |" for key, where, what in wanted)
    assert rows == wanted, f"README.md's key table should read:\n{expected}"
    assert names_shown(rows) == {shown_as(name) for key in KEYS for name in key.names}


@pytest.mark.parametrize("key", [key for key in KEYS if key.tooltip], ids=lambda k: k.action)
def test_a_tooltip_names_its_key(key: Key) -> None:
    text = keymap.tooltip(key)
    assert f"({shown_as(key.names[0])})" in text and "{" not in text


async def test_the_app_uses_the_keymap(make_app: AppFactory) -> None:
    """The palette has every command, each runs its action; every tooltip that names a key
    is the keymap's."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        owners = {Where.APP: app, Where.EXPLORE: app.explore,
                  Where.FAVOURITES: app.favourites_pane}
        for key, title, help_text, action in keymap.commands():
            command = commands[title]
            assert command.help == help_text
            assert isinstance(command.callback, partial)
            method = command.callback.func
            assert getattr(method, "__self__", None) is owners[key.where]
            assert method.__name__ == f"action_{action.split('(')[0]}"
        commands["Go to Favourites"].callback()
        await wait_for(pilot, lambda: app.query_one(TabbedContent).active == "favourites-tab",
                       what="the palette's Go to Favourites")

        for button_id, key in TOOLTIPS.items():
            assert app.query_one(f"#{button_id}", Button).tooltip == keymap.tooltip(key)
        naming_keys = {widget.id for widget in app.query("*")
                       if isinstance(widget.tooltip, str) and KEY_IN_TEXT.search(widget.tooltip)}
        assert naming_keys == set(TOOLTIPS)


async def test_working_out_the_active_keys_walks_no_dom(make_app: AppFactory,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """The footer works the keys out on every change of focus or state, asking check_action
    for each binding: a DOM query there (a walk of every widget) stalled the event loop by
    tens of ms while training."""
    app = make_app()
    walks: list[object] = []
    start = DOMQuery.__init__

    def counted(query: DOMQuery[Widget], *args: Any, **kwargs: Any) -> None:
        walks.append(args)
        start(query, *args, **kwargs)

    async with app.run_test(size=SIZE) as pilot:
        for tab in ("train", "explore", "favourites"):
            app.action_show_tab(tab)
            await pilot.pause()
            with monkeypatch.context() as patch:
                patch.setattr(DOMQuery, "__init__", counted)
                assert app.screen.active_bindings
    assert walks == []
