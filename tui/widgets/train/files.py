"""The Train pane's model files: save the model in use, load one into Explore, through the
engine. Blocking: the pane calls them on a worker thread and posts the message each returns."""

from __future__ import annotations

from pathlib import Path

from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.messages import ModelChanged, Said


class ModelFiles:
    """Save (ctrl+s) and load (ctrl+o): what to tell the user, as a message."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, path: Path) -> Said:
        try:
            step = self.engine.save_checkpoint(path)
        except EngineError as exc:
            return Said(str(exc), error=True)
        return Said(f"Saved the model (step {step:,}) to {path}.")

    def load(self, path: Path) -> Said | ModelChanged:
        try:
            info = self.engine.load_checkpoint(path)
        except EngineError as exc:
            return Said(str(exc), error=True)
        # the app shows its history and says so in the pane; Explore samples from it
        return ModelChanged(info, "loaded", path.name)
