"""What the app opens on: the model the command line names, training on the data it names,
the last model trained here, the shipped model, or else a model trained at once. Runs on a
worker thread (loading imports torch), once the first frame is drawn; tells the UI with
messages as it goes: names from a model opened with numpy come first, while torch loads."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from minigpt2.core.config import DEFAULT_PRESET, Preset
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.words import WordListError
from minigpt2.core.train.plan import TrainPlan
from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.launch import TABS, LaunchOptions
from minigpt2.tui.messages import AutoTrain, ModelChanged, Notice
from minigpt2.tui.stores.session import Session, Settings
from textual.message import Message

TIMINGS_ENV = "MINIGPT2_TUI_TIMINGS"  # a file to note start-up moments in (the benchmark's)


def mark(moment: str) -> None:
    """Note when a moment of start-up came (e.g. "torch_ready") in the file that
    MINIGPT2_TUI_TIMINGS names, for bench/startup_bench.py; nothing when it is unset. The
    time is the system's monotonic clock, which the benchmark's process shares."""
    path = os.environ.get(TIMINGS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps({"event": moment, "monotonic": time.monotonic()}) + "\n")


def open_first_model(engine: Engine, options: LaunchOptions, session: Session, preset: str,
                     shipped: Path | None, tell: Callable[[Message], None]) -> None:
    """Open what the app starts on, telling the UI as it goes (`tell` posts a message)."""

    def load(path: Path, which: str = "") -> bool:
        quick = engine.open_quickly(path) if options.quick_names else None
        if quick is not None:  # names at once, from numpy, while torch loads
            tell(ModelChanged(quick, "loaded", path.name))
        try:
            info = engine.load_checkpoint(path)
        except EngineError as exc:
            tell(Notice(str(exc), "error"))
            return False
        if info != quick:  # the same model, whichever opened it: Explore's names stand
            tell(ModelChanged(info, "loaded", path.name))
        if which:
            tell(Notice(f"Reopened {which}: {info.describe()} ({path}). "
                        "minigpt2-tui --fresh starts from the shipped model."))
        return True

    if options.checkpoint is not None:
        if load(options.checkpoint):
            return
        fallback = "the built-in model" if shipped else "training a new one"
        tell(Notice(f"Using {fallback} instead.", "warning"))
    elif options.data is not None:
        try:
            WordData.from_source(options.data)  # a typo is an error now, not at Start
        except WordListError as exc:
            tell(Notice(f"{exc}. Using the built-in list instead.", "error"))
        else:
            tell(AutoTrain(TrainPlan(data=options.data, preset=preset),
                           f"Training on {options.data}"))
            return
    last = None if options.fresh or options.data else session.last_model()
    if last is not None and load(last, "your last model"):
        return
    if shipped is not None and load(shipped):
        return
    tell(AutoTrain(TrainPlan(preset=preset), "No trained model yet: training one now"))


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
