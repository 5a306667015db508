"""State in one place: the engine owns where training is (the Train pane, the footer and the
quit dialog observe it), the engine's parts are given what they need rather than calling
back into a host, and a run leaves no process-wide setting changed."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from minigpt2.core.train.plan import TrainPlan
from minigpt2.tui.engine import engine as engine_module
from minigpt2.tui.engine.engine import Engine, EngineError
from minigpt2.tui.engine.explore_queries import ExploreQueries
from minigpt2.tui.engine.train_state import RunEnd, TrainState
from minigpt2.tui.widgets.key_footer import KeyFooter
from minigpt2.tui.widgets.quit_screen import QuitScreen
from tui_helpers import SIZE, AppFactory, press, wait_for

TUI = Path(__file__).resolve().parents[2] / "tui"

# --- no mixins -------------------------------------------------------------------------------


def mixed_classes(source: str) -> list[str]:
    """Classes with more than one base: a mixin calls back into its host. `str, Enum` is
    the one exception (an enum whose members compare equal to their text)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and len(node.bases) > 1:
            if [ast.unparse(base) for base in node.bases] != ["str", "Enum"]:
                found.append(node.name)
    return found


def test_the_check_finds_a_mixin() -> None:
    assert mixed_classes("class Pane(Horizontal, ModelFiles): pass") == ["Pane"]
    assert mixed_classes("class State(str, Enum): pass\nclass A(B): pass") == []


def test_no_tui_class_mixes_in_a_second_base() -> None:
    mixed = {str(path.relative_to(TUI)): names for path in sorted(TUI.rglob("*.py"))
             if (names := mixed_classes(path.read_text("utf-8")))}
    assert mixed == {}


def test_explore_queries_use_only_what_they_are_given() -> None:
    asked: list[str] = []

    def use_sampler(what: str, cancelled: object, use: object) -> None:
        asked.append(what)  # no model: the engine's sampler answers None

    queries = ExploreQueries(use_sampler, quick=lambda: None, weights=lambda: 0)
    assert queries.best_categories(["kona", "lami"]) == [None, None]
    assert queries.did_you_mean("ko") == []  # a start being typed: not worth the sampler
    assert queries.did_you_mean("kono") == []
    assert asked == ["No categories", "No corrections"]


# --- the engine owns the training state ------------------------------------------------------


def watched(engine: Engine) -> list[tuple[TrainState, RunEnd | None]]:
    told: list[tuple[TrainState, RunEnd | None]] = []
    engine.status.watch(lambda state, ended: told.append((state, ended)))
    return told


def test_a_run_tells_each_state_and_how_it_ended(word_file: Path) -> None:
    engine = Engine(threads=1)
    told = watched(engine)
    before = sys.getswitchinterval()
    assert engine.begin() and not engine.begin()  # Start twice: one run
    outcome = engine.train(TrainPlan(data=str(word_file), preset="seed", steps=5), print)
    assert outcome is not None
    assert [state for state, _ in told] == ["starting", "running", "done"]
    ended = told[-1][1]
    assert ended is not None and ended.result is outcome[0] and ended.info is outcome[1]
    assert engine.train_state == "done" and engine.info is outcome[1]
    assert sys.getswitchinterval() == before  # the run's quicker GIL hand-over is undone


def test_a_failed_run_ends_failed_with_its_error(tmp_path: Path) -> None:
    engine = Engine(threads=1)
    told = watched(engine)
    with pytest.raises(EngineError):
        engine.train(TrainPlan(data=str(tmp_path / "nope.txt"), preset="seed"), print)
    assert [state for state, _ in told] == ["starting", "failed"]
    ended = told[-1][1]
    assert ended is not None and "nope.txt" in str(ended.error)
    assert not engine.train_state.active
    engine.reset()
    assert engine.train_state == "idle"


def test_keys_pressed_before_the_trainer_is_built_are_states(word_file: Path) -> None:
    engine = Engine(threads=1)
    told = watched(engine)
    engine.begin()
    engine.pause()
    engine.resume()  # no trainer yet: still starting
    engine.stop()
    assert engine.train(TrainPlan(data=str(word_file), preset="seed", steps=5), print) is None
    assert [state for state, _ in told] == ["starting", "pausing", "starting", "stopping",
                                            "idle"]
    assert told[-1][1] == RunEnd()  # stopped before the first step: no result, no error


def test_the_auto_line_reads_the_words_once_per_data(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[object] = []
    plan_data = engine_module.plan_data

    def counted(plan: TrainPlan) -> object:
        reads.append(plan.data)
        return plan_data(plan)

    monkeypatch.setattr(engine_module, "plan_data", counted)
    engine = Engine()
    first = engine.describe_auto(TrainPlan(data="seed", preset="auto", time_budget_s=30.0))
    later = engine.describe_auto(TrainPlan(data="seed", preset="auto", time_budget_s=90.0))
    assert first.startswith("auto") and later.startswith("auto") and first != later
    assert reads == ["seed"]


# --- which the pane, the footer and the quit dialog observe ------------------------------------


def footer_text(app: object) -> str:
    return str(app.query_one(KeyFooter).render())  # type: ignore[attr-defined]


async def test_the_footer_and_the_quit_dialog_follow_the_engines_state(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine.info is not None, what="the model")
        await press(pilot, "f2")
        pane = app.train_pane
        await wait_for(pilot, lambda: "Start" in footer_text(app), what="Start in the footer")
        app.engine.status.set(TrainState.RUNNING)  # as the engine does when a run starts
        # the keys read the engine itself, not a copy that a message updates later
        assert app.check_action("train", ("pause",)) and not app.check_action("train", ("start",))
        await wait_for(pilot, lambda: "Pause" in footer_text(app) and "Start" not in
                       footer_text(app), what="Pause in the footer")
        assert pane.state == "running" and "training" in str(app.query_one("#status").render())
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), what="the question")
        await press(pilot, "escape")  # keep training
        await wait_for(pilot, lambda: not isinstance(app.screen, QuitScreen), what="the answer")
        app.engine.status.set(TrainState.IDLE)
        await wait_for(pilot, lambda: "Start" in footer_text(app) and pane.state == "idle",
                       what="Start again")
        assert app.is_running


async def test_start_and_stop_in_the_pane_change_the_engines_state(
        make_app: AppFactory, word_file: Path) -> None:
    app = make_app(preset="seed")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine.info is not None, what="the model")
        pane = app.train_pane
        pane.set_data(str(word_file))
        pane.form.input("time-budget").value = "600"
        await press(pilot, "f2", "f5")
        await wait_for(pilot, lambda: app.engine.train_state == "running", what="the start")
        await wait_for(pilot, lambda: pane.state == "running", what="the pane to show it")
        assert app.train_state is app.engine.train_state
        pane.query_one("#stop").press()
        await wait_for(pilot, lambda: pane.state == "done", what="the stop")
        assert app.engine.train_state == "done"


async def test_a_run_that_ends_while_the_quit_dialog_asks_lets_the_app_quit(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine.info is not None, what="the model")
        app.engine.status.set(TrainState.RUNNING)  # as if a run were on
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), what="the question")
        app.engine.status.set(TrainState.IDLE, RunEnd())  # the run ends meanwhile
        app.screen.query_one("#quit-stop").press()  # "Stop and keep the model"
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")


def test_with_no_run_a_pause_or_stop_changes_nothing(word_file: Path) -> None:
    engine = Engine(threads=1)
    told = watched(engine)
    engine.pause()
    engine.stop()
    assert told == [] and engine.train_state == "idle"
    outcome = engine.train(TrainPlan(data=str(word_file), preset="seed", steps=3), print)
    assert outcome is not None and outcome[0].steps == 3  # no stop was left for this run
