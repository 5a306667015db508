"""The presets as the README documents them: auto's rule read from the README's own table."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
from minigpt2.core.config import AUTO_STEP_S, Preset, TrainConfig, get_preset, resolve_auto

README = Path(__file__).resolve().parents[2] / "README.md"
Row = tuple[int, int, float, float, int, float, bool]


def readme_auto_rows() -> list[list[str]]:
    """The cells of each row of the table under "How `auto` chooses"."""
    text = README.read_text("utf-8").split("### How `auto` chooses", 1)[1]
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return [row for row in rows if row[0].startswith(("up to", "more"))]


def number(cell: str) -> float:
    return 0.0 if cell == "none" else float(cell.replace(",", ""))


def documented(cells: list[str]) -> Row:
    """blocks, width, dropout, weight decay, batch, epoch cap (0 for none) and whether it
    starts from the prior, from a table row."""
    blocks, width = (int(part) for part in cells[2].split(" × "))
    assert cells[7] in ("the prior", "scratch")
    return (blocks, width, number(cells[3]), number(cells[4]), int(cells[5]), number(cells[6]),
            cells[7] == "the prior")


def chosen(preset: Preset) -> Row:
    model, train = preset.model, preset.train
    return (model.n_layer, model.d_model, model.dropout, train.weight_decay, train.batch_size,
            train.epoch_cap or 0, train.prior)


def test_auto_follows_the_readme_table_on_each_side_of_each_bound() -> None:
    rows = readme_auto_rows()
    bounded = [row for row in rows if row[0].startswith("up to")]
    unbounded = rows[len(bounded)]
    assert bounded and unbounded[0] == "more" and len(rows) == len(bounded) + 2
    for cells, following in zip(bounded, [*bounded[1:], unbounded], strict=True):
        bound = int(number(cells[0].removeprefix("up to ")))
        assert chosen(resolve_auto(bound, budget_s=30.0)) == documented(cells), cells[0]
        assert chosen(resolve_auto(bound + 1, budget_s=30.0)) == documented(following), cells[0]
    assert chosen(resolve_auto(10**7, budget_s=30.0)) == documented(unbounded)


def test_auto_adds_a_block_on_a_large_list_given_enough_steps() -> None:
    cells = readme_auto_rows()[-1]
    found = re.search(r"with ([\d,]+) steps or more", cells[0])
    assert found is not None
    seconds = number(found.group(1)) * AUTO_STEP_S["cpu"]
    assert chosen(resolve_auto(10**7, budget_s=seconds)) == documented(cells)
    assert chosen(resolve_auto(10**7, budget_s=seconds - 1)) == documented(readme_auto_rows()[-2])


@pytest.mark.parametrize("count", [{"steps": 40}, {"epochs": 2}])
def test_an_explicit_count_replaces_the_epoch_cap_even_beside_a_time_budget(
    count: dict[str, int],
) -> None:
    capped = TrainConfig(epochs=None, time_budget_s=30.0, epoch_cap=3)
    assert capped.bounded(time_budget_s=10.0).epoch_cap == 3  # a time budget keeps the cap
    both = capped.bounded(time_budget_s=10.0, **count)
    assert both.epoch_cap is None and both.time_budget_s == 10.0


def test_a_plan_splits_its_words_as_the_readme_says_20_percent_shuffled_with_seed_42(
    words_file: Path,
) -> None:
    from minigpt2.core.train.plan import TrainPlan, plan_data

    words = words_file.read_text("utf-8").split()
    shuffled = list(words)
    random.Random(42).shuffle(shuffled)
    data = plan_data(TrainPlan(data=str(words_file)))
    cut = int(len(words) * 0.8)  # the first 80% (rounded down) train
    assert (data.train_words, data.val_words) == (shuffled[:cut], shuffled[cut:])


def test_the_seed_preset_trains_as_the_article_and_default_as_the_readme() -> None:
    """The article: Adam 1e-3, batch 16, 100 epochs, no schedule or decay (the 80/20 split is
    checked above). The README's presets table: `default` trains 40 epochs, batch 32."""
    seed = get_preset("seed").train
    assert (seed.lr, seed.batch_size, seed.epochs) == (1e-3, 16, 100)
    assert (seed.lr_schedule, seed.warmup_steps, seed.weight_decay) == ("constant", 0, 0.0)
    default = get_preset("default").train
    assert (default.epochs, default.batch_size, default.lr) == (40, 32, 3e-3)


def test_presets_cannot_be_changed_in_place() -> None:
    """Runs share the preset objects: a run that changed one would change the next run."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_preset("seed").train.batch_size = 64  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_preset("seed").model.d_model = 64  # type: ignore[misc]


@pytest.mark.parametrize("tokens", [1_000, 3_000, 9_450, 40_000, 230_000])
def test_auto_warms_up_for_about_four_epochs_within_20_to_200_steps(tokens: int) -> None:
    """README: "a warm-up of about four epochs (20 to 200 steps)", at ~8 tokens a word."""
    train = resolve_auto(tokens, 30.0).train
    steps_per_epoch = tokens / 8 / train.batch_size
    expected = min(200, max(20, 4 * steps_per_epoch))
    assert train.warmup_steps == pytest.approx(expected, abs=1)
