from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from minigpt2.core.sample.repair import Correction, Repairer, edits1, osa_distance
from minigpt2.core.sample.sampler import Sampler


def test_edits1_is_every_single_edit() -> None:
    assert edits1("ab", "ab") == {"a", "b", "ba", "bb", "aa", "aab", "bab", "aba", "abb"}
    assert all(osa_distance("cat", e) == 1 for e in edits1("cat", "abct"))


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("cat", "cat", 0), ("cat", "act", 1), ("cat", "cart", 1), ("cat", "at", 1),
     ("cat", "cut", 1), ("cat", "tac", 2), ("elephant", "elefant", 2), ("", "ab", 2)],
)  # fmt: skip
def test_osa_distance(a: str, b: str, distance: int) -> None:
    assert osa_distance(a, b) == distance == osa_distance(b, a)


def lexicon_scorer(likely: dict[str, float]) -> tuple[list[int], object]:
    """A fake model: listed words score their value, every other string -30; counts calls."""
    calls: list[int] = []

    def scorer(words: Sequence[str]) -> list[float]:
        calls.append(len(words))
        return [likely.get(w, -30.0) for w in words]

    return calls, scorer


class StepClock:
    """Advances `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_known_word_one_edit_away_comes_first() -> None:
    calls, scorer = lexicon_scorer({"elephant": -12.0})
    repairer = Repairer(scorer, "aehlnpt", ["elephant", "ant"], edit_cost=2.0, known_bonus=1.0)
    best = repairer.suggest("elephnat", n=3)
    assert best[0] == Correction("elephant", -12.0 - 2.0 + 1.0, 1, "train")
    assert len(best) == 3 and best[1].score <= best[0].score
    assert len(calls) == 2 and calls[0] > 100  # candidates go to the model in batches


def test_a_novel_word_two_edits_away_is_found_when_the_budget_allows() -> None:
    # "zbra" (one edit from the typo) is a stepping stone the model finds likely.
    _, scorer = lexicon_scorer({"zebra": -5.0, "zbra": -20.0})
    repairer = Repairer(scorer, "abersz", edit_cost=3.0, clock=StepClock(0.0))
    best = repairer.suggest("zbrsa")
    assert (best[0].name, best[0].edits, best[0].source) == ("zebra", 2, "novel")
    assert repairer.last_distance == 2


def test_with_the_budget_spent_it_falls_back_to_one_edit() -> None:
    calls, scorer = lexicon_scorer({"zebra": -5.0, "zebu": -6.0})
    repairer = Repairer(
        scorer, "abersuz", ["zebu"], edit_cost=3.0, budget_s=0.1, clock=StepClock(1.0)
    )
    best = repairer.suggest("zbrsa", n=50)
    assert len(calls) == 1 and repairer.last_distance == 1  # no second pass
    assert "zebra" not in {c.name for c in best}
    assert {c.edits for c in best if c.source == "novel"} <= {0, 1}
    assert "zebu" not in {c.name for c in best}  # three edits away: never a candidate


def test_known_words_two_edits_away_are_candidates_even_on_fallback() -> None:
    _, scorer = lexicon_scorer({"zebra": -5.0})
    repairer = Repairer(
        scorer, "abersz", ["zebra"], edit_cost=4.0, known_bonus=4.0, clock=StepClock(1.0)
    )
    assert repairer.suggest("zbrsa")[0] == Correction("zebra", -5.0 - 8.0 + 4.0, 2, "train")


def test_did_you_mean_only_for_an_unknown_unlikely_word_a_correction_beats() -> None:
    _, scorer = lexicon_scorer({"cat": -4.0, "cut": -5.0, "cot": -25.0, "cit": -4.5})
    repairer = Repairer(scorer, "acotu", ["cat", "cut"], edit_cost=2.0, known_bonus=0.0)
    assert repairer.did_you_mean("cat") == []  # known
    assert repairer.did_you_mean("cit") == []  # as likely as the known words: a real name
    assert [c.name for c in repairer.did_you_mean("cot", 2)] == ["cat", "cut"]
    _, plain = lexicon_scorer({"cot": -28.0, "cat": -4.0})
    expensive = Repairer(plain, "acotu", ["cat"], edit_cost=30.0, known_bonus=0.0)
    assert expensive.did_you_mean("cot") == []  # unlikely, yet likelier than any repair
    assert repairer.suggest("  ") == []


def test_a_likely_slip_of_a_known_word_is_corrected_from_six_letters() -> None:
    # Per token (letters + end): banana -0.86, papaya -2.0 (the known words' floor); the
    # slips banama -1.0 and bnana -0.83 both look likely on their own.
    _, scorer = lexicon_scorer({"banana": -6.0, "papaya": -14.0, "banama": -7.0, "bnana": -5.0})
    repairer = Repairer(scorer, "abmnpy", ["banana", "papaya"], edit_cost=2.0, known_bonus=8.0)
    assert repairer.is_likely("banama") and repairer.is_likely("bnana")
    assert repairer.suggest("bnana", 1)[0].name == "banana"
    assert [c.name for c in repairer.did_you_mean("banama", 1)] == ["banana"]
    assert repairer.did_you_mean("bnana") == []  # short and likely: a start being typed


def test_how_likely_known_words_are_is_measured_again_when_the_weights_change() -> None:
    likely = {"cat": -4.0, "cut": -4.0, "cot": -6.0}  # per token: known -1.0, cot -1.5
    _, scorer = lexicon_scorer(likely)
    repairer = Repairer(scorer, "acotu", ["cat", "cut"])
    assert not repairer.is_likely("cot")
    likely |= {"cat": -8.0, "cut": -8.0}  # the model trained on: known words now -2.0
    assert not repairer.is_likely("cot")  # the floor stays the one measured first...
    repairer.weights_changed()
    assert repairer.is_likely("cot")  # ...until the weights are said to have changed


def test_repair_with_a_trained_model(trained_path: Path) -> None:
    sampler = Sampler.from_checkpoint(trained_path)
    repairer = Repairer.from_sampler(sampler, budget_s=60.0)
    typo = "bluebery"
    assert "blueberry" in sampler.train_words
    best = repairer.suggest(typo)
    assert best[0].name == "blueberry" and best[0].edits == 1
    assert best[0].source == sampler.source_of("blueberry")
    assert [c.score for c in best] == sorted((c.score for c in best), reverse=True)


def test_cli_repair_json_and_text(trained_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "minigpt2.core.cli", "repair", "--checkpoint"]
        return subprocess.run(
            [*command, str(trained_path), *args], capture_output=True, text=True, timeout=300
        )

    result = run("--json", "-n", "3", "bluebery", "lmon")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["word"] for r in records] == ["bluebery", "lmon"]
    first = records[0]["candidates"]
    assert len(first) == 3 and set(first[0]) == {"name", "score", "edits", "source"}
    assert [c["score"] for c in first] == sorted((c["score"] for c in first), reverse=True)
    text = run("bluebery")
    assert text.stdout.startswith("bluebery\t") and "(" in text.stdout
    bad = run("--category", "fruit", "x")
    assert bad.returncode == 2 and "no categories" in bad.stderr


def test_the_app_imports_categories_and_repair_without_torch() -> None:
    code = (
        "import sys, minigpt2.core.sample.repair, minigpt2.core.data.dataset, "
        "minigpt2.core.sample.request; "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_osa_swaps_only_equal_letters() -> None:
    # "xc" -> "bx" is two substitutions: its letters cross, but "c" is not "b".
    assert osa_distance("xc", "bx") == 2 == osa_distance("bx", "xc")
    assert osa_distance("ca", "abc") == 3  # OSA edits no substring twice (Damerau: 2)


def test_known_words_more_than_two_edits_away_are_never_candidates() -> None:
    # "xyab" shares a two-deletion key ("ab") with "abcd" but is four edits away.
    _, scorer = lexicon_scorer({"abce": -6.0, "xyab": -1.0})
    repairer = Repairer(scorer, "abcdexy", ["abce", "xyab"], known_bonus=24.0,
                        clock=StepClock(0.0))
    assert repairer.last_distance == 0  # nothing searched yet
    found = repairer.suggest("abcd", n=10**6)
    assert "xyab" not in {c.name for c in found}
    assert {c.name: c.edits for c in found}["abce"] == 1
    assert max(c.edits for c in found) == 2


class WordClock:
    """Time passes only while the model scores: one tick (a power of two: exact sums) a word."""

    tick = 2.0**-10

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[int] = []

    def __call__(self) -> float:
        return self.now

    def scorer(self, words: Sequence[str]) -> list[float]:
        self.calls.append(len(words))
        self.now += self.tick * len(words)
        return [-float(len(w)) for w in words]


def test_the_second_pass_scores_what_85_percent_of_the_time_left_affords() -> None:
    clock = WordClock()
    repairer = Repairer(clock.scorer, "abcdef", budget_s=200 * clock.tick, clock=clock)
    repairer.suggest("abcd")
    first, second = clock.calls
    assert first == 1 + len(edits1("abcd", "abcdef")) < 200
    # One tick a word: the pace is one tick, and (200 - first) ticks are left.
    assert second == int(0.85 * (200 - first)) and repairer.last_distance == 2


@pytest.mark.parametrize(("known", "floor"), [(10, -10.0), (11, -10.0), (21, -19.0)])
def test_a_word_likely_per_letter_as_the_tenth_percentile_needs_no_repair(
    known: int, floor: float
) -> None:
    # Known one-letter words at -1, -2, ... per token (2 tokens each: the letter and the end).
    # The floor is the lower nearest rank at 10%: sorted ascending, index int(0.1 * (n - 1)).
    letters = "abcdefghijklmnopqrstu"[:known]
    likely = {ch: -2.0 * (i + 1) for i, ch in enumerate(letters)}
    likely |= {"xyz": 4 * floor, "xyzw": 5 * floor, "xy": 3 * floor - 0.5}
    _, scorer = lexicon_scorer(likely)
    repairer = Repairer(scorer, letters + "xyzw", letters)
    assert repairer.is_likely("xyz")  # 3 letters + end: exactly on the floor
    assert repairer.is_likely("xyzw")
    assert not repairer.is_likely("xy")  # just under it
