"""Explore's options as declared in core (request.py): "Never these" reaches the request,
Explore asks for cut names itself, and a favourite's settings go back to Explore with u."""

from __future__ import annotations

import json
from pathlib import Path

from minigpt2.tui.launch import TABS
from test_constraints_ui import type_into
from test_explore import ready
from tui_helpers import SIZE, AppFactory, wait_for


async def test_never_these_reaches_the_request(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        request = await type_into(pilot, explore, "exclude-chars", "ae",
                                  lambda r: r.exclude_chars == "ae")
        assert request.include_cut  # asked for by Explore, not forced by the engine
        names = explore.shown_names()
        assert names and not any(set(name) & {"a", "e"} for name in names), names
        explore.prompt.value = "ka"  # a start it excludes: the core's error, by its name
        await wait_for(pilot, lambda: "excluded by exclude-chars" in str(explore.message.render()),
                       what="the error")


async def test_a_favourite_gives_its_settings_back_to_explore(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await type_into(pilot, explore, "ends-with", "a", lambda r: r.ends_with == "a")
        await type_into(pilot, explore, "exclude-chars", "z",
                        lambda r: (r.ends_with, r.exclude_chars) == ("a", "z"))
        explore.query_one("#most-likely").value = True
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.most_likely, what="the most likely names")
        explore.table.focus()
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: len(app.favourites) == 1, what="the favourite")
        saved = json.loads((tmp_path / "favourites.json").read_text())["favourites"][0]
        assert (saved["settings"]["ends_with"], saved["settings"]["exclude_chars"],
                saved["settings"]["most_likely"]) == ("a", "z", True)

        for field in ("ends-with", "exclude-chars"):  # Explore moves on
            explore.query_one(f"#{field}").value = ""
        explore.query_one("#most-likely").value = False
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and not explore.shown_request.ends_with, what="plain names")

        await pilot.press("f4")
        app.favourites_pane.table.focus()
        await pilot.press("u")
        await wait_for(pilot, lambda: explore.shown_request is not None and (
            explore.shown_request.ends_with, explore.shown_request.exclude_chars,
            explore.shown_request.most_likely) == ("a", "z", True), what="the favourite's settings")
        assert app.query_one("#tabs").active == TABS["explore"]
