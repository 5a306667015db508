"""The classic 80x24 terminal: F3 lands in the prompt, and no line of text is cut."""

from __future__ import annotations

import pytest
from minigpt2.tui.widgets.key_footer import KeyFooter
from minigpt2.tui.widgets.main_screen import MainScreen
from minigpt2.tui.widgets.quit_screen import QuitScreen
from textual import events
from textual.widgets import Input, Label, Static
from tui_helpers import SIZE, AppFactory, wait_for

SIZES = pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "large"])


@SIZES
@pytest.mark.parametrize("focused_before", ["#start", "#epochs", "#data-lists"])
async def test_keys_typed_right_after_f3_reach_the_prompt(
        make_app: AppFactory, size: tuple[int, int], focused_before: str) -> None:
    """F3 then ctrl+a, ctrl+k and a word, all queued before the app handles F3 (a quick
    typist, or a busy event loop): every key after F3 lands in the prompt."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        explore = app.explore
        await wait_for(pilot, lambda: explore.shown_request is not None, what="candidates")
        explore.prompt.value = "old"
        await pilot.press("f2")
        widget = app.train_pane.query_one(focused_before)
        widget.focus()
        await wait_for(pilot, lambda: app.focused is widget, what=f"{focused_before} focused")
        for key in ("f3", "ctrl+a", "ctrl+k", "k", "o"):
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await wait_for(pilot, lambda: explore.prompt.value == "ko",
                       what=f"'ko' in the prompt (it holds {explore.prompt.value!r})")
        assert app.focused is explore.prompt


async def test_the_quit_dialog_says_everything_at_80x24(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.engine.info is not None, what="the model")
        app.engine.status.set("running")  # as if a run were on
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), what="the dialog")
        await pilot.pause()
        for label in app.screen.query(Label):
            assert label.size.height * label.size.width >= len(str(label.render())), label
            assert label.content_region.right <= app.screen.region.right
        app.engine.status.set("idle")


async def test_the_prompts_placeholder_fits_at_80x24(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.explore.query_one("#prompt", Input)
        await wait_for(pilot, lambda: prompt.size.width > 0, what="the prompt laid out")
        assert len(prompt.placeholder) <= prompt.content_size.width


@pytest.mark.parametrize("tab", ["f2", "f3", "f4"])
async def test_the_footer_and_status_line_are_whole_at_80x24(make_app: AppFactory,
                                                           tab: str) -> None:
    """No key in the footer is cut (those that do not fit are left out whole: F1 lists
    them all), and the status line drops its least needed parts rather than end mid-word;
    made wider, it shows them again."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.engine.info is not None, what="the model")
        await pilot.press(tab)
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        shown = footer.render().plain
        keys, _, palette = shown.rpartition("▏")
        assert palette.strip() and len(shown) <= 80
        pieces = [f" {display} {description} " for _, display, description, _ in footer._shown]
        assert keys.rstrip() == "".join(pieces[: len(footer._spans) - 1]).rstrip()
        status = str(app.query_one("#status", Static).render())
        assert len(status) <= 78 and status.rstrip().endswith(("kept", "F1 help"))
        assert not status.endswith("F1 help")  # with all its parts the line is over 78
        await pilot.resize_terminal(140, 30)
        await wait_for(pilot, lambda: str(app.query_one("#status", Static).render()).endswith(
            f"{app.engine.info.describe()} │ ♥ 0 kept │ F1 help"), what="the whole line")


@SIZES
async def test_the_first_layout_is_already_the_one_for_the_terminal_s_width(
        make_app: AppFactory, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual gives the screen its width's class on the first Resize, after the first frame:
    at 80x24 the wide arrangement was drawn first, then the narrow one."""
    classes_at_layout: list[set[str]] = []
    refresh_layout = MainScreen._refresh_layout

    def laid_out(screen: MainScreen, *args: object, **kwargs: object) -> None:
        classes_at_layout.append(set(screen.classes))
        refresh_layout(screen, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(MainScreen, "_refresh_layout", laid_out)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.explore.shown_request is not None, what="candidates")
    expected = "-narrow" if size[0] < 100 else "-wide"
    assert classes_at_layout and all(expected in classes for classes in classes_at_layout)
