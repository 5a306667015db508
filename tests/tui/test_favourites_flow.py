"""Favourites as a user keeps them: pick a name, restart, find it; and when the file
cannot be written, nothing is lost and the app keeps running."""

from __future__ import annotations

import json
from pathlib import Path

from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.widgets.favourites.pane import ExportScreen
from textual.widgets import Input
from tui_helpers import SIZE, AppFactory, notices, wait_for


async def keep_second_name(pilot, app: MiniGPT2App, prompt: str = "ma") -> str:  # type: ignore[no-untyped-def]
    """Type `prompt`, move to the second candidate, press ctrl+f; return its name."""
    explore = app.explore
    await wait_for(pilot, lambda: explore.shown_request is not None, what="the first candidates")
    await pilot.press(*prompt)
    await wait_for(pilot, lambda: explore.shown_request is not None
                   and explore.shown_request.prompt == prompt, what="the candidates")
    await pilot.press("down", "down", "ctrl+f")
    return explore.shown_names()[1]


async def test_favourite_survives_a_restart(make_app: AppFactory, tmp_path: Path) -> None:
    path = tmp_path / "favourites.json"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        name = await keep_second_name(pilot, app)
        await wait_for(pilot, lambda: name in app.favourites, what="the favourite")
        # saved at once, atomically, with where it came from
        saved = json.loads(path.read_text())["favourites"]
        assert [item["name"] for item in saved] == [name]
        assert saved[0]["prompt"] == "ma"
        assert saved[0]["settings"]["temperature"] == 1.0
        assert saved[0]["settings"]["model"] == "tiny"
        assert "♥" in app.explore.table.render_line(1).text  # marked in the list
        await pilot.press("ctrl+f")  # the same name again: no duplicate
        assert len(app.favourites) == 1

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        pane = again.favourites_pane
        assert pane.names() == [name]
        assert "1 name" in str(pane.query_one("#favourites-summary").render())
        assert "Favourites (1)" in str(again.query_one("#tabs").get_tab("favourites-tab").label)


async def test_remove_and_export(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        name = await keep_second_name(pilot, app)
        await pilot.press("up", "enter")  # Enter keeps the highlighted name too
        first = app.explore.shown_names()[0]
        await wait_for(pilot, lambda: len(app.favourites) == 2, what="two favourites")
        await pilot.press("f4")
        pane = app.favourites_pane
        assert pane.names() == [name, first]

        await pilot.press("ctrl+e")
        assert isinstance(app.screen, ExportScreen)
        target = tmp_path / "names.txt"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        assert target.read_text() == f"{name}\n{first}\n"

        app.favourites_pane.table.focus()
        await pilot.press("delete")
        assert pane.names() == [first]
        saved = json.loads((tmp_path / "favourites.json").read_text())["favourites"]
        assert [item["name"] for item in saved] == [first]


async def test_unwritable_favourites_path_keeps_names_in_memory(make_app: AppFactory,
                                                                tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    path = blocker / "favourites.json"  # its parent is a file: never writable
    app = make_app(favourites=path)
    async with app.run_test(size=SIZE) as pilot:
        assert any(severity == "warning" and "cannot be saved" in text
                   for severity, text in notices(app))
        name = await keep_second_name(pilot, app)
        await wait_for(pilot, lambda: name in app.favourites, what="the favourite in memory")
        assert any(severity == "error" and "cannot save favourites" in text
                   for severity, text in notices(app))
        assert app.is_running
        assert "not saved" in str(app.query_one("#status").render())
        await pilot.press("f4")
        assert app.favourites_pane.names() == [name]
        assert "kept in memory only" in str(
            app.favourites_pane.query_one("#favourites-summary").render())


async def test_corrupt_favourites_file_is_set_aside(make_app: AppFactory, tmp_path: Path
                                                    ) -> None:
    path = tmp_path / "favourites.json"
    path.write_text("{ this is not json")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("not a favourites file" in text for _, text in notices(app))
        backups = list(tmp_path.glob("favourites.json.unreadable-*"))
        assert len(backups) == 1 and backups[0].read_text() == "{ this is not json"
        name = await keep_second_name(pilot, app)
        await wait_for(pilot, path.exists, what="a fresh favourites file")
        assert json.loads(path.read_text())["favourites"][0]["name"] == name
