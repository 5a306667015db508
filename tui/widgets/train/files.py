"""The Train pane's model files: save the model in use, load one into Explore. Each runs
on a worker thread and talks back through messages only."""

from __future__ import annotations

from pathlib import Path

from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.engine.train_state import TrainState
from minigpt2.tui.messages import ModelChanged, Said
from minigpt2.tui.widgets.train.form import DEFAULT_CHECKPOINT_FILE, TrainForm
from textual import on, work
from textual.widget import Widget


class ModelFiles(Widget):
    """Save (ctrl+s) and load (ctrl+o), for the Train pane, which has the engine and state."""

    engine: Engine
    state: TrainState

    @property
    def form(self) -> TrainForm:
        return self.query_one(TrainForm)

    def show_message(self, text: str, *, error: bool = False) -> None:
        raise NotImplementedError

    def action_save(self) -> None:
        self._save(Path(self.form.checkpoint_path or DEFAULT_CHECKPOINT_FILE).expanduser())

    def action_load(self) -> None:
        if self.state.active:
            return
        if not self.form.checkpoint_path:
            self.show_message("Type the checkpoint file to load.", error=True)
            return
        self.show_message(f"Loading {self.form.checkpoint_path}…")
        self._load(Path(self.form.checkpoint_path).expanduser())

    @work(thread=True, exclusive=True, group="checkpoint", exit_on_error=False)
    def _save(self, path: Path) -> None:
        try:
            step = self.engine.save_checkpoint(path)
        except EngineError as exc:
            self.post_message(Said(str(exc), error=True))
        else:
            self.post_message(Said(f"Saved the model (step {step:,}) to {path}."))

    @work(thread=True, exclusive=True, group="checkpoint", exit_on_error=False)
    def _load(self, path: Path) -> None:
        try:
            info = self.engine.load_checkpoint(path)
        except EngineError as exc:
            self.post_message(Said(str(exc), error=True))
        else:  # the app shows its history and says so here; Explore samples from it
            self.post_message(ModelChanged(info, "loaded", path.name))

    @on(Said)
    def _said(self, message: Said) -> None:
        message.stop()
        self.show_message(message.text, error=message.error)
        self.app.notify(message.text, severity="error" if message.error else "information",
                        timeout=8 if message.error else 4, markup=False)
