"""The app's actions by name, for the command palette (ctrl+p): the keymap's commands."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from minigpt2.tui.keymap import Where, commands
from textual.actions import parse
from textual.app import SystemCommand
from textual.dom import DOMNode

if TYPE_CHECKING:
    from minigpt2.tui.app import MiniGPT2App


def app_commands(app: MiniGPT2App) -> Iterator[SystemCommand]:
    # A command runs its action on the widget whose BINDINGS hold its key: the same method
    # the key runs, whatever has the focus.
    owners: dict[Where, DOMNode] = {Where.APP: app, Where.EXPLORE: app.explore}
    if app.whole:  # the Favourites pane is mounted just after the first frame
        owners[Where.FAVOURITES] = app.favourites_pane
    for key, title, help_text, action in commands():
        if key.where not in owners:
            continue
        _namespace, name, parameters = parse(action)
        method = getattr(owners[key.where], f"action_{name}")
        yield SystemCommand(title, help_text, partial(method, *parameters))
