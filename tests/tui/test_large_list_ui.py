"""A large list in the app: loading shows its progress, and the chart and the summary say when
validation used a subset of the list's words (issue 18, part 4)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from minigpt2.core.train.trainer import VAL_SUBSET_WORDS
from minigpt2.tui.widgets.train.pane import TrainPane
from tui_helpers import SIZE, AppFactory, press, wait_for

# 14,641 words: the default split holds out 2,928, more than the subset.
BIG = ["".join(letters) for letters in itertools.product("abcdefghijk", repeat=4)]


async def test_a_large_list_shows_loading_and_its_validation_subset(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_text("\n".join(BIG), encoding="utf-8")
    said: list[str] = []
    shown = TrainPane.show_message

    def show_message(pane: TrainPane, text: str, *, error: bool = False) -> None:
        said.append(text)
        shown(pane, text, error=error)

    monkeypatch.setattr(TrainPane, "show_message", show_message)
    app = make_app(preset="seed")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.engine.info is not None, what="the model to load")
        await press(pilot, "f2")
        pane = app.train_pane
        await wait_for(pilot, lambda: app.focused is pane.query_one("#start"), what="Train")
        pane.set_data(str(path))
        await press(pilot, "f5")
        await wait_for(pilot, lambda: pane.last_event is not None
                       and pane.last_event.best_step is not None, timeout=120,
                       what="a validation")  # fmt: skip
        assert any("Loading the words: reading big.txt" in text for text in said), said
        assert f"validation ({VAL_SUBSET_WORDS:,} words)" in str(pane.chart.border_title)
        await press(pilot, "f6")
        await wait_for(pilot, lambda: pane.state == "done", timeout=60, what="the stop")
        summary = str(pane.query_one("#train-message").render())
        assert f"on {VAL_SUBSET_WORDS:,} of its words" in summary, summary
        assert app.is_running
