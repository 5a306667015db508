from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from minigpt2.core.data.vocab import UnknownCharacterError
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler


@pytest.fixture(scope="module")
def sampler(trained_path: Path, device: str) -> Sampler:
    return Sampler.from_checkpoint(trained_path, device)


def test_every_name_starts_with_the_prompt(sampler: Sampler) -> None:
    samples = sampler.sample(SampleConfig(prompt="ca", n=50, seed=0))
    assert len(samples) == 50
    assert all(s.name.startswith("ca") and len(s.name) > 2 for s in samples)


def test_same_seed_same_names(sampler: Sampler) -> None:
    first = sampler.sample(SampleConfig(n=10, seed=3))
    assert first == sampler.sample(SampleConfig(n=10, seed=3))
    assert first != sampler.sample(SampleConfig(n=10, seed=4))


def test_temperature_zero_is_greedy(sampler: Sampler) -> None:
    samples = sampler.sample(SampleConfig(prompt="b", n=5, temperature=0))
    assert len({s.name for s in samples}) == 1
    # Greedy = always the most likely next character: check it against the model directly.
    name = samples[0].name
    ids = [1, *sampler.vocab.encode(name)]
    logits, _ = sampler.model(torch.tensor([ids], device=sampler.device))
    chosen = logits[0, 1:].argmax(-1).tolist()  # predictions after the prompt 'b'
    assert sampler.vocab.decode(chosen) == name[1:]


def test_top_k_one_equals_greedy(sampler: Sampler) -> None:
    greedy = sampler.sample(SampleConfig(prompt="p", n=1, temperature=0))
    top1 = sampler.sample(SampleConfig(prompt="p", n=3, top_k=1, seed=1))
    assert {s.name for s in top1} == {greedy[0].name}


def test_top_k_restricts_choices(sampler: Sampler) -> None:
    vocab_names = {s.name for s in sampler.sample(SampleConfig(n=200, top_k=2, seed=0))}
    free_names = {s.name for s in sampler.sample(SampleConfig(n=200, seed=0))}
    assert len(vocab_names) < len(free_names)


def test_novel_only_and_unique(sampler: Sampler) -> None:
    samples = sampler.sample(SampleConfig(n=30, novel_only=True, unique=True, seed=0))
    names = [s.name for s in samples]
    assert len(names) == 30 and len(set(names)) == 30
    assert all(s.source == "novel" and s.name not in sampler.train_words for s in samples)
    labelled = sampler.sample(SampleConfig(n=300, seed=0))
    assert {s.source for s in labelled} >= {"novel", "train"}


def test_sorted_by_likelihood(sampler: Sampler) -> None:
    samples = sampler.sample(SampleConfig(n=20, seed=0, sort_by_likelihood=True))
    logprobs = [s.logprob for s in samples]
    assert logprobs == sorted(logprobs, reverse=True)


def test_sample_logprob_matches_score(sampler: Sampler) -> None:
    for sample in sampler.sample(SampleConfig(prompt="c", n=5, seed=2)):
        assert sampler.score(sample.name).logprob == pytest.approx(sample.logprob, abs=1e-4)


def test_unknown_prompt_characters_name_them(sampler: Sampler) -> None:
    with pytest.raises(UnknownCharacterError, match="'#'") as info:
        sampler.sample(SampleConfig(prompt="ca#!"))
    assert info.value.chars == ["!", "#"]
    with pytest.raises(UnknownCharacterError):
        sampler.score("z\u00e9")


def test_a_prompt_as_long_as_the_model_is_refused(sampler: Sampler) -> None:
    with pytest.raises(ValueError, match="too long"):
        sampler.sample(SampleConfig(prompt="a" * sampler.max_chars))


def test_score_prefers_real_words(sampler: Sampler) -> None:
    assert sampler.score("banana").logprob_per_token > sampler.score("nbaana").logprob_per_token


def test_attention_map_per_character(sampler: Sampler) -> None:
    amap = sampler.attention("cat")
    assert amap.tokens == ["<bos>", "c", "a", "t"]
    assert amap.weights.shape == (1, 1, 4, 4)


def test_a_plain_model_has_no_categories(sampler: Sampler) -> None:
    assert sampler.categories == []


def test_score_per_token_counts_the_characters_and_the_end(sampler: Sampler) -> None:
    for word in ("cat", "banana"):
        score = sampler.score(word)
        assert score.logprob_per_token == pytest.approx(score.logprob / (len(word) + 1))
        assert score.logprob_per_token < 0


@pytest.fixture
def rounds(sampler: Sampler, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batch size of each round of drawing: a greedy request gives up when a round finds
    nothing new, since every round would draw the same name."""
    sizes: list[int] = []
    generate = sampler._generate

    def counted(steering, batch, *rest):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        sizes.append(batch)
        return generate(steering, batch, *rest)

    monkeypatch.setattr(sampler, "_generate", counted)
    return sizes


def test_greedy_stops_after_the_first_round_with_nothing_new(
    sampler: Sampler, rounds: list[int]
) -> None:
    config = SampleConfig(prompt="b", n=5, temperature=0, unique=True, time_limit_s=None)
    assert len(sampler.sample(config)) == 1
    assert len(rounds) == 2  # the second round draws the same name again: nothing new
    rounds.clear()
    greedy = sampler.sample(SampleConfig(prompt="b", n=1, temperature=0))[0].name
    excluded = SampleConfig(prompt="b", n=5, temperature=0, unique=True,
                            exclude=frozenset({greedy}), time_limit_s=None)
    steered = sampler.sample(excluded)  # the blocklist steers: greedy writes the next name
    assert [s.name for s in steered] != [greedy] and len(steered) == 1
    assert len(rounds) == 3  # one for the greedy name, two for the steered one


def test_a_low_temperature_sharpens_the_draws_and_a_high_one_flattens_them(
    sampler: Sampler,
) -> None:
    names = {
        t: [s.name for s in sampler.sample(SampleConfig(n=200, seed=0, temperature=t,
                                                        time_limit_s=None))]
        for t in (0.3, 1.0, 3.0)
    }
    assert len(set(names[0.3])) < len(set(names[1.0]))  # logits / T: most mass on the top
    assert names[3.0] != names[1.0]


def test_top_k_beyond_the_vocabulary_keeps_every_token(sampler: Sampler) -> None:
    plain = sampler.sample(SampleConfig(n=20, seed=5))
    assert sampler.sample(SampleConfig(n=20, seed=5, top_k=sampler.vocab.size)) == plain
    assert sampler.sample(SampleConfig(n=20, seed=5, top_k=10 * sampler.vocab.size)) == plain


def test_each_round_draws_twice_the_names_wanted_over_the_share_kept(
    sampler: Sampler, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[tuple[int, list[tuple[str, bool]]]] = []  # (batch, [(name, cut)])
    generate = sampler._generate

    def recorded(steering, batch, *rest):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        out = generate(steering, batch, *rest)
        rounds.append((batch, [(name, cut) for name, _, cut in out]))
        return out

    monkeypatch.setattr(sampler, "_generate", recorded)
    n, known = 100, sampler.train_words | sampler.val_words
    # Names of one or two letters: so few that unique draws soon repeat, and rounds follow.
    config = SampleConfig(n=n, max_len=2, novel_only=True, unique=True, seed=0,
                          time_limit_s=None)
    assert len(sampler.sample(config)) == n
    assert len(rounds) >= 3
    kept: set[str] = set()
    share = 1.0
    for batch, drawn in rounds:
        wanted = n - len(kept)
        assert batch == min(1024, max(32, math.ceil(2 * wanted / share)))
        before = len(kept)
        for name, cut in drawn:
            if not cut and name not in known and len(kept) < n:
                kept.add(name)
        share = max((len(kept) - before) / len(drawn), 1 / 1024)
    assert len(kept) == n


def test_a_seed_is_any_non_negative_64_bit_signed_integer(sampler: Sampler) -> None:
    largest = 2**63 - 1
    assert len(sampler.sample(SampleConfig(n=3, seed=largest))) == 3
    for bad in (2**63, -1):
        with pytest.raises(ValueError, match=f"seed must be between 0 and {largest}"):
            SampleConfig(seed=bad)


def test_the_shortest_name_is_one_character_unless_asked_otherwise() -> None:
    assert SampleConfig().min_chars == 1 and SampleConfig().accepts("a")
    assert SampleConfig(min_len=3).min_chars == 3 and not SampleConfig(min_len=3).accepts("ab")
    assert SampleConfig(prompt="abc").min_chars == 3
    assert SampleConfig(prompt="ab", min_len=4).min_chars == 4
