"""The work the event loop is spared: what is drawn, when, and how often. (The time it takes
is measured by bench/tui_latency.py, not here: these tests count work, never time it.)"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import pytest
from minigpt2.tui import app as app_module
from minigpt2.tui import memory
from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.widgets.train import loss_chart
from minigpt2.tui.widgets.train.loss_chart import LossChart, downsample
from textual.pilot import Pilot
from tui_helpers import SIZE, AppFactory, press, wait_for


def test_downsample_keeps_short_histories_and_averages_long_ones() -> None:
    short = [(float(i), 3.0 - i / 10) for i in range(10)]
    assert downsample(short, 10) == short

    long = [(float(i), 3.0 - i / 10_000) for i in range(10_000)]
    drawn = downsample(long, 100)
    assert len(drawn) == 100
    assert drawn[-1] == long[-1]  # the latest loss, exactly
    assert drawn[0] == pytest.approx((sum(range(101)) / 101, 3.0 - sum(range(101)) / 101e4))
    xs, ys = zip(*drawn, strict=True)
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys, reverse=True)  # same shape


def count_drawings(chart: LossChart) -> Callable[[], int]:
    """How many times plotext has drawn this chart from now on (its `_draw`, on any thread)."""
    drawn = [0]
    draw = chart._draw

    def counted(*args: object) -> object:
        drawn[0] += 1
        return draw(*args)  # type: ignore[arg-type]

    chart._draw = counted  # type: ignore[method-assign]
    return lambda: drawn[0]


async def chart_on_screen(pilot: Pilot, app: MiniGPT2App) -> LossChart:
    """The Train tab, its chart drawn with the loaded model's history."""
    await wait_for(pilot, lambda: app.engine.info is not None, what="the model")
    await press(pilot, "f2")
    chart = app.train_pane.chart
    await wait_for(pilot, lambda: chart.is_on_screen and chart.val_points, what="the chart")
    chart.redraw_now()
    await wait_for(pilot, chart.up_to_date, what="the chart at its final size")
    return chart


async def test_the_chart_draws_two_points_per_column_at_most(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    plotted: list[int] = []
    plot = loss_chart.Plot.plot

    def counted(self: loss_chart.Plot, xs: list[float], ys: list[float], **kw: object) -> None:
        plotted.append(len(xs))
        plot(self, xs, ys, **kw)

    monkeypatch.setattr(loss_chart.Plot, "plot", counted)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        chart = await chart_on_screen(pilot, app)
        chart.add([(float(step), 2.0 + 1 / step) for step in range(1, 20_001)])
        plotted.clear()
        chart.redraw_now()
        assert plotted and max(plotted) <= 2 * chart.size.width
        assert chart.train_points[-1] == (20_000.0, 2.0 + 1 / 20_000)  # every point is kept


async def test_switching_tabs_does_not_redraw_an_unchanged_chart(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        chart = await chart_on_screen(pilot, app)
        drawings = count_drawings(chart)
        drawn, shown = drawings(), chart.render()
        for key in ("f3", "f2", "f3", "f2"):
            await press(pilot, key)
            await wait_for(pilot, lambda k=key: app.focused is not None and chart.is_on_screen
                           == (k == "f2"), what=f"the tab of {key}")
        await pilot.pause()
        chart._redraw_if_stale()  # as its timer does
        assert chart._drawing is None  # no drawing started
        assert drawings() == drawn
        assert chart.render() is shown


async def test_a_hidden_chart_is_drawn_when_shown_not_before(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        chart = await chart_on_screen(pilot, app)
        await press(pilot, "f3")
        await wait_for(pilot, lambda: not chart.is_on_screen, what="the Explore tab")
        drawings = count_drawings(chart)
        drawn = drawings()
        chart.add([(1000.0, 1.5)])
        chart._redraw_if_stale()  # as its timer does
        assert chart._drawing is None and drawings() == drawn  # no drawing started
        await press(pilot, "f2")
        await wait_for(pilot, chart.up_to_date, what="the drawing of the shown chart")
        assert drawings() == drawn + 1


async def test_moving_the_focus_does_not_render_the_whole_screen(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = app.explore
        await wait_for(pilot, lambda: bool(explore.candidates), what="the candidates")
        await pilot.pause()
        compositor = app.screen._compositor
        full_renders = []
        render = compositor.render_full_update
        compositor.render_full_update = lambda **kw: full_renders.append(1) or render(**kw)
        for key in ("down", "ctrl+l", "down"):  # candidates, prompt, candidates
            await press(pilot, key)
            await wait_for(pilot, lambda k=key: app.focused is (
                explore.prompt if k == "ctrl+l" else explore.table), what=f"the focus ({key})")
            await pilot.pause()
        assert not full_renders


def test_the_app_start_freezes_and_makes_young_passes_rarer() -> None:
    threshold = gc.get_threshold()
    try:
        memory.freeze_survivors()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (memory.YOUNG_GENERATION_THRESHOLD, *threshold[1:])
    finally:  # this process runs other tests: collect what it froze, as before
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_a_pause_in_collection_ends_with_the_cycles_it_left_collected() -> None:
    class Node:
        partner: object = None

    try:
        memory.pause_collection()
        cycle = Node()
        cycle.partner = Node()
        cycle.partner.partner = cycle  # type: ignore[attr-defined]
        alive = weakref.ref(cycle)
        del cycle
        assert not gc.isenabled() and alive() is not None  # nothing collects it meanwhile
        memory.resume_collection()
        assert gc.isenabled() and alive() is None
    finally:
        gc.enable()


async def test_the_command_lines_app_collects_again_once_its_first_names_are_shown(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the command line starts it (freeze_gc): no collection from the app's making until
    the first names are on the screen, then one pass and collection as usual, before the
    rest of the app is mounted. (Its malloc tuning and freeze would last beyond this test:
    left out.)"""
    happened: list[str] = []
    monkeypatch.setattr(app_module, "tune_malloc", lambda: None)
    monkeypatch.setattr(app_module, "freeze_survivors", lambda enabled: None)
    monkeypatch.setattr(app_module, "pause_collection", lambda: happened.append("paused"))
    monkeypatch.setattr(app_module, "resume_collection", lambda: happened.append(
        f"resumed, {len(app.explore.candidates)} names shown, form filled: "
        f"{app.explore.form.filled}"))
    app = make_app(freeze_gc=True, quick_names=True)
    async with app.run_test(size=SIZE):
        assert happened[0] == "paused"
    assert happened[1].startswith("resumed, ") and not happened[1].startswith("resumed, 0 ")
    assert happened[1].endswith("form filled: False")


async def test_typing_lays_out_nothing_and_a_long_prompt_still_scrolls(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.explore.prompt
        await wait_for(pilot, lambda: bool(app.explore.candidates), what="the candidates")
        layouts = []
        refresh = prompt.refresh
        prompt.refresh = lambda *r, **kw: layouts.append(kw.get("layout")) or refresh(*r, **kw)
        await pilot.press(*"mar")
        await wait_for(pilot, lambda: prompt.value == "mar", what="the typed prompt")
        await pilot.pause()
        assert layouts and not any(layouts)  # repainted, never laid out

        long = "ma" * prompt.size.width
        prompt.value = long[:-2]
        prompt.cursor_position = len(long) - 2
        await pilot.press(*long[-2:])
        await wait_for(pilot, lambda: prompt.value == long, what="the long prompt")
        await pilot.pause()
        assert prompt.scroll_offset.x == prompt.max_scroll_x > 0  # the end, with the cursor

