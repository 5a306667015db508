"""Start-up: the first frame before any model work, and the first names from numpy while
torch loads (as the command line starts the app: `quick_names`)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from minigpt2.core import checkpoint
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.request import SampleConfig
from minigpt2.tui import app as app_module
from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.engine import engine as engine_module
from minigpt2.tui.engine.engine import Engine, EngineClosed
from minigpt2.tui.launch import LaunchOptions
from minigpt2.tui.stores.session import Session, Settings
from minigpt2.tui.widgets.explore.settings import ExploreSettings
from minigpt2.tui.widgets.favourites.pane import FavouritesPane
from minigpt2.tui.widgets.main_screen import MainScreen
from minigpt2.tui.widgets.train.pane import TrainPane
from textual.widgets import Input, TabbedContent
from tui_helpers import SIZE, AppFactory, press, wait_for


async def test_the_first_frame_is_drawn_before_the_boot_opens_a_model(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a model imports torch, which holds the GIL that drawing needs."""
    happened: list[str] = []
    draw, boot = MainScreen._compositor_refresh, app_module.open_first_model

    def drawn(screen: MainScreen) -> None:
        if app.whole:
            happened.append("frame")
        elif not app.explore.form.filled:
            happened.append("frame without Train, Favourites and Explore's settings")
        else:
            happened.append("frame without Train and Favourites")
        draw(screen)

    def booted(*args: object) -> None:
        happened.append("boot")
        boot(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(MainScreen, "_compositor_refresh", drawn)
    monkeypatch.setattr(app_module, "open_first_model", booted)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.explore.candidates), what="names")
        # The boot's news went to the Train pane, mounted after the first frame.
        await wait_for(pilot, lambda: "Loaded tiny.safetensors" in str(
            app.train_pane.query_one("#train-message").render()), what="the Train pane told")
    # The first frame holds the Explore pane alone, less its settings: the panes not on show
    # are half the widgets, and the settings form cost the first frame 0.07 s.
    assert happened[0] == "frame without Train, Favourites and Explore's settings"
    assert happened.index("boot") > 0


async def test_the_pane_on_show_is_in_the_first_frame(make_app: AppFactory, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """No shipped model: the app opens on Train, which starts a run at once."""
    first: list[tuple[bool, bool]] = []
    draw = MainScreen._compositor_refresh

    def drawn(screen: MainScreen) -> None:
        if not first:
            first.append((bool(app.query(TrainPane)), bool(app.query(FavouritesPane))))
        draw(screen)

    monkeypatch.setattr(MainScreen, "_compositor_refresh", drawn)
    monkeypatch.setattr(app_module, "shipped_checkpoint", lambda: None)
    app = make_app(checkpoint=None, data_dir=tmp_path / "empty")
    async with app.run_test(size=SIZE) as pilot:
        assert app.query_one("#tabs", TabbedContent).active == "train-tab"
        await wait_for(pilot, lambda: app.train_state.active, what="the run to start")
        app.train_pane.action_stop()
        await wait_for(pilot, lambda: not app.train_state.active, what="the run to stop")
    assert first == [(True, False)]


class HeldTorch:
    """Holds every torch load until `release()`: torch is then "still loading"."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.loads = 0
        self._go = threading.Event()
        load = Engine._load_checkpoint

        def held(engine: Engine, path: Path) -> object:
            self.loads += 1
            self._go.wait(60)
            return load(engine, path)

        monkeypatch.setattr(Engine, "_load_checkpoint", held)

    def release(self) -> None:
        self._go.set()


async def test_the_first_names_come_from_numpy_while_torch_loads(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = HeldTorch(monkeypatch)
    app = make_app(checkpoint=None, quick_names=True)  # a first launch: the shipped model
    async with app.run_test(size=SIZE) as pilot:
        explore = app.explore
        # The first names, answering the latest request with none still running: a request
        # the mount queued could otherwise be answered after them (once, in a CI run).
        await wait_for(pilot, lambda: len(explore.candidates) == 20
                       and explore.shown_request == explore.wanted_request
                       and not any(w.group == "sample" and w.is_running for w in app.workers),
                       what="the first names, settled")
        assert torch.loads == 1 and app.engine._quick is not None  # torch not loaded yet
        assert app.engine.info is not None and app.engine.info.preset == "auto"
        assert "step 1,140" in str(app.query_one("#status").render())
        first = explore.shown_names()
        # What the list says of each name is the model's: as torch says, once loaded.
        kinds = [explore._kinds[name] for name in first]
        shown = list(explore.candidates)

        torch.release()
        await wait_for(pilot, lambda: app.engine._quick is None, what="torch to load")
        await pilot.pause(0.2)
        assert explore.shown_names() == first  # the same model: its names stay
        sampler = app.engine._sampler
        assert sampler is not None
        for name in shown:
            if not name.cut:
                assert name.logprob == pytest.approx(sampler.score(name.name).logprob, abs=1e-4)
            assert name.source == sampler.source_of(name.name)
        assert kinds == app.engine.best_categories(first)

        await press(pilot, "m")  # from now on, torch samples
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.prompt == "m", what="names for 'm'")
        assert all(name.startswith("m") for name in explore.shown_names())


async def test_what_numpy_cannot_sample_waits_for_torch(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind of name (guided by the model's categories) is torch's alone."""
    torch = HeldTorch(monkeypatch)
    app = make_app(checkpoint=None, quick_names=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine._quick is not None, what="a quick opening")
        answer: list[object] = []
        asked = threading.Thread(target=lambda: answer.append(app.engine.sample(
            SampleConfig(n=5, category="animals", guidance=2.0, seed=0, time_limit_s=None))))
        asked.start()
        asked.join(0.5)
        assert not answer  # waiting for torch, not answered by numpy
        torch.release()
        asked.join(60)
        assert answer and len(answer[0]) == 5  # type: ignore[arg-type]


async def test_torch_loads_once_the_quick_names_are_on_the_screen(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Torch's loading holds the GIL for long stretches: the UI thread draws the first
    names before it starts, not merely once numpy has sampled them."""
    on_screen_at_load: list[bool] = []
    load = checkpoint.load_checkpoint
    app = make_app(checkpoint=None, quick_names=True)

    def loading(*args: object, **kwargs: object) -> object:
        on_screen_at_load.append(bool(app.explore.candidates))
        return load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checkpoint, "load_checkpoint", loading)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine._quick is None and bool(on_screen_at_load),
                       what="torch to load")
    assert on_screen_at_load == [True]


async def test_a_field_that_says_it_changed_without_a_change_asks_for_nothing(
        make_app: AppFactory) -> None:
    """Fields mounted with their values (a kind's weight) post Changed: at start-up, such a
    request cancelled the first names on their way, and torch, once loaded, answered it with
    other names than numpy's."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = app.explore
        await wait_for(pilot, lambda: bool(explore.candidates)
                       and explore.shown_request == explore.wanted_request, what="names")
        asked = explore.wanted_request
        explore.prompt.post_message(Input.Changed(explore.prompt, explore.prompt.value))
        await pilot.pause(0.3)
        assert explore.wanted_request is asked
        assert not any(w.group == "sample" and w.is_running for w in app.workers)


def test_the_quick_model_names_and_tells_kinds_without_torch_or_numpy_s_random() -> None:
    """The kinds column came from a module that imports torch: the first names waited for
    torch's import, which another thread had under way (first names 3.2 s, not 1.1 s).
    numpy.random's import took 12 ms of the first names' 20 ms of sampling."""
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from minigpt2.core.sample.request import SampleConfig
        from minigpt2.tui.engine.engine import Engine
        engine = Engine()
        assert engine.open_quickly(Path({str(default_checkpoint_path())!r})) is not None
        assert len(engine.sample(SampleConfig(n=20, seed=0)) or []) == 20
        kinds = engine.best_categories(["tiger", "banana"])
        print(kinds, "torch" in sys.modules, "numpy.random" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.split() == ["['animals',", "'fruits-vegetables']", "False", "False"]


async def test_the_other_panes_wait_for_the_first_names(make_app: AppFactory,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Mounting the panes not on show and sampling the first names share the GIL: the names
    come first (0.62-0.72 s after launch, not 0.90 s), then the panes."""
    torch = HeldTorch(monkeypatch)  # torch still loading throughout: the names are numpy's
    names_at_mount: list[bool] = []
    make_pane = app_module.MiniGPT2App._train_pane

    def train_pane(app: app_module.MiniGPT2App) -> TrainPane:
        names_at_mount.append(bool(app.explore.candidates))
        return make_pane(app)

    monkeypatch.setattr(app_module.MiniGPT2App, "_train_pane", train_pane)
    app = make_app(checkpoint=None, quick_names=True)
    async with app.run_test(size=SIZE):  # (hands over once every pane is there)
        try:
            assert names_at_mount == [True]
            assert "Loaded" in str(app.train_pane.query_one("#train-message").render())
        finally:
            torch.release()  # or the boot holds the app's exit for a minute


async def test_the_first_names_come_before_explore_s_settings_form_as_the_user_left_it(
        make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Explore's settings form is filled once the first names are on the screen (its fields
    cost them 0.1 s of the GIL): until then a request reads the values the form is to be
    filled with, the settings saved last time, the kind chosen then included. Then the
    fields hold those values, and nothing changes for the names."""
    saved = {"prompt": "ma", "max-len": "7", "novel-only": True, "category": "animals"}
    Session(tmp_path / "data").save_settings(Settings(sampling=saved))
    before_fill: list[tuple[str, ...]] = []
    fill = ExploreSettings.fill

    async def fill_once_names_are_shown(form: ExploreSettings) -> None:
        for _ in range(6000):  # until Explore shows names (the cap: no hang)
            if app.explore.shown_request is not None:
                break
            await asyncio.sleep(0.01)
        before_fill.append(tuple(app.explore.shown_names()))
        await fill(form)

    monkeypatch.setattr(ExploreSettings, "fill", fill_once_names_are_shown)
    app = make_app(checkpoint=default_checkpoint_path())  # with kinds, for the form to offer
    async with app.run_test(size=SIZE) as pilot:
        explore = app.explore
        await wait_for(pilot, lambda: explore.form.filled, what="the settings form")
        request = explore.shown_request
        assert request is not None and before_fill == [tuple(explore.shown_names())]
        assert (request.prompt, request.max_len, request.category) == ("ma", 7, "animals")
        assert before_fill[0] and all(name.startswith("ma") for name in before_fill[0])
        assert request.novel_only and {c.source for c in explore.candidates} == {"novel"}
        form = explore.form
        assert (form.text("max-len"), form.switch("novel-only"), form.choice) == (
            "7", True, "animals")
        assert explore.current_request() == request  # the fields ask what the values did
        assert {key: explore.settings()[key] for key in saved} == saved


def app_with_first_names_held(tiny_checkpoint: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch
                              ) -> tuple[MiniGPT2App, threading.Event]:
    """An app launched as the command line does (not whole_at_start), whose mount of the
    panes not on show waits for the first names until the event is set."""
    names_shown = threading.Event()
    monkeypatch.setattr(Engine, "wait_for_first_names",
                        lambda self, timeout: names_shown.wait(60))
    app = MiniGPT2App(LaunchOptions(checkpoint=tiny_checkpoint, data_dir=tmp_path / "data",
                                    favourites=tmp_path / "favourites.json", quick_names=True))
    return app, names_shown


async def test_quitting_before_every_pane_is_there_is_clean(
        tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The panes not on show are mounted once the first names are on the screen: the app
    may close first. Then the mount finds no tabs to mount into, and must not fail (it did,
    as a WorkerFailed out of the app, in a test pinned to a busy core)."""
    app, names_shown = app_with_first_names_held(tiny_checkpoint, tmp_path, monkeypatch)
    shutdown = app._shutdown

    async def names_as_the_app_closes() -> None:
        names_shown.set()  # the mount goes on while the app's widgets are being closed
        await shutdown()

    app._shutdown = names_as_the_app_closes  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:  # not whole_at_start: quit before
        await wait_for(pilot, lambda: app.engine.info is not None,
                       what="the model, the mount waiting for its names")
        assert not app.whole
    assert app.return_code in (0, None)


async def test_ctrl_q_in_the_first_moments_quits_once_the_panes_are_in(
        tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ctrl+q while the panes not on show are being mounted: closing a widget mid-mount
    printed a traceback from Textual's Select on exit (in a terminal, ctrl+q 0.4-0.55 s
    after the first frame). The quit waits for the panes, which no longer wait for the
    first names, and keeps what the user typed."""
    app, names_shown = app_with_first_names_held(tiny_checkpoint, tmp_path, monkeypatch)
    try:  # (the names never come, until the end: the mount would wait up to 1 s)
        async with app.run_test(size=SIZE) as pilot:  # not whole_at_start: quit before
            await wait_for(pilot, lambda: app.engine.info is not None,
                           what="the model, the mount waiting for its names")
            assert not app.whole
            app.explore.prompt.value = "ma"
            await press(pilot, "ctrl+q")
            await wait_for(pilot, lambda: not app.is_running, what="the app to quit")
            assert app.whole  # the panes were mounted before it quit
    finally:
        names_shown.set()
    assert Session(tmp_path / "data").load_settings().sampling["prompt"] == "ma"


def test_a_closed_engine_loads_no_model(tiny_checkpoint: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Quit before the first names are drawn: the boot waited up to 2 s for names that would
    never be drawn, then loaded torch for nothing, and the process waited for it (ctrl+q at
    the first frame took 3.4-3.7 s to exit in a terminal; 0.6 s now)."""
    monkeypatch.setattr(engine_module, "QUICK_FIRST_S", 60.0)  # a wait the test would see
    engine = Engine()
    assert engine.open_quickly(tiny_checkpoint) is not None
    engine.close()
    outcome: list[str] = []

    def load() -> None:
        try:
            engine.load_checkpoint(tiny_checkpoint)
            outcome.append("loaded")
        except EngineClosed:
            outcome.append("refused")

    loading = threading.Thread(target=load)
    loading.start()
    loading.join(30)  # (a bound for a failure, not a measure: it ends at once)
    assert outcome == ["refused"] and engine.info is None


async def test_the_app_closes_its_engine_however_it_ends(make_app: AppFactory,
                                                         tiny_checkpoint: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE):
        pass
    with pytest.raises(EngineClosed):
        app.engine.load_checkpoint(tiny_checkpoint)
