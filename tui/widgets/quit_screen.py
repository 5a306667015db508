"""Asked when the user quits while a model trains: stop and keep it, or keep training."""

from __future__ import annotations

from typing import Literal

from minigpt2.tui.keymap import Where, bindings
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

QuitChoice = Literal["stop", "stay"]


class QuitScreen(ModalScreen[QuitChoice]):
    BINDINGS = bindings(Where.QUIT_DIALOG)

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog", classes="dialog"):
            yield Label("A model is training.", classes="dialog-title")
            yield Label("Quit now: the run stops and the model is kept for next time.")
            with Horizontal(classes="buttons"):
                yield Button("Stop and keep the model", id="quit-stop", variant="error")
                yield Button("Keep training", id="quit-stay", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#quit-stay", Button).focus()  # Enter by mistake loses nothing

    @on(Button.Pressed, "#quit-stop")
    def action_stop(self) -> None:
        self.dismiss("stop")

    @on(Button.Pressed, "#quit-stay")
    def action_stay(self) -> None:
        self.dismiss("stay")
