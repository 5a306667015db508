"""Explore as a user drives it: type, read the candidates, filter, pick, look at attention."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.request import SampleConfig
from minigpt2.tui.app import MiniGPT2App
from minigpt2.tui.widgets.explore.pane import ExplorePane
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input
from tui_helpers import SIZE, AppFactory, wait_for


async def ready(pilot: Pilot, app: MiniGPT2App) -> ExplorePane:
    """Wait for the model to load and the first candidates (empty prompt) to show."""
    explore = app.explore
    await wait_for(pilot, lambda: explore.shown_request is not None and explore.candidates,
                   what="the first candidates")
    return explore


async def settled(pilot: Pilot, app: MiniGPT2App) -> ExplorePane:
    """`ready`, and start-up over: the loaded model's own request made (the Train pane told)
    and answered, so that no answer of start-up's replaces the names a test acts on."""
    explore = await ready(pilot, app)
    await wait_for(pilot, lambda: "Loaded" in str(
        app.train_pane.query_one("#train-message").render())
        and explore.shown_request == explore.wanted_request
        and not any(w.group == "sample" and w.is_running for w in app.workers),
        what="start-up settled")
    return explore


async def type_prompt(pilot: Pilot, explore: ExplorePane, text: str) -> None:
    explore.prompt.focus()
    explore.prompt.value = ""
    await pilot.press(*text)
    await wait_for(pilot, lambda: explore.shown_request is not None
                   and explore.shown_request.prompt == text, what=f"candidates for {text!r}")


async def check_a_burst_samples_once_after_it(
    pilot: Pilot, explore: ExplorePane, monkeypatch: pytest.MonkeyPatch, field: Input,
    texts: list[str], asked: Callable[[SampleConfig], str],
) -> None:
    """Set `field` to each of `texts` at one instant: the first asks for candidates at once,
    the rest once, after the burst. `asked` reads the field's value back from a request."""
    clock = [time.monotonic() + 10]  # the burst happens at one instant, however slow
    monkeypatch.setattr(explore, "clock", lambda: clock[0])
    started: list[str] = []
    sample = explore._sample
    monkeypatch.setattr(explore, "_sample",
                        lambda request: (started.append(asked(request)), sample(request)))
    for text in texts:
        field.value = text  # each change asks for candidates
        await pilot.pause()
    assert started == texts[:1]  # the first at once; the rest wait for the burst to end
    await wait_for(pilot, lambda: started == [texts[0], texts[-1]], what="one sampling after it")


async def test_candidates_start_with_the_prompt(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        assert app.focused is explore.prompt  # a first-time user can type at once
        await type_prompt(pilot, explore, "ma")
        names = explore.shown_names()
        assert len(names) == 20
        assert all(name.startswith("ma") for name in names)
        assert len(set(names)) == len(names)
        # every row shows a name, a score and a label
        lines = [explore.table.render_line(y).text for y in range(len(names))]
        for name, line in zip(names, lines, strict=True):
            assert name in line
            assert any(label in line for label in ("novel", "in train", "in val"))
        assert all(c.logprob < 0 and c.logprob_per_token < 0 for c in explore.candidates)
        assert "starting with “ma”" in str(explore.message.render())


async def test_typing_fast_ends_on_the_last_prompt(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.prompt.focus()
        await pilot.press("m", "a", "r", "backspace", "l")  # faster than the debounce
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.prompt == "mal", what="candidates for 'mal'")
        assert all(name.startswith("mal") for name in explore.shown_names())


async def test_hide_training_names(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.query_one("#count").value = "60"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.n == 60, what="60 candidates")
        sources = {c.source for c in explore.candidates}
        assert "train" in sources, "the tiny model should reproduce some training names"

        switch = explore.query_one("#novel-only", Checkbox)
        await pilot.click(switch)
        assert switch.value
        # at once, before any new sampling: the known names are gone
        assert {c.source for c in explore.candidates} <= {"novel"}
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.novel_only, what="novel-only candidates")
        assert explore.candidates
        assert {c.source for c in explore.candidates} == {"novel"}
        assert all("in train" not in explore.table.render_line(y).text
                   for y in range(len(explore.candidates)))

        await pilot.click(switch)
        await wait_for(pilot, lambda: not explore.shown_request.novel_only,  # type: ignore[union-attr]
                       what="all candidates again")
        assert "train" in {c.source for c in explore.candidates}


async def test_unknown_character_is_named_inline(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.prompt.focus()
        await pilot.press("m", "z")
        await wait_for(pilot, lambda: "'z'" in str(explore.message.render()),
                       what="the unknown-character message")
        message = str(explore.message.render())
        assert "does not know" in message and "It knows:" in message
        assert explore.candidates == []
        assert app.is_running
        await pilot.press("backspace")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.prompt == "m" and bool(explore.candidates),
                       what="candidates after deleting the bad character")
        assert "does not know" not in str(explore.message.render())


async def test_bad_settings_say_what_is_wrong(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        explore.query_one("#top-p").value = "1.5"
        await wait_for(pilot, lambda: "top-p" in str(explore.message.render()).lower(),
                       what="the top-p message")
        explore.query_one("#top-p").value = "0.9"
        explore.query_one("#top-k").value = "3"
        explore.query_one("#temperature").value = "0.5"
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.top_k == 3
                       and explore.shown_request.temperature == 0.5, what="new settings")
        assert explore.candidates


async def test_sort_by_likelihood(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await pilot.click(explore.query_one("#sort", Checkbox))
        scores = [c.logprob for c in explore.candidates]
        assert scores == sorted(scores, reverse=True)


async def test_reroll_gives_other_names(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        first = explore.shown_names()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: explore.shown_request is not None
                       and explore.shown_request.seed == 1, what="rerolled candidates")
        assert explore.shown_names() != first


async def test_attention_map_follows_the_selection(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await type_prompt(pilot, explore, "ko")
        attention = explore.attention_map
        await wait_for(pilot, lambda: attention.word == explore.shown_names()[0],
                       what="the first name's attention")
        await pilot.press("down", "down")  # into the list, then the second name
        second = explore.shown_names()[1]
        await wait_for(pilot, lambda: attention.word == second, what="the second name's map")
        assert attention.attention is not None
        assert attention.attention.tokens == ["<bos>", *second]
        weights = attention.attention.weights
        assert weights.shape == (1, 2, len(second) + 1, len(second) + 1)
        rendered = str(attention.render())
        assert "layer 1" in rendered and "mean of 2 heads" in rendered
        attention.focus()
        await pilot.press("right_square_bracket")
        assert "head 1" in str(attention.render())


async def test_a_burst_of_keystrokes_samples_once_after_it(make_app: AppFactory,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await check_a_burst_samples_once_after_it(
            pilot, explore, monkeypatch, explore.prompt, ["m", "ma", "mar", "mari"],
            lambda request: request.prompt)


async def test_corrections_go_when_the_prompt_is_cleared_after_the_model_changed(
    make_app: AppFactory,
) -> None:
    """A new model asks again for the same text's corrections; until it answers, the line
    still belongs to that text, so clearing the prompt clears it (it used to stay: the
    line had forgotten its text, and an empty prompt matched the forgotten one)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await type_prompt(pilot, explore, "elefant")
        line = explore.did_you_mean
        line.show("elefant", ["elephant"])
        explore.refresh_model()  # as when a run ends: its names come, then corrections
        explore.prompt.value = ""  # cleared before they do
        await pilot.pause()
        assert line.names == [] and line.for_text == ""  # at once, not on a later answer
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert line.names == []  # and no answer for the old text brings it back


async def test_a_late_hide_does_not_take_the_focus_from_the_prompt(make_app: AppFactory) -> None:
    """A layout pass from before F3 showed Explore again can post the prompt a Hide after F3
    has focused it; the focus stays, so the keys typed next reach the prompt (they went to
    the attention map, once in three runs of the train-then-correct test)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        assert app.focused is explore.prompt
        explore.prompt.post_message(events.Hide())
        await pilot.pause()
        assert app.focused is explore.prompt


async def test_a_word_typed_away_from_and_back_in_one_burst_keeps_its_correction(
        make_app: AppFactory) -> None:
    """Back to the text on show within one burst of keys: no new request goes out (the
    same names), yet the first change cleared the correction line, which must come back.
    It stayed empty (seen on a loaded machine, after training in the app)."""
    app = make_app(checkpoint=default_checkpoint_path())  # the shipped model knows elephant
    async with app.run_test(size=SIZE) as pilot:
        explore = await ready(pilot, app)
        await type_prompt(pilot, explore, "elefant")
        line = explore.did_you_mean
        await wait_for(pilot, lambda: line.names[:1] == ["elephant"], what="the correction")
        asked = explore.wanted_request
        explore.clock = lambda: 0.0  # every change below in one burst
        explore.prompt.value = "elefan"
        explore.prompt.value = "elefant"
        await wait_for(pilot, lambda: explore._debounce is not None, what="the burst")
        await wait_for(pilot, lambda: explore._debounce is None, what="the burst's end")
        assert explore.wanted_request is asked  # the same names: none asked for
        await wait_for(pilot, lambda: line.names[:1] == ["elephant"], what="the correction back")
