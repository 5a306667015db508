"""Issue 11 in Explore: the category selector and the likeliest-kind column for a model
with categories (and neither for a single-list model), and the "did you mean" line."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from minigpt2.core.sample.repair import Correction
from minigpt2.core.sample.request import DEFAULT_GUIDANCE
from minigpt2.tui.widgets.explore.candidate_list import header
from minigpt2.tui.widgets.explore.did_you_mean import CorrectionsReady
from minigpt2.tui.widgets.explore.pane import ExplorePane
from test_explore import ready
from textual.pilot import Pilot
from textual.widgets import Select
from tui_helpers import SIZE, AppFactory, press, wait_for

SOFT = ["la", "li", "ma", "mi", "na", "lu"]  # two kinds of made-up names a tiny model tells apart
HARD = ["ko", "to", "ra", "ri", "sa", "jo"]
MISSPELT, MEANT = "jolluto", "joluto"  # a training word of the tiny model, one letter doubled


@pytest.fixture(scope="module")
def two_kinds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained on two lists, "soft" and "hard" (~2 s)."""
    from minigpt2.core.config import ModelConfig, TrainConfig
    from minigpt2.core.data.dataset import WordData
    from minigpt2.core.train.trainer import Trainer

    folder = tmp_path_factory.mktemp("kinds")
    lists = []
    for kind, syllables in (("soft", SOFT), ("hard", HARD)):
        path = folder / f"{kind}.txt"
        path.write_text("".join(f"{''.join(s)}\n"
                                for s in itertools.product(syllables, repeat=3)))
        lists.append(path)
    data = WordData.from_source(lists, seed=1)
    model = ModelConfig(n_layer=1, n_head=2, d_model=32, positions="learned")
    config = TrainConfig(epochs=None, steps=300, batch_size=32, lr=1e-2, seed=1, threads=1,
                         sample_interval_s=0, event_interval_s=1e9)
    trainer = Trainer(data, model, config, preset="tiny")
    trainer.run()
    trainer.save(folder / "kinds.safetensors")
    return folder / "kinds.safetensors"


def soft_share(names: list[str]) -> float:
    return sum(all(ch in "".join(SOFT) for ch in name) for name in names) / len(names)


# --- categories -----------------------------------------------------------------------------


async def test_a_single_list_model_shows_no_category_controls(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        assert not explore.query_one("#category-field").display
        assert explore.form.category is None
        assert all(row.kind is None for row in explore.table.rows)
        header_text = str(explore.query_one("#candidates-header").render())
        assert "kind" not in header_text.lower()
        assert explore.shown_request is not None and explore.shown_request.category is None


async def test_choosing_a_category_changes_the_names(make_app: AppFactory,
                                                     two_kinds: Path) -> None:
    app = make_app(checkpoint=two_kinds)
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        assert explore.query_one("#category-field").display
        select = explore.query_one("#category", Select)
        assert explore.form.category is None  # any kind, at first
        explore.query_one("#count").value = "40"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.n == 40, what="40 names of any kind")
        mixed = soft_share(explore.shown_names())
        assert 0.1 < mixed < 0.9, explore.shown_names()

        for kind, share in (("soft", lambda s: s >= 0.9), ("hard", lambda s: s <= 0.1)):
            select.value = kind
            await wait_for(pilot, lambda k=kind: explore.shown_request is not None  # type: ignore[misc]
                           and explore.shown_request.category == k, what=f"{kind} names")
            request = explore.shown_request
            assert request is not None and request.guidance == DEFAULT_GUIDANCE
            assert share(soft_share(explore.shown_names())), (kind, explore.shown_names())
        select.value = Select.NULL
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.category is None, what="any kind again")
        assert explore.shown_request is not None and explore.shown_request.guidance == 0


async def test_the_table_shows_the_kind_that_likes_each_name_most(make_app: AppFactory,
                                                                  two_kinds: Path) -> None:
    app = make_app(checkpoint=two_kinds)
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await wait_for(pilot, lambda: all(row.kind for row in explore.table.rows),
                       what="the kind column")
        assert "Likeliest kind" in str(explore.query_one("#candidates-header").render())
        for y, row in enumerate(explore.table.rows):
            name, kind = row.candidate.name, row.kind
            if all(ch in "".join(SOFT) for ch in name):
                assert kind == "soft", name
            elif all(ch in "".join(HARD) for ch in name):  # a mix like "likoko" may go either way
                assert kind == "hard", name
            assert kind is not None and kind in explore.table.render_line(y).text


def test_a_narrow_table_gives_up_per_char_for_the_kind() -> None:
    assert "Per char" in header(kind=True, width=80)
    assert "Per char" not in header(kind=True, width=50)
    assert "Likeliest kind" in header(kind=True, width=50)
    assert "Per char" in header(kind=False, width=50)


async def test_the_chosen_category_survives_a_restart(make_app: AppFactory,
                                                      two_kinds: Path) -> None:
    app = make_app(checkpoint=two_kinds)
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.query_one("#category", Select).value = "hard"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.category == "hard", what="hard names")
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")
    again = make_app(checkpoint=two_kinds)
    async with again.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, again)
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.category == "hard", what="hard names again")
        assert explore.form.category == "hard"


# --- did you mean ---------------------------------------------------------------------------


async def type_word(pilot: Pilot, explore: ExplorePane, text: str) -> None:
    explore.prompt.focus()
    explore.prompt.value = ""
    await pilot.press(*text)
    await wait_for(pilot, lambda: explore.shown_request is not None
                   and explore.shown_request.prompt == text, what=f"candidates for {text!r}")


async def test_did_you_mean_offers_a_correction_and_enter_applies_it(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        line = explore.did_you_mean
        await type_word(pilot, explore, MISSPELT)
        await wait_for(pilot, lambda: bool(line.names), what="corrections")
        assert line.names[0] == MEANT and line.for_text == MISSPELT
        assert f"Did you mean: {MEANT}" in str(line.render())
        await pilot.press("enter")  # in the prompt: the first correction
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.prompt == MEANT, what="the corrected prompt")
        assert explore.prompt.value == MEANT and not line.names
        assert all(name.startswith(MEANT) for name in explore.shown_names())


async def test_a_known_word_or_a_start_gets_no_correction(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        line = explore.did_you_mean
        for text in (MEANT, "jol"):  # a training word; the start of several
            await type_word(pilot, explore, text)
            await wait_for(pilot, lambda t=text: line.for_text == t,  # type: ignore[misc]
                           what=f"the answer for {text!r}")
            assert line.names == []


async def test_a_correction_can_be_chosen_with_the_arrows_or_a_click(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        line = explore.did_you_mean
        await type_word(pilot, explore, MISSPELT)
        await wait_for(pilot, lambda: len(line.names) >= 3, what="corrections")
        second, third = line.names[1], line.names[2]
        line.focus()
        await pilot.press("right", "enter")
        await wait_for(pilot, lambda: explore.prompt.value == second, what="the second one")
        await type_word(pilot, explore, MISSPELT)
        await wait_for(pilot, lambda: len(line.names) >= 3, what="corrections again")
        assert line.names[2] == third
        line.render()  # where each name is drawn
        start = len("Did you mean: ") + len(line.names[0]) + 2 + len(line.names[1]) + 2
        # The line grows from empty when names arrive: click once the layout has caught up.
        await wait_for(pilot, lambda: line.region.width > start + 1 and line.region.height >= 1,
                       what="the corrections laid out")
        await pilot.pause()
        await pilot.click(line, offset=(start + 1, 0))
        await wait_for(pilot, lambda: explore.prompt.value == third, what="the clicked one")


async def test_a_stale_answer_is_dropped(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        line = explore.did_you_mean
        await type_word(pilot, explore, "kosa")
        await wait_for(pilot, lambda: line.for_text == "kosa", what="the answer for 'kosa'")
        # an answer for a word typed before, arriving late
        line.post_message(CorrectionsReady(MISSPELT, None, [Correction(MEANT, -3.0, 1, "train")]))
        await pilot.pause()
        await wait_for(pilot, lambda: line.for_text == "kosa", what="nothing changed")
        assert line.names == [] and MEANT not in str(line.render())


# --- layout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
async def test_every_explore_field_fits(make_app: AppFactory, two_kinds: Path,
                                        size: tuple[int, int]) -> None:
    """At 100x30 every field and switch is in view without scrolling; at 80x24 the settings
    scroll, and each field can be scrolled into view."""
    app = make_app(checkpoint=two_kinds)
    async with app.run_test(size=size) as pilot:
        explore = await ready(pilot, app)
        await wait_for(pilot, lambda: explore.query_one("#category-field").display,
                       what="the category selector")
        await pilot.pause()
        form = explore.form
        ids = ["prompt", "ends-with", "contains", "min-len", "max-len", "temperature", "count",
               "top-k", "top-p", "category", "novel-only", "sort", "most-likely", "per-char"]
        screen = app.screen.region
        if size == (100, 30):
            assert form.max_scroll_y == 0
        for name in ids:
            widget = explore.query_one(f"#{name}")
            widget.scroll_visible(animate=False, immediate=True)
            await pilot.pause()
            region = widget.region
            assert region.height >= 1 and screen.contains_region(region), name
            assert form.region.contains_region(region) or name == "prompt", name
        assert explore.table.region.height >= 5  # and the candidates keep room


async def test_corrections_are_looked_for_once_the_candidates_are_in(
        make_app: AppFactory) -> None:
    """Both would share the core training leaves free: the candidates come first."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        asked: list[tuple[str, str | None]] = []  # (the text, the prompt of the candidates shown)
        line = explore.did_you_mean
        ask = line.ask

        def recording(engine, text: str, category: str | None) -> None:  # type: ignore[no-untyped-def]
            shown = explore.shown_request
            asked.append((text, shown.prompt if shown else None))
            ask(engine, text, category)

        line.ask = recording  # type: ignore[method-assign]
        await type_word(pilot, explore, MISSPELT)
        await wait_for(pilot, lambda: bool(explore.did_you_mean.names), what="corrections")
        # Each text was looked up once its own candidates were in (typing may have shown
        # some of its starts on the way, each then looked up in turn).
        assert (MISSPELT, MISSPELT) in asked
        assert all(text == shown for text, shown in asked)
