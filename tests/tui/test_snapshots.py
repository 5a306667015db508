"""Screenshots of each pane at a fixed seed, compared with the accepted SVGs in
__snapshots__/ (update them with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing).

Nothing in them depends on the clock: the model is the session's tiny one (fixed seed,
one thread), Explore samples with seed 0, favourites carry fixed timestamps shown in UTC,
the training view is fed fixed events, and the text cursor does not blink.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from minigpt2.core.config import ModelConfig, Preset, TrainConfig
from minigpt2.core.data.words import DatasetInfo
from minigpt2.core.train.plan import TrainEvent
from minigpt2.tui import app as app_module
from minigpt2.tui.engine import engine as engine_module
from minigpt2.tui.messages import TrainingProgress
from minigpt2.tui.widgets.quit_screen import QuitScreen
from textual.pilot import Pilot
from textual.widgets import Input
from tui_helpers import AppFactory, wait_for

SnapCompare = Any  # pytest-textual-snapshot's fixture
# What `auto` shows before Start, whatever core's rule becomes.
AUTO_NOW = Preset("auto", "auto for 9,254 training tokens, 30 s: 1 GPT-2 block 64 wide, 4 heads, "
                  "dropout 0.1; AdamW 3e-3 (decay 0.1), batch 32, 60 warm-up steps, cosine; best "
                  "weights kept", ModelConfig(),
                  TrainConfig(epochs=None, time_budget_s=30.0, batch_size=32, lr=3e-3, seed=42))
# The classic terminal, and a roomy one: the panes rearrange between the two.
Size = tuple[int, int]
SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


@pytest.fixture(autouse=True)
def fixed_world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Times shown in UTC, paths shown relative, and the same presets and word lists,
    whatever machine runs the test and however core's presets and assets change."""
    monkeypatch.setattr(app_module, "available_datasets", lambda: [
        DatasetInfo("seed", Path("seed.txt"), 1000), DatasetInfo("animals", Path("a.txt"), 500)])
    monkeypatch.setattr(app_module, "available_presets", lambda: [
        replace(AUTO_NOW, description="Fitted to the word list and the time."),
        Preset("seed", "The article's model: 1 layer, 1 head, d_model 32.", ModelConfig(),
               TrainConfig(epochs=100, batch_size=16, lr=1e-3, seed=42)),
    ])
    monkeypatch.setattr(engine_module, "chosen_preset", lambda plan, data: AUTO_NOW)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)
    yield
    monkeypatch.undo()
    time.tzset()


async def whole(pilot: Pilot) -> None:
    """Every pane there and the model loaded (which the status line names): snap_compare runs
    the app itself, not through run_test, so conftest's whole_at_start cannot wait for it.
    Before it, a tab key may find its pane not yet mounted (the footer then lacked the
    Favourites keys, 1 run in 2)."""
    app = pilot.app
    await wait_for(pilot, lambda: app.whole and app.engine.info is not None,  # type: ignore[attr-defined]
                   timeout=60, what="the whole app and its model")


def steady(pilot: Pilot) -> None:
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False


async def explore_ma(pilot: Pilot) -> None:
    app = pilot.app
    explore = app.explore  # type: ignore[attr-defined]
    await whole(pilot)
    await wait_for(pilot, lambda: explore.shown_request is not None, what="first candidates")
    await pilot.press("m", "a")
    await wait_for(pilot, lambda: explore.shown_request.prompt == "ma", what="'ma' candidates")
    await pilot.press("down", "down")  # the second name, to show the cursor and its map
    second = explore.shown_names()[1]
    await wait_for(pilot, lambda: explore.attention_map.word == second, what="its attention")
    steady(pilot)


@SIZES
def test_explore_pane(snap_compare: SnapCompare, make_app: AppFactory, size: Size
        ) -> None:
    app = make_app(favourites=Path("favourites.json"))
    assert snap_compare(app, terminal_size=size, run_before=explore_ma)


def test_explore_pane_light_theme(snap_compare: SnapCompare, make_app: AppFactory) -> None:
    app = make_app(favourites=Path("favourites.json"), theme="textual-light")
    assert snap_compare(app, terminal_size=(80, 24), run_before=explore_ma)


def test_explore_pane_with_a_did_you_mean_line(snap_compare: SnapCompare, make_app: AppFactory
                                              ) -> None:
    async def run_before(pilot: Pilot) -> None:
        explore = pilot.app.explore  # type: ignore[attr-defined]
        await whole(pilot)
        await wait_for(pilot, lambda: explore.shown_request is not None, what="first candidates")
        await pilot.press(*"jolluto")  # a training word of the tiny model, one letter doubled
        await wait_for(pilot, lambda: explore.did_you_mean.names[:1] == ["joluto"],
                       what="its correction")
        steady(pilot)

    app = make_app(favourites=Path("favourites.json"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@SIZES
def test_train_pane_with_a_loaded_model(snap_compare: SnapCompare, make_app: AppFactory, size: Size
                                        ) -> None:
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await whole(pilot)
        await pilot.press("f2")
        choice = app.query_one("#preset-choice")
        await wait_for(pilot, lambda: choice.tooltip == AUTO_NOW.description, what="auto's line")
        app.train_pane.chart.redraw_now()  # type: ignore[attr-defined]
        steady(pilot)

    app = make_app(favourites=Path("favourites.json"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def fake_run() -> list[TrainEvent]:
    """A run's events as the trainer sends them: progress, an eval per 40 steps, samples."""
    events = []
    for step in range(10, 410, 10):
        progress = step / 1000
        common = dict(step=step, total_steps=1000, epoch=step / 40, tokens_per_s=48_250.0,
                      elapsed_s=step / 20, remaining_s=(1000 - step) / 20, progress=progress)
        events.append(TrainEvent(kind="progress", train_loss=3.3 - 1.8 * progress ** 0.3,
                                 val_loss=None, **common))  # type: ignore[arg-type]
        if step % 40 == 0:
            events.append(TrainEvent(kind="eval", train_loss=None,
                                     val_loss=3.35 - 1.7 * progress ** 0.3,
                                     **common))  # type: ignore[arg-type]
        if step % 200 == 0:
            events.append(TrainEvent(kind="samples", train_loss=None, val_loss=None,
                                     samples=("mara", "elsa", "kolina", "rito", "jomi"),
                                     **common))  # type: ignore[arg-type]
    return events


@SIZES
def test_train_pane_while_training(snap_compare: SnapCompare, make_app: AppFactory, size: Size
        ) -> None:
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await whole(pilot)
        await pilot.press("f2", "f7")  # reset: clear the loaded model's curves
        pane = app.train_pane  # type: ignore[attr-defined]
        # as if a run were on: the events below are what it sent
        app.engine.status.set("running")  # type: ignore[attr-defined]
        pane.show_message("Training the auto preset on seed…")
        pane.post_message(TrainingProgress(fake_run()))
        await wait_for(pilot, lambda: pane.readout("step") == "400/1,000", what="the events")
        pane.chart.redraw_now()
        steady(pilot)

    app = make_app(favourites=Path("favourites.json"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_quit_dialog_while_training(snap_compare: SnapCompare, make_app: AppFactory) -> None:
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await whole(pilot)
        await pilot.press("f2", "f7")
        pane = app.train_pane  # type: ignore[attr-defined]
        app.engine.status.set("running")  # type: ignore[attr-defined]  # as if a run were on
        pane.post_message(TrainingProgress(fake_run()))
        await wait_for(pilot, lambda: pane.readout("step") == "400/1,000", what="the events")
        pane.chart.redraw_now()
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), what="the dialog")
        steady(pilot)

    app = make_app(favourites=Path("favourites.json"))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@SIZES
def test_favourites_pane(snap_compare: SnapCompare, make_app: AppFactory, size: Size, tmp_path: Path
                         ) -> None:
    items = [
        {"name": "marilu", "added_at": "2024-05-01T09:30:00+00:00", "prompt": "ma",
         "settings": {"temperature": 0.8, "top_k": None, "top_p": 0.9, "seed": 0,
                      "model": "default", "step": 3000}},
        {"name": "kosael", "added_at": "2024-05-01T09:31:12+00:00", "prompt": "",
         "settings": {"temperature": 1.0, "seed": 2, "model": "default", "step": 3000}},
        {"name": "jolira", "added_at": "2024-05-02T18:05:59+00:00", "prompt": "jo",
         "settings": {"temperature": 1.2, "top_k": 5, "model": "seed", "step": 800}},
    ]
    (tmp_path / "favourites.json").write_text(json.dumps({"version": 1, "favourites": items}))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "blocklist.txt").write_text("kona\nlamilu\n")

    async def run_before(pilot: Pilot) -> None:
        await whole(pilot)
        await pilot.press("f4")
        steady(pilot)

    # data_dir relative, as favourites: the blocked names' file is shown by its path
    app = make_app(favourites=Path("favourites.json"), data_dir=Path("data"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_help_screen(snap_compare: SnapCompare, make_app: AppFactory, size: Size
        ) -> None:
    async def run_before(pilot: Pilot) -> None:
        explore = pilot.app.explore  # type: ignore[attr-defined]
        await whole(pilot)
        await wait_for(pilot, lambda: bool(explore.candidates), what="the candidates behind")
        await pilot.press("f1")
        steady(pilot)

    app = make_app(favourites=Path("favourites.json"))
    assert snap_compare(app, terminal_size=size, run_before=run_before)
