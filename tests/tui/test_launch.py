"""Launching: no arguments, bad arguments, and the app-wide pieces (help, palette, themes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from minigpt2.tui import app as app_module
from minigpt2.tui.app import MiniGPT2App, main
from minigpt2.tui.launch import LaunchOptions, parse_args
from minigpt2.tui.widgets.help_screen import HelpScreen
from textual.command import CommandPalette
from tui_helpers import SIZE, AppFactory, notices, wait_for


async def test_no_arguments_explores_the_shipped_model_at_once(tmp_path: Path) -> None:
    """The one test on the shipped checkpoint: a first launch gives name-like candidates
    within a few seconds, without the user doing anything."""
    from minigpt2.core.data.words import default_checkpoint_path

    if not default_checkpoint_path().is_file():
        pytest.skip("assets/default.safetensors is not built yet")
    app = MiniGPT2App(LaunchOptions(favourites=tmp_path / "favourites.json"))
    async with app.run_test(size=SIZE) as pilot:
        explore = app.explore
        await wait_for(pilot, lambda: bool(explore.candidates), timeout=10,
                       what="candidates from the shipped model")
        assert app.query_one("#tabs").active == "explore-tab"
        assert app.focused is explore.prompt
        assert app.engine.info is not None and app.engine.info.preset == "auto"
        assert app.train_pane.state == "idle"  # nothing to train: the model is there
        names = explore.shown_names()
        assert len(names) == 20 and all(name.isprintable() and name for name in names)
        assert "Model: auto model" in str(app.query_one("#status").render())


async def test_corrupt_checkpoint_is_a_message_not_a_traceback(
        make_app: AppFactory, tmp_path: Path) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00\x01 definitely not safetensors")
    app = make_app(checkpoint=broken)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("Cannot load checkpoint" in text
                                          for _, text in notices(app)), what="the error")
        message = next(text for _, text in notices(app) if "Cannot load checkpoint" in text)
        assert "broken.safetensors" in message
        assert any("instead" in text for _, text in notices(app))  # and what happens now
        assert app.is_running


async def test_missing_data_file_is_a_message(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app(checkpoint=None, data=str(tmp_path / "nope.txt"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("nope.txt" in text for _, text in notices(app)),
                       what="the error")
        assert any(severity == "error" and "no such file" in text
                   for severity, text in notices(app))
        assert app.is_running


async def test_data_argument_starts_training_on_it(make_app: AppFactory, word_file: Path
                                                   ) -> None:
    app = make_app(checkpoint=None, data=str(word_file), preset="seed")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.train_pane
        await wait_for(pilot, lambda: pane.state == "running", what="training to start")
        assert app.query_one("#tabs").active == "train-tab"
        assert pane.plan().data == str(word_file)


async def test_unknown_preset_is_named(make_app: AppFactory) -> None:
    app = make_app(preset="huge")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        message = next(text for _, text in notices(app) if "Unknown preset" in text)
        assert "'huge'" in message and "seed" in message and "default" in message


def test_parse_args() -> None:
    options = parse_args(["--data", "seed", "--checkpoint", "m.safetensors", "--preset",
                          "large", "--favourites", "f.json", "--light"])
    assert options == LaunchOptions(data="seed", checkpoint=Path("m.safetensors"),
                                    preset="large", favourites=Path("f.json"),
                                    theme="textual-light", freeze_gc=True, quick_names=True)
    assert parse_args([]) == LaunchOptions(freeze_gc=True, quick_names=True)  # not a test's


def test_unknown_flag_exits_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--bogus"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: minigpt2-tui" in err and "Traceback" not in err


async def test_help_palette_and_themes(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        titles = [command.title for command in app.get_system_commands(app.screen)]
        for wanted in ("Train: start, pause or resume", "Train: stop", "Train: save the model",
                       "Explore: keep the selected name", "Favourites: export", "Help"):
            assert wanted in titles
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")

        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-dark"


async def test_tab_keys_and_footer(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one("#tabs")
        for key, tab in (("f2", "train-tab"), ("f4", "favourites-tab"), ("f3", "explore-tab")):
            await pilot.press(key)
            assert tabs.active == tab
        await pilot.press("f2")
        keys = {binding.key for _, binding, _, _ in app.screen.active_bindings.values()}
        assert {"f5", "f6", "f7", "ctrl+s", "ctrl+o"} <= keys  # the Train tab's keys
        await pilot.press("f3")
        keys = {binding.key for _, binding, _, _ in app.screen.active_bindings.values()}
        assert "f5" not in keys and "ctrl+f" in keys  # not training: Explore's own keys


async def test_without_a_shipped_model_training_starts_at_once(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "shipped_checkpoint", lambda: None)
    app = make_app(checkpoint=None, preset="seed")
    async with app.run_test(size=SIZE) as pilot:
        pane = app.train_pane
        await wait_for(pilot, lambda: pane.state == "running", what="training to start")
        assert app.query_one("#tabs").active == "train-tab"
        assert any("No trained model yet" in text for _, text in notices(app))
        assert pane.plan().data == "seed" and pane.plan().preset == "seed"
        # Explore samples the weights in training without being asked
        await wait_for(pilot, lambda: app.explore.shown_request is not None,
                       what="Explore to sample the model in training")
