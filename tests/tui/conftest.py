"""Shared fixtures: a tiny word list, the tiny model with fixed weights, an app factory.

Nothing here touches the user's real data directory: every app gets its favourites file,
last model and settings in a temporary directory.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.engine.engine import Engine
from minigpt2.tui.launch import LaunchOptions
from minigpt2.tui.widgets.explore import settings as explore_settings
from textual.pilot import Pilot
from tiny_model import TINY_CHECKPOINT, syllable_names
from tui_helpers import AppFactory, record_notices, wait_for


@pytest.fixture(scope="session")
def word_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "names.txt"
    path.write_text("\n".join(syllable_names()) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model (tiny_model.py), from its file: fixed weights, so the snapshots do not
    change with torch or the CPU. A copy, so no test can change the original."""
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    shutil.copyfile(TINY_CHECKPOINT, path)
    return path


@pytest.fixture(autouse=True)
def unhurried_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explore's 0.5 s limit on a request would make how many names come back depend on how
    fast and how busy the machine is: tests wait on names, not on time."""
    monkeypatch.setattr(explore_settings, "TIME_LIMIT_S", 60.0)


def unhurried_repairs() -> Engine:
    """An engine whose "did you mean" scores as many second edits as its time budget
    affords on a clock that steps 10 ms a reading, as a typical machine's: the same on
    every machine."""
    readings = itertools.count()
    return Engine(threads=1, repair_clock=lambda: next(readings) * 0.01)


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                     ) -> None:
    """No test reads or writes the user's real data directory (last model, settings)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture
def make_app(tmp_path: Path, tiny_checkpoint: Path) -> AppFactory:
    """An app on the tiny model with its favourites in tmp_path; keywords override. What it
    tells the user is recorded: tui_helpers.notices(app)."""

    def make(**overrides: object) -> MiniGPT2App:
        options: dict[str, object] = {
            "checkpoint": tiny_checkpoint,
            "favourites": tmp_path / "favourites.json",
            "data_dir": tmp_path / "data",
            "threads": 1,
        }
        options.update(overrides)
        app = MiniGPT2App(LaunchOptions(**options), engine=unhurried_repairs())  # type: ignore[arg-type]
        record_notices(app)
        return whole_at_start(app)

    return make


def whole_at_start(app: MiniGPT2App) -> MiniGPT2App:
    """`app`, whose run_test hands over the pilot once the panes mounted after the first
    frame are there too (test_startup.py tests that part): a test then starts, as a user
    does, from the whole app."""
    run_test = app.run_test

    @asynccontextmanager
    async def run_whole(*args: Any, **kwargs: Any) -> AsyncIterator[Pilot[None]]:
        async with run_test(*args, **kwargs) as pilot:
            await wait_for(pilot, lambda: app.whole, what="the panes after the first frame")
            yield pilot

    app.run_test = run_whole  # type: ignore[method-assign]
    return app
