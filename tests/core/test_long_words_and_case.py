"""Words longer than a model takes, and typed text folded as the training words were, on the
shipped model (`assets/default.safetensors`, block size 16: 14 characters) and real lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from minigpt2.core.data.vocab import chars_that_fit
from minigpt2.core.data.words import default_checkpoint_path, load_words
from minigpt2.core.sample.repair import Repairer
from minigpt2.core.sample.sampler import Sampler


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The CLI in this process, on the shipped model unless --checkpoint says otherwise."""
    from minigpt2.core.cli.main import main

    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def shipped() -> Sampler:
    return Sampler.from_checkpoint(default_checkpoint_path())


def test_eval_on_minerals_reports_the_long_words_and_evaluates_the_rest(
    shipped: Sampler, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limit = chars_that_fit(shipped.model.config.block_size)
    minerals = load_words("minerals")
    long_words = [w for w in minerals if len(w) > limit]
    assert "cuprosklodowskite" in long_words  # the list holds what the test is about
    code, out, err = run_main(["eval", "--data", "minerals"], capsys)
    assert code == 0, err
    record = json.loads(out)
    assert record["words"] == len(minerals) - len(long_words)
    assert record["too_long"] == {"count": len(long_words), "first": long_words[:5]}
    assert f"left out {len(long_words)} words longer than this model's {limit}" in err
    assert "cuprosklodowskite" in err and len(err.splitlines()) == 1
    # The loss is the one of the words that fit, evaluated alone.
    fitting = tmp_path / "fitting.txt"
    fitting.write_text("\n".join(w for w in minerals if len(w) <= limit) + "\n")
    _, alone, _ = run_main(["eval", "--data", str(fitting)], capsys)
    assert json.loads(alone)["loss"] == record["loss"] and "too_long" not in json.loads(alone)


def test_score_reports_a_long_word_and_scores_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_main(["score", "--json", "cuprosklodowskite", "cat"], capsys)
    assert code == 0, err
    assert [r["word"] for r in json.loads(out)] == ["cat"]
    assert "left out 1 word longer" in err and "cuprosklodowskite" in err


def test_score_with_no_word_that_fits_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_main(["score", "cuprosklodowskite"], capsys)
    assert code == 2 and out == ""
    message = "minigpt2: error: every word is longer than this model's 14 characters: "
    assert err == message + "cuprosklodowskite\n"


@pytest.mark.parametrize("typed", ["ELEFANT", "Elefant", "elefant"])
def test_repair_offers_elephant_first_however_elefant_is_cased(
    typed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(["repair", "--json", typed], capsys)
    assert code == 0, err
    (record,) = json.loads(out)
    assert record["word"] == typed and record["candidates"][0]["name"] == "elephant"


def test_repair_folds_as_score_does(shipped: Sampler) -> None:
    repairer = Repairer.from_sampler(shipped, budget_s=60.0)
    assert repairer.suggest("GiRaFe") == repairer.suggest("giraffe".replace("ff", "f"))
    assert repairer.did_you_mean("ZEBRA") == []  # a known word, once folded
