"""The app's actions by name, for the command palette (ctrl+p)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from minigpt2.tui.launch import TABS
from textual.app import SystemCommand

if TYPE_CHECKING:
    from minigpt2.tui.app import MiniGPT2App


def app_commands(app: MiniGPT2App) -> Iterator[SystemCommand]:
    train, explore = app.train_pane, app.explore
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
                        app.favourites_pane.action_export)
    for name in TABS:
        yield SystemCommand(f"Go to {name.title()}", f"Show the {name} tab",
                            lambda name=name: app.action_show_tab(name))
    yield SystemCommand("Light or dark", "Switch between the light and dark themes (ctrl+t)",
                        app.action_toggle_dark)
    yield SystemCommand("Help", "Every key and what the numbers mean (F1)",
                        app.action_help)
