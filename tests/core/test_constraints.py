"""Constraints are exact, steered, honest and bounded: hundreds of names per constraint,
each checked by plain string tests written here (not by the code under test)."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from minigpt2.core.config import ModelConfig
from minigpt2.core.data.vocab import EOS, UnknownCharacterError, Vocab
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.constraints import ImpossibleConstraints, Steering
from minigpt2.core.sample.hooks import ConstraintMask
from minigpt2.core.sample.request import Sample, SampleConfig
from minigpt2.core.sample.sampler import Sampler


@pytest.fixture(scope="module")
def sampler(trained_path: Path, device: str) -> Sampler:
    return Sampler.from_checkpoint(trained_path, device)


def meets(name: str, **c: object) -> bool:
    """An independent reading of each constraint."""
    return (
        name.startswith(str(c.get("prompt", "")))
        and name.endswith(str(c.get("ends_with", "")))
        and str(c.get("contains", "")) in name
        and len(name) >= int(c.get("min_len", 1))  # type: ignore[call-overload]
        and len(name) <= int(c.get("max_len", 10**6))  # type: ignore[call-overload]
        and not any(ch in name for ch in str(c.get("exclude_chars", "")))
        and name not in c.get("exclude", ())  # type: ignore[operator]
    )


CONSTRAINTS = [
    {"ends_with": "a"},
    {"ends_with": "ry"},
    {"ends_with": "um"},
    {"contains": "an"},
    {"contains": "rr"},
    {"min_len": 4, "max_len": 5},
    {"min_len": 9, "max_len": 11},
    {"max_len": 3},
    {"prompt": "b", "ends_with": "y"},
    {"ends_with": "e", "max_len": 6},
    {"contains": "er", "ends_with": "t", "min_len": 5},
    {"exclude_chars": "aeiou"},
    {"exclude": frozenset({"cat", "dog", "lime", "fig", "date", "pear", "plum"}), "max_len": 4},
]


@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=str)
def test_every_name_meets_its_constraints(sampler: Sampler, constraint: dict) -> None:
    config = SampleConfig(n=300, seed=0, time_limit_s=None, **constraint)
    samples = sampler.sample(config)
    assert len(samples) == 300
    assert all(meets(s.name, **constraint) for s in samples), [s.name for s in samples][:20]
    assert all(not s.cut for s in samples)


@pytest.mark.parametrize("constraint", CONSTRAINTS[:6], ids=str)
def test_logprobs_stay_honest(sampler: Sampler, constraint: dict) -> None:
    """The reported log-probability is the model's own, not the steered distribution's."""
    for sample in sampler.sample(SampleConfig(n=8, seed=1, **constraint)):
        assert sampler.score(sample.name).logprob == pytest.approx(sample.logprob, abs=1e-4)


def test_steering_reaches_a_rare_suffix_without_rejection(sampler: Sampler) -> None:
    """Names that must end in "um" are steered into it: a few draws per name are enough."""
    calls = []
    original = sampler._generate

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args[1])
        return original(*args, **kwargs)

    sampler._generate = counting  # type: ignore[method-assign]
    try:
        samples = sampler.sample(SampleConfig(n=50, ends_with="um", seed=0, time_limit_s=None))
    finally:
        del sampler._generate
    assert len(samples) == 50 and all(s.name.endswith("um") for s in samples)
    assert sum(calls) < 500  # blind rejection would need thousands of draws


def test_greedy_obeys_constraints(sampler: Sampler) -> None:
    samples = sampler.sample(SampleConfig(n=3, temperature=0, ends_with="a", max_len=6))
    assert {s.name for s in samples} == {samples[0].name}
    assert meets(samples[0].name, ends_with="a", max_len=6)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (dict(min_len=6, max_len=4), "above max-len"),
        (dict(ends_with="berry", max_len=3), "longer than max-len"),
        (dict(contains="apple", max_len=4), "longer than max-len"),
        (dict(ends_with="a", exclude_chars="a"), "excluded"),
        (dict(prompt="ba", exclude_chars="b"), "excluded"),
    ],
)
def test_impossible_constraints_are_refused_by_the_config(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SampleConfig(**config)


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (SampleConfig(ends_with="a" * 40), ImpossibleConstraints),
        (SampleConfig(min_len=40), ImpossibleConstraints),
        (SampleConfig(contains="abc", ends_with="pqr", max_len=5), ImpossibleConstraints),
        (SampleConfig(ends_with="#"), UnknownCharacterError),
        (SampleConfig(contains="é"), UnknownCharacterError),
    ],
)
def test_impossible_constraints_are_refused_before_sampling(
    sampler: Sampler, config: SampleConfig, error: type
) -> None:
    sampler._generate = None  # type: ignore[assignment,method-assign]  # must not be reached
    try:
        with pytest.raises(error):
            sampler.sample(config)
    finally:
        del sampler._generate


class StepClock:
    """A clock that moves 10 ms each time it is read: time limits without wall time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += 0.01
        return self.now


def test_a_request_that_cannot_be_filled_returns_what_it_found_within_its_bound(
    trained_path: Path,
) -> None:
    clock = StepClock()
    sampler = Sampler.from_checkpoint(trained_path)
    sampler.clock = clock
    config = SampleConfig(n=5000, unique=True, novel_only=True, max_len=3, time_limit_s=1.0)
    samples = sampler.sample(config)
    assert 0 < len(samples) < 5000
    # The start, one read after the first round (which always ends), then one per step until
    # the bound: the limit holds to a step.
    assert clock.reads <= 102
    assert len({s.name for s in samples}) == len(samples)


def test_a_cancelled_request_stops_at_once(sampler: Sampler) -> None:
    samples = sampler.sample(
        SampleConfig(n=5000, unique=True, time_limit_s=None), cancelled=lambda: True
    )
    assert len(samples) < 5000


def test_top_p_keeps_only_the_nucleus(sampler: Sampler) -> None:
    greedy = sampler.sample(SampleConfig(prompt="c", n=1, temperature=0))[0].name
    nucleus = sampler.sample(SampleConfig(prompt="c", n=50, top_p=1e-6, seed=0))
    assert {s.name for s in nucleus} == {greedy}
    wider = sampler.sample(SampleConfig(prompt="c", n=50, top_p=0.9, seed=0))
    assert len({s.name for s in wider}) > 1


def test_max_len_bounds_every_name(sampler: Sampler) -> None:
    samples = sampler.sample(SampleConfig(n=300, max_len=4, seed=0))
    assert len(samples) == 300 and max(len(s.name) for s in samples) <= 4
    assert max(len(s.name) for s in sampler.sample(SampleConfig(n=300, seed=0))) > 4


# --- the most likely names ------------------------------------------------------------------


def test_most_likely_beats_ten_thousand_draws(sampler: Sampler) -> None:
    top = sampler.sample(SampleConfig(n=10, most_likely=True, time_limit_s=None))
    draws = sampler.sample(SampleConfig(n=10_000, seed=0, time_limit_s=None))
    assert top[0].logprob >= max(s.logprob for s in draws) - 1e-5
    assert [s.logprob for s in top] == sorted((s.logprob for s in top), reverse=True)
    assert len({s.name for s in top}) == 10
    for sample in top[:3]:
        assert sampler.score(sample.name).logprob == pytest.approx(sample.logprob, abs=1e-4)


def test_most_likely_novel_only_under_constraints(sampler: Sampler) -> None:
    config = SampleConfig(n=10, most_likely=True, novel_only=True, ends_with="a", max_len=7)
    top = sampler.sample(config)
    assert len(top) == 10
    assert all(s.source == "novel" and meets(s.name, ends_with="a", max_len=7) for s in top)
    assert all(s.name not in sampler.train_words | sampler.val_words for s in top)


def test_most_likely_ranks_per_char_on_request(sampler: Sampler) -> None:
    top = sampler.sample(SampleConfig(n=10, most_likely=True, rank="per_char"))
    per_char = [s.logprob_per_token for s in top]
    assert per_char == sorted(per_char, reverse=True)
    by_total = sampler.sample(SampleConfig(n=10, most_likely=True))
    assert sum(len(s.name) for s in top) > sum(len(s.name) for s in by_total)


# --- names cut at the length limit ----------------------------------------------------------


@pytest.fixture
def young(tiny: ModelConfig) -> Sampler:
    """An untrained model: it almost never chooses to end a name."""
    torch.manual_seed(0)
    vocab = Vocab("abcdefgh")
    return Sampler(MiniGPT2(replace(tiny, vocab_size=vocab.size, block_size=8)), vocab)


def test_a_young_model_gives_cut_names_on_request(young: Sampler) -> None:
    assert young.sample(SampleConfig(n=20, seed=0, time_limit_s=None)) != []  # some end
    cut = young.sample(SampleConfig(n=200, seed=0, include_cut=True))
    assert len(cut) == 200 and any(s.cut for s in cut)
    for s in cut:
        if s.cut:
            assert len(s.name) == young.max_chars and s.shown == s.name + "…"
            # A cut name's logprob is its characters' only: the score less the end token.
            ids = torch.tensor([[1, *young.vocab.encode(s.name)]])
            with torch.no_grad():
                logits, _ = young.model(ids)
            end = float(torch.log_softmax(logits[0, -1], -1)[2])
            assert young.score(s.name).logprob - end == pytest.approx(s.logprob, abs=1e-4)
    plain = young.sample(SampleConfig(n=50, seed=0, time_limit_s=None))
    assert not any(s.cut for s in plain)


# --- case -----------------------------------------------------------------------------------


def test_input_is_folded_like_the_training_words(sampler: Sampler) -> None:
    names = sampler.sample(SampleConfig(prompt="CA", ends_with="Y", n=20, seed=0))
    assert all(s.name.startswith("ca") and s.name.endswith("y") for s in names)
    assert sampler.score("CAT").logprob == sampler.score("cat").logprob


def test_a_keep_case_model_keeps_case(tiny: ModelConfig) -> None:
    vocab = Vocab("Cacdt")
    sampler = Sampler(MiniGPT2(replace(tiny, vocab_size=vocab.size, block_size=8)), vocab)
    assert not sampler.folds_case
    assert all(s.name.startswith("Ca") for s in sampler.sample(SampleConfig(prompt="Ca", n=5)))
    with pytest.raises(UnknownCharacterError):
        sampler.sample(SampleConfig(prompt="cA"))


# --- the plain types ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        {"n": 0}, {"n": -1}, {"temperature": -1.0}, {"temperature": math.nan},
        {"temperature": math.inf}, {"top_k": 0}, {"top_p": 0.0}, {"top_p": math.nan},
        {"top_p": 1.5}, {"min_len": 0}, {"max_len": 0}, {"seed": -1}, {"seed": 2**64},
        {"time_limit_s": 0.0}, {"time_limit_s": math.nan}, {"time_limit_s": math.inf},
        {"rank": "best"},
    ],
    ids=str,
)
def test_config_refuses_bad_values(field: dict) -> None:
    with pytest.raises(ValueError):
        SampleConfig(**field)


def test_accepts_checks_each_constraint() -> None:
    config = SampleConfig(prompt="b", ends_with="y", contains="er", min_len=5, max_len=8,
                          exclude_chars="z", exclude={"berry"}, novel_only=True)
    assert config.accepts("bakery")
    for name in ("akery", "bakers", "bakey", "bery", "bakeryyyy", "bzkery", "berry"):
        assert not config.accepts(name), name
    assert not config.accepts("bakery", "train")
    assert config.constraints() == {"prompt": "b", "ends_with": "y", "contains": "er",
                                    "min_len": 5, "max_len": 8, "exclude_chars": "z",
                                    "exclude": 1, "novel_only": True}


def test_steering_never_leads_to_a_dead_end() -> None:
    """From any state the automaton allows, some way on still meets the constraints."""
    for contains, suffix, limit in itertools.product(["", "ab", "aa"], ["", "ba", "b"], [3, 5]):
        config = SampleConfig(contains=contains, ends_with=suffix)
        steering = Steering(config, "abc", limit)
        if not steering.feasible(steering.start(), 0):
            continue
        frontier = [(steering.start(), 0, "")]
        while frontier:
            state, length, text = frontier.pop()
            may_end, chars = steering.allowed(state, length)
            assert may_end or chars, (config, text)
            if may_end:
                assert config.accepts(text) and len(text) <= limit, text
            frontier += [(steering.advance(state, c), length + 1, text + c) for c in chars]


def test_sample_shows_cut_names_with_an_ellipsis() -> None:
    assert Sample("ab", -1.0, "novel", cut=True).shown == "ab…"
    assert Sample("ab", -1.0, "novel").shown == "ab"


def test_config_round_trips_through_json() -> None:
    import json

    config = SampleConfig(prompt="b", ends_with="y", exclude={"bay", "boy"}, top_p=0.9,
                          most_likely=True, rank="per_char", time_limit_s=None)
    again = SampleConfig.from_dict(json.loads(json.dumps(config.as_dict())))
    assert again == config
    assert SampleConfig.from_dict({"n": 3, "from_a_newer_version": 1}) == SampleConfig(n=3)
    with pytest.raises(ValueError, match="top-p"):
        SampleConfig.from_dict({"top_p": 2.0})


def test_a_cancelled_most_likely_request_stops_at_once(sampler: Sampler) -> None:
    config = SampleConfig(n=10, most_likely=True, time_limit_s=None)
    assert sampler.sample(config, cancelled=lambda: True) == []
    assert len(sampler.sample(config)) == 10


def test_min_len_on_the_length_limit_is_possible_and_past_it_says_so(sampler: Sampler) -> None:
    limit = sampler.max_chars
    names = sampler.sample(SampleConfig(n=3, seed=0, min_len=limit, time_limit_s=None))
    assert [len(s.name) for s in names] == [limit] * 3
    with pytest.raises(ImpossibleConstraints, match=f"min-len {limit + 1} is above"):
        sampler.sample(SampleConfig(n=3, min_len=limit + 1))


@pytest.mark.parametrize("field", ["ends_with", "contains"])
def test_required_text_as_long_as_the_limit_is_the_whole_name(
    sampler: Sampler, field: str
) -> None:
    text = ("caracal" * 10)[: sampler.max_chars]
    names = sampler.sample(SampleConfig(n=2, seed=0, time_limit_s=None, **{field: text}))
    assert [s.name for s in names] == [text, text]
    label = field.replace("_", "-")
    with pytest.raises(ImpossibleConstraints, match=f"{label} '{text}a' is longer than"):
        sampler.sample(SampleConfig(n=2, **{field: text + "a"}))


@pytest.mark.parametrize("batch", [1, 3])
def test_the_mask_without_constraints_opens_every_character_and_ends_by_length(
    batch: int,
) -> None:
    vocab = Vocab("abc")
    steering = Steering(SampleConfig(min_len=2), vocab.chars, 4)
    assert steering.trivial
    mask = ConstraintMask(steering, vocab, batch, 4, torch.device("cpu"))
    logits = torch.zeros(batch, vocab.size)
    characters = torch.tensor([token in ("a", "b", "c") for token in vocab.tokens])
    for length in range(5):
        tokens = torch.full((batch, 1 + length), vocab.index["a"])
        tokens[:, 0] = vocab.start_id()
        out = mask(tokens, logits)
        open_ = out.isfinite()
        assert open_.shape == (batch, vocab.size)
        for row in open_:
            assert torch.equal(row & ~characters, row & (torch.arange(vocab.size) == EOS))
            assert bool(row[EOS]) == (length >= 2)  # min-len 2
            assert torch.equal(row & characters, characters)  # at the limit: cut
