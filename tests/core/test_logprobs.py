"""logprobs.next_logprobs: the one function that turns logits into log-probabilities, and the
sampler, the most-likely search, word scoring and repair all reading the same numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from minigpt2.core.data.vocab import BOS, EOS
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.beam import NextLogprobs
from minigpt2.core.sample.logprobs import next_logprobs, token_logprobs, word_logprobs
from minigpt2.core.sample.repair import Repairer
from minigpt2.core.sample.request import Kinds, Mix, SampleConfig
from minigpt2.core.sample.sampler import Sampler

A, F_V = "animals", "fruits-vegetables"
WORDS = ["cat", "tac", "pear", "zebra", "kiwi"]


@pytest.fixture(scope="module")
def shipped() -> Sampler:
    return Sampler.from_checkpoint(default_checkpoint_path())


def _logits(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 3


def test_one_reading_is_the_models_own_log_softmax() -> None:
    logits = _logits(2, 3, 7)
    assert torch.equal(next_logprobs(logits), F.log_softmax(logits, -1))


def test_a_blend_is_the_weighted_sum_renormalised_unless_asked_not_to() -> None:
    logits = _logits(3, 4, 7)  # three readings (streams) of four rows
    weights = torch.tensor([1.5, 1.5, -2.0])  # a guided mix: a negative weight on the plain
    blend = (weights[:, None, None] * F.log_softmax(logits, -1)).sum(0)
    assert torch.allclose(next_logprobs(logits, weights, normalise=False), blend)
    mixed = next_logprobs(logits, weights)
    assert torch.allclose(mixed, F.log_softmax(blend, -1))
    assert torch.allclose(mixed.exp().sum(-1), torch.ones(4))
    assert not torch.allclose(blend.exp().sum(-1), torch.ones(4))


def test_a_lean_is_added_before_renormalising() -> None:
    logits, lean = _logits(4, 7), _logits(4, 7) / 3
    expected = F.log_softmax(F.log_softmax(logits, -1) + lean, -1)
    assert torch.allclose(next_logprobs(logits, lean=lean), expected)
    weights = torch.tensor([0.25, 0.75])
    both = _logits(2, 4, 7)
    mixed = (weights[:, None, None] * F.log_softmax(both, -1)).sum(0)
    assert torch.allclose(next_logprobs(both, weights, lean), F.log_softmax(mixed + lean, -1))


def test_token_logprobs_reads_each_rows_token() -> None:
    logprobs = F.log_softmax(_logits(2, 3, 5), -1)
    tokens = torch.tensor([[0, 4, 2], [1, 1, 3]])
    expected = [[float(logprobs[r, t, tokens[r, t]]) for t in range(3)] for r in range(2)]
    assert token_logprobs(logprobs, tokens).tolist() == expected


def _searched(sampler: Sampler, word: str, kinds: Kinds) -> float:
    """`word`'s log-probability as the most-likely search reads it: its characters as the
    prompt, then the end token."""
    mix = Mix.of(kinds)
    starts = [(sampler.vocab.start_id(k), s) for k, s in mix.items()] or [(BOS, 1.0)]
    search = NextLogprobs(sampler.model, starts)
    with torch.inference_mode():
        prompt, after = search.start([starts[0][0], *sampler.vocab.encode(word)])
    return prompt + float(after[0, EOS])


@pytest.mark.parametrize("kinds", [None, A, {A: 0.3, F_V: 0.7}], ids=["plain", "kind", "mix"])
def test_scoring_search_and_repair_read_the_same_distribution(
    shipped: Sampler, kinds: Kinds
) -> None:
    scored = word_logprobs(shipped.model, shipped.vocab, WORDS, kinds)
    assert all(lp < 0 for lp in scored)
    repair = Repairer.from_sampler(shipped, kinds)
    assert repair.scorer(WORDS) == scored
    for word, logprob in zip(WORDS, scored, strict=True):
        assert shipped.score(word, kinds).logprob == pytest.approx(logprob, abs=1e-5)
        assert _searched(shipped, word, kinds) == pytest.approx(logprob, abs=1e-4)
    if kinds is not None:  # a kind changes the numbers: the kinds are read, not ignored
        plain = word_logprobs(shipped.model, shipped.vocab, WORDS)
        assert all(abs(a - b) > 1e-3 for a, b in zip(scored, plain, strict=True))


@pytest.mark.parametrize("kinds", [None, A], ids=["plain", "kind"])
def test_sampled_names_carry_the_scored_log_probability(shipped: Sampler, kinds: Kinds) -> None:
    """The generation loop adds up its own steps' log-probabilities as it draws."""
    samples = shipped.sample(SampleConfig(n=20, seed=1, category=kinds))  # type: ignore[arg-type]
    names = [s.name for s in samples if not s.cut]
    scored = word_logprobs(shipped.model, shipped.vocab, names, kinds)
    assert [s.logprob for s in samples if not s.cut] == pytest.approx(scored, abs=1e-4)
