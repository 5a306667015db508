"""What the app opens on: the model the command line names, training on the data it names,
the last model trained here, the shipped model, or else a model trained at once. Runs on a
worker thread (loading imports torch); returns the messages that tell the UI."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from ..core.config import DEFAULT_PRESET, Preset
from ..core.data import WordData, WordListError
from ..core.training import TrainPlan
from .engine import Engine, EngineError
from .launch import TABS, LaunchOptions
from .messages import AutoTrain, ModelChanged, Notice
from .session import Session, Settings


def start_messages(engine: Engine, options: LaunchOptions, session: Session, preset: str,
                   shipped: Path | None) -> list[Message]:
    said: list[Message] = []

    def load(path: Path, which: str = "") -> bool:
        try:
            info = engine.load_checkpoint(path)
        except EngineError as exc:
            said.append(Notice(str(exc), "error"))
            return False
        said.append(ModelChanged(info, "loaded", path.name))
        if which:
            said.append(Notice(f"Reopened {which}: {info.describe()} ({path}). "
                               "minigpt2-tui --fresh starts from the shipped model."))
        return True

    if options.checkpoint is not None:
        if load(options.checkpoint):
            return said
        fallback = "the built-in model" if shipped else "training a new one"
        said.append(Notice(f"Using {fallback} instead.", "warning"))
    elif options.data is not None:
        try:
            WordData.from_source(options.data)  # a typo is an error now, not at Start
        except WordListError as exc:
            said.append(Notice(f"{exc}. Using the built-in list instead.", "error"))
        else:
            return [*said, AutoTrain(TrainPlan(data=options.data, preset=preset),
                                     f"Training on {options.data}")]
    last = None if options.fresh or options.data else session.last_model()
    if last is not None and load(last, "your last model"):
        return said
    if shipped is not None and load(shipped):
        return said
    return [*said, AutoTrain(TrainPlan(preset=preset), "No trained model yet: training one now")]


def choose_preset(wanted: str | None, presets: list[Preset]) -> str:
    """`wanted` if it is a preset, else the default one."""
    names = [p.name for p in presets]
    wanted = wanted or DEFAULT_PRESET
    return wanted if wanted in names else (DEFAULT_PRESET if DEFAULT_PRESET in names
                                             else names[0])


def initial_tab(options: LaunchOptions, settings: Settings, shipped: bool) -> str:
    """The tab left last time; else Explore when a model will be there to explore, else
    Train (which starts)."""
    if options.data is None and options.checkpoint is None and settings.tab in TABS:
        return settings.tab
    if options.checkpoint is not None or (options.data is None and shipped):
        return "explore"
    return "train"
