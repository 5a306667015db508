"""Issue 21 in the app: "Kind of name" mixes kinds by weight; "More like these" in
Favourites has Explore sample names like the chosen favourites until ctrl+g clears them."""

from __future__ import annotations

from pathlib import Path

from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.messages import FavouriteRequested
from minigpt2.tui.widgets.explore.settings import MIX
from minigpt2.tui.widgets.key_footer import KeyFooter
from test_categories_ui import soft_share, two_kinds  # noqa: F401 - a fixture, shared
from test_explore import ready
from textual.pilot import Pilot
from textual.widgets import Select
from tui_helpers import SIZE, AppFactory, notices, wait_for

# Names that end in "k": the tiny model's syllables never do (its "k" only starts "ko").
LIKED = ("marik", "solik", "tamuk", "jorek", "lanik")


async def keep(pilot: Pilot, app: MiniGPT2App, names: tuple[str, ...]) -> None:
    for name in names:
        app.post_message(FavouriteRequested(name, "", {}))
    await wait_for(pilot, lambda: len(app.favourites) == len(names), what="the favourites")


def ends_in_k(names: list[str]) -> float:
    return sum(name.endswith("k") for name in names) / max(len(names), 1)


def footer_keys(app: MiniGPT2App) -> set[str]:
    return {description for _, _, description, _ in app.query_one(KeyFooter)._shown}


async def test_more_like_the_marked_favourites_then_clear(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        assert ends_in_k(explore.shown_names()) == 0
        await keep(pilot, app, LIKED)
        await pilot.press("f4")
        pane = app.favourites_pane
        await wait_for(pilot, lambda: pane.table.has_focus, what="the favourites table")
        assert "More like these" in footer_keys(app)
        await pilot.press("space", "down", "space")  # mark the first and the third
        assert pane.marked == {LIKED[0], LIKED[2]}
        assert str(pane.table.get_row_at(0)[0]) == f"✓ {LIKED[0]}"
        await pilot.press("m")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.like == (LIKED[0], LIKED[2]),
                       what="names like the two marked")
        assert app.query_one("#tabs").active == "explore-tab"
        marker = explore.query_one("#like-marker")
        assert marker.display and "Like: 2 marked favourites" in str(marker.render())
        assert ends_in_k(explore.shown_names()) >= 0.25, explore.shown_names()
        assert not set(explore.shown_names()) & set(LIKED)

        await wait_for(pilot, lambda: "Clear like" in footer_keys(app), what="the key shown")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.like == (), what="plain names again")
        assert not marker.display


async def test_all_favourites_when_none_is_marked_and_a_find_records_them(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await keep(pilot, app, LIKED)
        await pilot.press("f4")
        await pilot.click("#more-like")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.like == LIKED, what="names like all five")
        assert "Like: 5 favourites" in str(explore.query_one("#like-marker").render())
        explore.table.focus()
        await pilot.press("down", "ctrl+f")
        found = explore.shown_names()[1]
        await wait_for(pilot, lambda: found in app.favourites, what="the new favourite")
        kept = next(item for item in app.favourites if item.name == found)
        assert kept.settings["like"] == list(LIKED)
        assert "like marik, solik +3" in kept.describe_settings()


async def test_more_like_with_no_favourites_says_so(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("f4")
        await pilot.click("#more-like")
        await wait_for(pilot, lambda: any("No favourites yet" in text
                                          for _, text in notices(app)), what="the warning")
        assert app.explore.like == ()


async def test_kinds_mix_by_weight(make_app: AppFactory, two_kinds: Path) -> None:  # noqa: F811
    app = make_app(checkpoint=two_kinds)
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        form = explore.form
        assert not form.query_one("#kind-weights").display
        explore.query_one("#count").value = "40"
        explore.query_one("#category", Select).value = MIX
        await wait_for(pilot, lambda: form.query_one("#kind-weights").display,
                       what="a weight per kind")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and dict(explore.shown_request.kinds) == {"soft": 0.5, "hard": 0.5}
                       and explore.shown_request.n == 40, what="an even mix")
        even = soft_share(explore.shown_names())
        form.weight_field("hard").value = "0"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and dict(explore.shown_request.kinds) == {"soft": 1.0}, what="all soft")
        assert soft_share(explore.shown_names()) > even
        form.weight_field("soft").value = "0"
        await wait_for(pilot, lambda: "all 0" in str(explore.message.render()),
                       what="the refusal")
        form.weight_field("soft").value = "-1"
        await wait_for(pilot, lambda: "soft" in str(explore.message.render())
                       and "greater than or equal to 0" in str(explore.message.render()),
                       what="the negative weight named")
        form.weight_field("soft").value = "3"
        form.weight_field("hard").value = "1"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and dict(explore.shown_request.kinds) == {"soft": 0.75, "hard": 0.25},
                       what="three to one")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")
    again = make_app(checkpoint=two_kinds)
    async with again.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, again)
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and dict(explore.shown_request.kinds) == {"soft": 0.75, "hard": 0.25},
                       what="the mix kept across a restart")
