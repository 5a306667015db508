"""The blocklist: a key on a candidate blocks it, Explore never shows it again (also after a
restart), the Favourites tab lists and unblocks it, and an unwritable file keeps the names
in memory with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from minigpt2.tui.messages import CandidatesReady
from minigpt2.tui.stores import blocklist as blocklist_module
from minigpt2.tui.stores.blocklist import BLOCKLIST_FILE, Blocklist
from minigpt2.tui.widgets.explore.pane import ExplorePane
from test_explore import ready, settled
from textual.pilot import Pilot
from tui_helpers import SIZE, AppFactory, notices, press, wait_for

# --- the store ------------------------------------------------------------------------------


def test_blocked_names_are_saved_one_per_line_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / BLOCKLIST_FILE
    blocklist = Blocklist(path)
    assert blocklist.open() is None and len(blocklist) == 0
    changes: list[list[str]] = []
    blocklist.on_change(lambda: changes.append(blocklist.names))
    assert blocklist.block("kona")[0] == "information"
    assert blocklist.block(" lami ")[0] == "information"
    assert "already" in blocklist.block("kona")[1]
    assert path.read_text("utf-8") == "kona\nlami\n"  # what `sample --exclude FILE` reads
    assert changes == [["kona"], ["kona", "lami"]]
    again = Blocklist(path)
    again.open()
    assert again.names == ["kona", "lami"] and again.frozen() == frozenset({"kona", "lami"})
    assert again.unblock("kona") is not None and again.unblock("kona") is None
    assert path.read_text("utf-8") == "lami\n"


def test_an_unwritable_file_keeps_the_names_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    blocklist = Blocklist(blocker / BLOCKLIST_FILE)  # its folder cannot be made
    severity, text = blocklist.open() or ("", "")
    assert severity == "warning" and "cannot be saved" in text and str(blocker) in text
    severity, text = blocklist.block("kona")
    assert severity == "error" and "Cannot save blocked names" in text
    assert "kona" in blocklist and blocklist.unsaved


def test_a_read_only_file_still_shows_the_names_it_holds(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / BLOCKLIST_FILE
    path.write_text("kona\n")
    # readable, not writable (as a user's; root may write anything, so say it directly)
    monkeypatch.setattr(blocklist_module, "unwritable_reason", lambda _: "permission denied")
    blocklist = Blocklist(path)
    shown: list[list[str]] = []
    blocklist.on_change(lambda: shown.append(blocklist.names))
    severity, text = blocklist.open() or ("", "")
    assert severity == "warning" and "permission denied" in text and blocklist.unsaved
    assert shown == [["kona"]] and blocklist.frozen() == {"kona"}


def test_an_unreadable_file_is_said_and_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / BLOCKLIST_FILE
    path.write_bytes(b"\xff\xfe bad")
    severity, text = Blocklist(path).open() or ("", "")
    assert severity == "error" and "Cannot read blocked names" in text
    assert path.read_bytes() == b"\xff\xfe bad"


# --- in the app -----------------------------------------------------------------------------


async def block_highlighted(pilot: Pilot, explore: ExplorePane, key: str) -> str:
    victim = explore.selected()
    assert victim is not None
    await press(pilot, key)
    await wait_for(pilot, lambda: victim.name not in explore.shown_names()
                   and victim.name in explore.blocked,  # this one, not one put there since
                   what=f"{victim.name} to leave the table and join the blocklist")
    return victim.name


async def test_a_blocked_name_is_never_shown_again(make_app: AppFactory, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await settled(pilot, app)
        explore.query_one("#count").value = "100"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.n == 100, what="100 names")
        explore.table.focus()
        await pilot.press("down")  # the second name, with `b` in the list
        first = await block_highlighted(pilot, explore, "b")
        explore.prompt.focus()
        second = await block_highlighted(pilot, explore, "ctrl+b")  # from the prompt too
        assert any(f"Blocked “{first}”" in text for _, text in notices(app))
        for seed in range(explore.seed + 1, explore.seed + 6):  # new draws never bring them
            await press(pilot, "ctrl+r")
            await wait_for(pilot, lambda s=seed: explore.shown_request is not None  # type: ignore[misc]
                           and explore.shown_request.seed == s, what=f"draw {seed}")
            assert explore.shown_request is not None
            assert {first, second} <= explore.shown_request.exclude
            assert not {first, second} & set(explore.shown_names())
        assert app.favourites_pane.blocked_names() == [first, second]
    assert (tmp_path / "data" / BLOCKLIST_FILE).read_text("utf-8") == f"{first}\n{second}\n"

    again = make_app()  # a restart: same data directory
    async with again.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, again)
        assert explore.shown_request is not None
        assert explore.shown_request.exclude == {first, second}
        assert not {first, second} & set(explore.shown_names())
        assert again.favourites_pane.blocked_names() == [first, second]


async def test_unblocking_in_favourites_lets_the_name_back(make_app: AppFactory,
                                                          tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / BLOCKLIST_FILE).write_text("kona\nlami\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        pane = app.favourites_pane
        assert pane.blocked_names() == ["kona", "lami"]
        assert "Blocked: 2 names" in str(pane.query_one("#blocked-summary").render())
        await press(pilot, "f4")
        # The tab switch focuses the favourites table after a refresh: wait for that, or it
        # could take the focus back from the blocked names after we give it to them.
        await wait_for(pilot, lambda: app.focused is app.query_one("#favourites"),
                       what="the Favourites tab")
        pane.blocked_table.focus()
        await wait_for(pilot, lambda: app.focused is pane.blocked_table, what="the blocked list")
        await pilot.press("delete")  # the first row: kona
        await wait_for(pilot, lambda: pane.blocked_names() == ["lami"], what="kona unblocked")
        assert (tmp_path / "data" / BLOCKLIST_FILE).read_text("utf-8") == "lami\n"
        assert app.favourites.names == []  # Delete there leaves the favourites alone
        await press(pilot, "f3", "ctrl+r")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.seed == 1, what="new names")
        assert explore.shown_request is not None
        assert explore.shown_request.exclude == {"lami"}


async def test_an_unwritable_blocklist_says_so_and_still_blocks(make_app: AppFactory,
                                                               tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / BLOCKLIST_FILE).mkdir()  # a folder where the file should be
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await settled(pilot, app)
        assert any(severity == "error" and "blocked names" in text.lower()
                   for severity, text in notices(app))
        explore.table.focus()
        name = await block_highlighted(pilot, explore, "b")
        assert any("Cannot save blocked names" in text for _, text in notices(app))
        await press(pilot, "ctrl+r")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.seed == 1, what="new names")
        assert name not in explore.shown_names()
        summary = str(app.favourites_pane.query_one("#blocked-summary").render())
        assert "kept in memory only" in summary
        assert app.is_running


async def test_a_name_blocked_while_names_are_on_their_way_stays_away(
        make_app: AppFactory) -> None:
    """Names asked for before a block arrive after it (a model loaded at start-up asks
    again): the request excluded only the names blocked when it went out. Once in CI, the
    blocked name came back with them."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        # Settled, so that no request of start-up's makes the late answer below a stale one.
        explore = await settled(pilot, app)
        asked, answered = explore.wanted_request, list(explore.candidates)
        assert asked is not None
        explore.table.focus()
        victim = await block_highlighted(pilot, explore, "b")
        assert explore.wanted_request is asked and victim not in asked.exclude
        late = 12345.0  # the late answer's time, to know when it is in
        explore.post_message(CandidatesReady(asked, answered, elapsed_ms=late))
        await wait_for(pilot, lambda: explore.last_sample_ms == late, what="the late answer")
        assert victim in [c.name for c in answered]
        assert explore.shown_names() == [c.name for c in answered if c.name != victim]
