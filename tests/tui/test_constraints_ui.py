"""Explore's shape fields (ends with, contains, length) and the "Most likely" switch, as a
user drives them: typing updates the candidates, every name shown meets the constraints,
and the core's own error is what a bad combination shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.request import SampleConfig
from minigpt2.tui.stores.session import SETTINGS_FILE
from minigpt2.tui.widgets.explore.pane import ExplorePane
from test_explore import check_a_burst_samples_once_after_it, ready
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input
from tui_helpers import SIZE, AppFactory, press, wait_for


async def type_into(pilot: Pilot, explore: ExplorePane, field: str, text: str,
                    wanted: Callable[[SampleConfig], bool]) -> SampleConfig:
    """Type `text` into the field `field` and wait for candidates asked with it."""
    widget = explore.query_one(f"#{field}", Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)
    await wait_for(pilot, lambda: explore.shown_request is not None
                   and wanted(explore.shown_request), what=f"candidates for {field}={text!r}")
    assert explore.shown_request is not None
    return explore.shown_request


def message(explore: ExplorePane) -> str:
    return str(explore.message.render())


async def test_typing_an_ending_updates_the_candidates(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        before = explore.shown_names()
        assert not all(name.endswith("na") for name in before)
        request = await type_into(pilot, explore, "ends-with", "na",
                                  lambda r: r.ends_with == "na")
        names = explore.shown_names()
        assert names and names != before
        assert all(name.endswith("na") for name in names), names
        assert request.constraints()["ends_with"] == "na"
        # and with a prompt as well: both hold
        await type_into(pilot, explore, "prompt", "ko", lambda r: r.prompt == "ko")
        assert explore.candidates
        assert all(n.startswith("ko") and n.endswith("na") for n in explore.shown_names())


async def test_contains_and_length_range_hold_for_every_name(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.query_one("#count").value = "60"
        await type_into(pilot, explore, "contains", "ri", lambda r: r.contains == "ri")
        await type_into(pilot, explore, "min-len", "5", lambda r: r.min_len == 5)
        await type_into(pilot, explore, "max-len", "6", lambda r: r.max_len == 6
                        and r.n == 60)
        names = explore.shown_names()
        assert len(names) > 10
        assert all("ri" in name and 5 <= len(name) <= 6 for name in names), names
        assert not any(c.cut for c in explore.candidates)


async def test_min_above_max_shows_the_cores_message(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.query_one("#max-len").value = "4"
        explore.query_one("#min-len").value = "8"
        expected = "min-len 8 is above max-len 4"
        with pytest.raises(ValueError, match=expected):  # the message is the core's own
            SampleConfig(min_len=8, max_len=4)
        await wait_for(pilot, lambda: expected in message(explore), what="the core's error")
        assert explore.query_one("#explore-message").has_class("error")
        explore.query_one("#ends-with").value = "lalala"  # longer than max-len 4
        explore.query_one("#min-len").value = ""
        await wait_for(pilot, lambda: "longer than max-len 4" in message(explore),
                       what="the suffix message")
        explore.query_one("#ends-with").value = "a"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.max_len == 4
                       and explore.shown_request.ends_with == "a", what="valid settings")
        assert all(len(n) <= 4 and n.endswith("a") for n in explore.shown_names())


async def test_fewer_names_than_asked_says_found_n_of_m(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.query_one("#count").value = "500"
        # The model knows 13 letters: there are fewer than 500 names of at most 2 letters.
        explore.query_one("#max-len").value = "2"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.max_len == 2
                       and explore.shown_request.n == 500, what="the short names")
        count = len(explore.candidates)
        assert 0 < count < 500
        assert f"found {count} of 500" in message(explore)


async def test_most_likely_switch_gives_the_likeliest_names(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await type_into(pilot, explore, "ends-with", "a", lambda r: r.ends_with == "a")
        sampled = [c.logprob for c in explore.candidates]
        await pilot.click(explore.query_one("#most-likely", Checkbox))
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.most_likely, what="the most likely names")
        request = explore.shown_request
        assert request is not None and request.rank == "total"  # the default ranking
        best = [c.logprob for c in explore.candidates]
        assert len(best) == 20 and all(c.name.endswith("a") for c in explore.candidates)
        assert max(best) >= max(sampled)
        assert sorted(best, reverse=True)[len(best) // 2] >= sorted(sampled, reverse=True)[
            len(sampled) // 2]  # the search's median beats the draws' median
        unproven = not all(c.proven for c in explore.candidates)
        assert ("ranking not proven" in message(explore)) == unproven
        await pilot.click(explore.query_one("#per-char", Checkbox))
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.rank == "per_char", what="per-char ranking")


async def test_a_ranking_the_search_cannot_prove_says_so(make_app: AppFactory) -> None:
    app = make_app(checkpoint=default_checkpoint_path())  # the shipped model, 26 letters
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await pilot.click(explore.query_one("#most-likely", Checkbox))
        # Nearly every prefix is likelier than the best name with "zq": no proof in reach.
        await type_into(pilot, explore, "contains", "zq",
                        lambda r: r.contains == "zq" and r.most_likely)
        assert explore.candidates and all("zq" in n for n in explore.shown_names())
        assert not all(c.proven for c in explore.candidates)
        assert "ranking not proven" in message(explore)


async def test_sort_follows_the_ranking(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await pilot.click(explore.query_one("#per-char", Checkbox))
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.rank == "per_char", what="per-char ranking")
        await pilot.click(explore.query_one("#sort", Checkbox))
        scores = [c.logprob_per_token for c in explore.candidates]
        assert scores == sorted(scores, reverse=True)


async def test_typing_in_a_shape_field_is_debounced_like_the_prompt(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await check_a_burst_samples_once_after_it(
            pilot, explore, monkeypatch, explore.query_one("#contains", Input),
            ["l", "la", "lam"], lambda request: request.contains or "")


async def test_shape_settings_survive_a_restart(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        for field, value in (("ends-with", "a"), ("contains", "l"), ("min-len", "4"),
                             ("max-len", "7")):
            explore.query_one(f"#{field}", Input).value = value
        explore.query_one("#most-likely", Checkbox).value = True
        await press(pilot, "ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, what="the app to quit")
    assert (tmp_path / "data" / SETTINGS_FILE).is_file()

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, again)
        request = explore.shown_request
        assert request is not None
        assert (request.ends_with, request.contains, request.min_len, request.max_len) == (
            "a", "l", 4, 7)
        assert request.most_likely
        assert all(n.endswith("a") and "l" in n and 4 <= len(n) <= 7
                   for n in explore.shown_names())
