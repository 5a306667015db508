"""The user's work survives quitting, restarting and crashes: autosave, reopen, quit while
training, and files that are either as they were or complete after a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.stores.session import MODEL_FILE, SETTINGS_FILE, Session
from minigpt2.tui.widgets.quit_screen import QuitScreen
from minigpt2.tui.widgets.train.pane import TrainPane
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox
from tui_helpers import SIZE, AppFactory, notices, press, wait_for


async def start_a_long_run(pilot: Pilot, app: MiniGPT2App, word_file: Path) -> TrainPane:
    """Once the model is there, start training on the tiny list for longer than any test."""
    await wait_for(pilot, lambda: app.engine.info is not None, what="the model")
    pane = app.train_pane
    pane.set_data(str(word_file))
    pane.form.input("time-budget").value = "600"
    await press(pilot, "f2", "f5")
    return pane


async def test_a_stopped_run_is_reopened_with_the_settings(
        make_app: AppFactory, word_file: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    app = make_app(preset="seed", data_dir=data_dir)
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_a_long_run(pilot, app, word_file)
        await wait_for(pilot, lambda: pane.last_event is not None and pane.last_event.step >= 20,
                       what="20 steps")
        await press(pilot, "f6")
        # The engine has the model before the pane has shown the run's end: wait for both.
        await wait_for(pilot, lambda: pane.state == "done" and app.engine.info is not None
                       and app.engine.info.preset == "seed", what="the stopped run's model")
        assert "Kept for next time" in str(pane.query_one("#train-message").render())
        step = app.engine.info.step if app.engine.info else -1
        assert step >= 20 and (data_dir / MODEL_FILE).is_file()
        app.explore.query_one("#temperature").value = "0.7"
        app.explore.query_one("#novel-only", Checkbox).value = True
        await press(pilot, "ctrl+q")  # not training: quits at once, keeping the settings
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")
    saved = json.loads((data_dir / SETTINGS_FILE).read_text())
    assert saved["preset"] == "seed" and saved["data"] == str(word_file)
    assert saved["tab"] == "train"

    again = make_app(checkpoint=None, preset=None, data_dir=data_dir)
    async with again.run_test(size=SIZE) as pilot:
        # The model, then the notice: two messages, so wait for the second as well.
        await wait_for(pilot, lambda: again.engine.info is not None and any(
            "Reopened your last model" in text for _, text in notices(again)), what="the notice")
        assert again.engine.info is not None and again.engine.info.step == step
        assert again.engine.info.preset == "seed"
        assert any("Reopened your last model" in text and "step" in text
                   for _, text in notices(again))
        assert again.train_pane.form.preset == "seed"
        assert again.train_pane.form.data == str(word_file)
        assert again.query_one("#tabs").active == "train-tab"
        assert again.explore.query_one("#temperature").value == "0.7"
        assert again.explore.query_one("#novel-only", Checkbox).value


async def test_fresh_ignores_the_last_model_and_settings(make_app: AppFactory, tmp_path: Path,
                                                         tiny_checkpoint: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / MODEL_FILE).write_bytes(b"a model that must not be opened")
    Session(data_dir).save_settings(Session(data_dir).load_settings())
    (data_dir / SETTINGS_FILE).write_text(json.dumps({"preset": "seed", "tab": "favourites"}))
    app = make_app(checkpoint=None, data_dir=data_dir, fresh=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine.info is not None or app.train_pane.state.active,
                       what="a model")
        assert not any("Cannot load" in text or "Reopened" in text for _, text in notices(app))
        assert app.query_one("#tabs").active != "favourites-tab"


async def test_autosave_during_a_run(make_app: AppFactory, word_file: Path, tmp_path: Path
                                     ) -> None:
    data_dir = tmp_path / "data"
    app = make_app(preset="seed", data_dir=data_dir, autosave_interval_s=0.0)  # every event
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_a_long_run(pilot, app, word_file)
        await wait_for(pilot, lambda: (data_dir / MODEL_FILE).is_file(), what="an autosave")
        assert pane.state.active  # kept while it trains, not only at the end
        from minigpt2.core.checkpoint import load_checkpoint

        assert load_checkpoint(data_dir / MODEL_FILE).step > 0
        await press(pilot, "f6")
        await wait_for(pilot, lambda: pane.state == "done", what="the stop")


async def test_quit_while_training_asks_then_stops_and_keeps(
        make_app: AppFactory, word_file: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    app = make_app(preset="seed", data_dir=data_dir)
    async with app.run_test(size=SIZE) as pilot:
        pane = await start_a_long_run(pilot, app, word_file)
        await wait_for(pilot, lambda: pane.state == "running", what="training")
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), what="the question")
        app.screen.query_one("#quit-stay", Button).press()
        await wait_for(pilot, lambda: not isinstance(app.screen, QuitScreen), what="the answer")
        assert app.is_running and pane.state == "running"  # kept training

        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), what="the question")
        app.screen.query_one("#quit-stop", Button).press()
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")
    from minigpt2.core.checkpoint import load_checkpoint

    assert load_checkpoint(data_dir / MODEL_FILE).step > 0


# --- crashes -------------------------------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from minigpt2.tui.stores.favourites import Favourite, FavouritesStore
from minigpt2.tui.stores.session import Session, Settings

kind, path = sys.argv[1], Path(sys.argv[2])
for round_ in range(1, 100000):
    if kind == "favourites":
        store = FavouritesStore(path, [Favourite(f"name{i}", "2024-01-01T00:00:00+00:00")
                                       for i in range(round_ * 50)])
        store.save()
    else:
        Session(path.parent).save_settings(Settings(data="x" * (round_ * 5000), tab="train"))
    print(round_, flush=True)
"""


@pytest.mark.parametrize("kind", ["favourites", "settings"])
def test_kill_9_mid_write_leaves_the_old_or_the_new_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("favourites.json" if kind == "favourites" else SETTINGS_FILE)
    for rounds in (3, 7, 12):  # kill at a different point each time
        child = subprocess.Popen([sys.executable, "-c", WRITER, kind, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        for _ in range(rounds):  # wait on writes done, never on the clock
            assert child.stdout.readline()
        os.kill(child.pid, signal.SIGKILL)  # most likely in the middle of the next write
        child.wait()
        data = json.loads(path.read_text())  # complete: it parses
        if kind == "favourites":
            assert len(data["favourites"]) % 50 == 0 and len(data["favourites"]) >= rounds * 50
        else:
            assert len(data["data"]) % 5000 == 0 and len(data["data"]) >= rounds * 5000


PARTIAL = """
import resource, signal, sys
from pathlib import Path
from minigpt2.tui.stores.favourites import Favourite, FavouritesError, FavouritesStore

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full disk: writes fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
store = FavouritesStore(Path(sys.argv[1]), [Favourite(f"new{i}", "2024-01-01T00:00:00+00:00")
                                           for i in range(500)])
try:
    store.save()
except FavouritesError as exc:
    print("failed:", exc)
"""


def test_a_write_that_fails_part_way_keeps_the_old_favourites(tmp_path: Path) -> None:
    from minigpt2.tui.stores.favourites import Favourite, FavouritesStore

    path = tmp_path / "favourites.json"
    old = FavouritesStore(path, [Favourite("kept", "2024-01-01T00:00:00+00:00")])
    old.save()
    before = path.read_bytes()
    limit = len(before) + 100  # room for the old file, not for the new one
    out = subprocess.run([sys.executable, "-c", PARTIAL, str(path), str(limit)],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("failed:")  # the write did fail part-way
    assert path.read_bytes() == before
    assert FavouritesStore.load(path).names == ["kept"]
    assert [p.name for p in tmp_path.iterdir()] == ["favourites.json"]  # no leftovers
