"""Kinds mixed in any proportion: `--category animals=0.7 --category fruits-vegetables=0.3`."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
import torch
from minigpt2.core.cli.main import main
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.guidance import Blend, kind_streams
from minigpt2.core.sample.logprobs import word_logprobs
from minigpt2.core.sample.request import Mix, SampleConfig, parse_kinds
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.evaluate import evaluate_words

KINDS = ("animals", "fruits-vegetables")


@pytest.fixture(scope="module")
def shipped() -> Sampler:
    return Sampler.from_checkpoint(default_checkpoint_path())


def test_weights_are_shares_and_one_kind_is_a_category() -> None:
    assert dict(Mix({"a": 7, "b": 3})) == pytest.approx({"a": 0.7, "b": 0.3})
    assert dict(Mix({"a": 2, "b": 0})) == {"a": 1.0}  # a weight of 0 leaves the kind out
    assert parse_kinds(["a=0.7", "b=0.3"]) == Mix({"a": 0.7, "b": 0.3})
    assert parse_kinds(["animals"]) == Mix({"animals": 1.0})  # today's --category NAME
    assert SampleConfig(kinds={"a": 3}) == SampleConfig(category="a")
    assert SampleConfig(category="a").kinds == Mix({"a": 1.0})
    mixed = SampleConfig(kinds={"a": 1, "b": 1})
    assert mixed.category is None and dict(mixed.kinds) == {"a": 0.5, "b": 0.5}
    assert hash(mixed) == hash(SampleConfig(kinds={"b": 2, "a": 2}))  # equal, whatever the order


def test_a_mix_and_examples_round_trip_through_json() -> None:
    config = SampleConfig(kinds={"animals": 0.7, "fruits-vegetables": 0.3}, guidance=2.0,
                          like=("dravix", "tavix"), like_strength=0.5)
    again = SampleConfig.from_dict(json.loads(json.dumps(config.as_dict())))
    assert again == config
    assert SampleConfig.from_dict(SampleConfig(category="animals").as_dict()).category == "animals"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["animals=-1"], "weight of 'animals' must be 0 or more"),
        (["animals=nan", "fruits-vegetables=1"], "weight of 'animals' must be 0 or more"),
        (["animals=inf"], "weight of 'animals' must be 0 or more"),
        (["animals=0", "fruits-vegetables=0"], "all 0"),
        (["animals=lots"], "expected KIND or KIND=WEIGHT"),
        (["=0.5"], "expected KIND or KIND=WEIGHT"),
        (["animals=1", "animals=2"], "given twice"),
    ],
)
def test_bad_weights_are_refused(values: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_kinds(values)


def test_a_category_and_another_mix_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        SampleConfig(category="animals", kinds={"animals": 1, "fruits-vegetables": 1})


def test_unknown_kinds_and_a_mix_without_kinds_are_refused(
    shipped: Sampler, trained_path: Path
) -> None:
    with pytest.raises(ValueError, match="unknown category 'minerals'"):
        shipped.sample(SampleConfig(kinds={"animals": 1, "minerals": 1}))
    plain = Sampler.from_checkpoint(trained_path)
    with pytest.raises(ValueError, match="needs a model trained on several lists"):
        plain.sample(SampleConfig(kinds={"animals": 1, "fruits-vegetables": 1}))
    with pytest.raises(ValueError, match="needs a model trained on several lists"):
        plain.score("cat", {"animals": 1, "fruits-vegetables": 1})


def mean_gap(sampler: Sampler, names: list[str]) -> float:
    """Mean of log p(name|animals) − log p(name|fruits-vegetables)."""
    a, f = (word_logprobs(sampler.model, sampler.vocab, names, kind) for kind in KINDS)
    return statistics.fmean(x - y for x, y in zip(a, f, strict=True))


def test_names_of_a_half_and_half_mix_lie_between_the_pure_kinds(shipped: Sampler) -> None:
    gaps = []
    for share in (1.0, 0.5, 0.0):
        config = SampleConfig(n=300, kinds={"animals": share, "fruits-vegetables": 1 - share},
                              guidance=2.0, seed=5, time_limit_s=None)
        gaps.append(mean_gap(shipped, [s.name for s in shipped.sample(config)]))
    animals, half, fruits = gaps
    assert animals > half > fruits, gaps


def test_a_mix_scores_by_the_renormalised_weighted_product(shipped: Sampler) -> None:
    mix = Mix({"animals": 0.7, "fruits-vegetables": 0.3})
    vocab, model = shipped.vocab, shipped.model
    word = "okapi"
    ids = torch.tensor([vocab.frame(word)])
    with torch.inference_mode():
        by_kind = []
        for kind in KINDS:
            row = ids.clone()
            row[0, 0] = vocab.start_id(kind)
            by_kind.append(model(row[:, :-1])[0].log_softmax(-1))
        mixed = (0.7 * by_kind[0] + 0.3 * by_kind[1]).log_softmax(-1)
        expected = float(mixed[0].gather(-1, ids[0, 1:, None]).sum())
    assert shipped.score(word, mix).logprob == pytest.approx(expected, abs=1e-4)
    assert word_logprobs(model, vocab, [word], mix) == pytest.approx([expected], abs=1e-4)
    loss, tokens = evaluate_words(model, vocab, [word, "kiwi"], mix)
    both = word_logprobs(model, vocab, [word, "kiwi"], mix)
    assert loss == pytest.approx(-sum(both) / tokens, abs=1e-5)
    single = shipped.score(word, {"animals": 1.0}).logprob
    assert single == pytest.approx(shipped.score(word, "animals").logprob, abs=1e-5)


def test_guidance_leans_the_mix_away_from_no_kind(shipped: Sampler) -> None:
    """(1 + w)·Σ s_k·log p(x|k) − w·log p(x), up to a constant per row."""
    vocab, model = shipped.vocab, shipped.model
    blend = Blend(model, kind_streams(vocab, {"animals": 0.25, "fruits-vegetables": 0.75}, 2.0))
    prompt = torch.tensor([[1, *vocab.encode("ba")]])
    with torch.inference_mode():
        parts = {}
        for kind, start in (("a", vocab.start_id("animals")),
                            ("f", vocab.start_id("fruits-vegetables")), ("none", 1)):
            row = prompt.clone()
            row[0, 0] = start
            parts[kind] = model(row)[0].log_softmax(-1)
        expected = 3 * (0.25 * parts["a"] + 0.75 * parts["f"]) - 2 * parts["none"]
        assert torch.allclose(blend(prompt)[0], expected, atol=1e-4)


def test_guided_mixed_names_carry_their_log_probability_under_the_mix(shipped: Sampler) -> None:
    mix = {"animals": 0.5, "fruits-vegetables": 0.5}
    for sample in shipped.sample(SampleConfig(n=5, kinds=mix, guidance=2.0, seed=1)):
        assert sample.logprob == pytest.approx(shipped.score(sample.name, mix).logprob, abs=1e-4)


def test_the_most_likely_names_of_a_mix_rank_by_the_mix(shipped: Sampler) -> None:
    mix = {"animals": 0.5, "fruits-vegetables": 0.5}
    found = shipped.sample(SampleConfig(n=10, most_likely=True, kinds=mix, time_limit_s=None))
    logprobs = [s.logprob for s in found]
    assert len(found) == 10 and logprobs == sorted(logprobs, reverse=True)
    for sample in found:
        assert sample.logprob == pytest.approx(shipped.score(sample.name, mix).logprob, abs=1e-4)
    names = {s.name for s in found}
    for kind in KINDS:  # a pure kind's likeliest names, read as the mix, rank no higher
        config = SampleConfig(n=10, most_likely=True, category=kind, time_limit_s=None)
        for sample in shipped.sample(config):
            as_mix = shipped.score(sample.name, mix).logprob
            assert sample.name in names or as_mix <= logprobs[-1] + 1e-4, sample.name


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_takes_a_mix_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    mix = ["--category", "animals=0.7", "--category", "fruits-vegetables=0.3"]
    code, out, _ = run(capsys, "sample", *mix, "-n", "3", "--seed", "1", "--json",
                       "--time-limit", "5")
    records = json.loads(out)
    assert code == 0 and len(records) == 3
    assert all(r["kinds"] == {"animals": 0.7, "fruits-vegetables": 0.3} for r in records)
    code, out, _ = run(capsys, "score", *mix, "--json", "okapi")
    assert code == 0 and json.loads(out)[0]["kinds"] == {"animals": 0.7, "fruits-vegetables": 0.3}
    code, out, _ = run(capsys, "eval", *mix, "--data", "animals")
    assert code == 0 and math.isfinite(json.loads(out)["loss"])
    code, out, _ = run(capsys, "repair", *mix, "--json", "banan")
    assert code == 0 and json.loads(out)[0]["candidates"]
    code, out, _ = run(capsys, "sample", *mix, "-n", "2", "--most-likely", "--json")
    assert code == 0 and len(json.loads(out)) == 2
    code, out, _ = run(capsys, "sample", "--category", "animals", "-n", "2", "--json",
                       "--time-limit", "5")
    assert code == 0 and json.loads(out)[0]["kinds"] == {"animals": 1.0}  # as ever, plus kinds


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--category", "animals=-0.5"], "the weight of 'animals' must be 0 or more"),
        (["--category", "animals=0"], "all 0"),
        (["--category", "animals=nan"], "the weight of 'animals' must be 0 or more"),
        (["--category", "animals=x"], "expected KIND or KIND=WEIGHT"),
        (["--category", "animals=1", "--category", "gems=1"], "unknown category 'gems'"),
    ],
)
def test_the_cli_refuses_a_bad_mix_in_one_line(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    for command in (["sample"], ["score", "cat"], ["eval", "--data", "animals"]):
        code, out, err = run(capsys, *command, *flags)
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and message in err, (command, err)
