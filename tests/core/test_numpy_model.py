"""The numpy stand-in for the model (the app's first names, while torch loads): the same
logits, attention, names, scores and labels as the torch model, on the shipped model."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from minigpt2.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from minigpt2.core.config import get_preset, with_data_shape
from minigpt2.core.data.vocab import Vocab
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.logprobs import best_categories
from minigpt2.core.sample.numpy_model import CheckpointShapeError, NumpyModel, load_numpy_checkpoint
from minigpt2.core.sample.numpy_sampler import HONOURED, NumpySampler
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler

SHIPPED = default_checkpoint_path()
PREFIXES = ["", "a", "ma", "ele", "elefant", "quixotically"]


@pytest.fixture(scope="module")
def torch_sampler() -> Sampler:
    return Sampler.from_checkpoint(SHIPPED)


@pytest.fixture(scope="module")
def numpy_sampler() -> NumpySampler:
    return NumpySampler(load_numpy_checkpoint(SHIPPED))


def torch_logits(model: MiniGPT2, ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(torch.tensor([ids]))[0][0].numpy()


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("kind", [None, "animals", "fruits-vegetables"])
def test_numpy_logits_equal_torch_logits_on_the_shipped_model(
        torch_sampler: Sampler, numpy_sampler: NumpySampler, prefix: str, kind: str | None
) -> None:
    vocab = torch_sampler.vocab
    ids = [vocab.start_id(kind), *vocab.encode(prefix)]
    ours = numpy_sampler.model.logits(np.array([ids]))[0]
    np.testing.assert_allclose(ours, torch_logits(torch_sampler.model, ids), rtol=0, atol=1e-5)


def stepped_logits(model: NumpyModel, ids: list[int]) -> np.ndarray:
    """The logits at every position, one token at a time through the model's cache, as
    the sampler goes."""
    logits, cache = model.start(np.array([ids[:1]]))
    every = [logits[0, -1]]
    for token in ids[1:]:
        logits, cache = model.step(cache, np.array([token]))
        every.append(logits[0])
    return np.stack(every)


@pytest.mark.parametrize("kind", [None, "animals"])
def test_stepping_through_the_cache_gives_the_torch_logits(
        torch_sampler: Sampler, numpy_sampler: NumpySampler, kind: str | None) -> None:
    vocab = torch_sampler.vocab
    ids = [vocab.start_id(kind), *vocab.encode("elefant")]
    np.testing.assert_allclose(stepped_logits(numpy_sampler.model, ids),
                               torch_logits(torch_sampler.model, ids), rtol=0, atol=1e-5)


def test_a_cache_of_chosen_rows_goes_on_as_those_rows(numpy_sampler: NumpySampler) -> None:
    """Rows picked from a cache (one twice, in another order, each with its own kind) go on
    as their prefixes computed from scratch."""
    vocab, model = numpy_sampler.vocab, numpy_sampler.model
    prefixes = [[vocab.start_id(kind), *vocab.encode(text)] for kind, text in
                ((None, "ma"), ("animals", "el"), ("fruits-vegetables", "to"))]
    _, cache = model.start(np.array(prefixes))
    chosen, tokens = np.array([2, 0, 2]), np.array(vocab.encode("abc"))
    logits, _ = model.step(cache.rows(chosen), tokens)
    whole = np.concatenate([np.array(prefixes)[chosen], tokens[:, None]], axis=1)
    np.testing.assert_allclose(logits, model.logits(whole)[:, -1], rtol=0, atol=1e-5)


def test_numpy_attention_equals_torch_attention(torch_sampler: Sampler,
                                                numpy_sampler: NumpySampler) -> None:
    ours, theirs = numpy_sampler.attention("mamba"), torch_sampler.attention("mamba")
    assert ours.tokens == theirs.tokens
    np.testing.assert_allclose(ours.weights, theirs.weights, rtol=0, atol=1e-6)


@pytest.mark.parametrize("preset", ["seed", "default", "auto"])
def test_every_architecture_matches_torch(tmp_path: Path, preset: str) -> None:
    """The presets' shapes: sinusoidal or learned positions, ReLU or GELU, final norm or
    not; with biases too. From a checkpoint file, as the app opens one."""
    torch.manual_seed(0)
    vocab = Vocab("abcdefghij")
    config = with_data_shape(get_preset(preset).model, vocab.size, 12)
    for bias in (False, True):
        model = MiniGPT2(replace(config, bias=bias))
        path = tmp_path / f"{preset}-{bias}.safetensors"
        save_checkpoint(path, Checkpoint(model.config, vocab, ["abc"], ["bcd"],
                                         model.state_dict()))
        ours = load_numpy_checkpoint(path).model
        ids = [1, *vocab.encode("jihgfedcba")]
        np.testing.assert_allclose(ours.logits(np.array([ids]))[0], torch_logits(model, ids),
                                   rtol=0, atol=1e-5)
        np.testing.assert_allclose(stepped_logits(ours, ids), torch_logits(model, ids),
                                   rtol=0, atol=1e-5)
        assert ours.num_params() == model.num_params()


def test_weights_that_do_not_fit_their_config_are_refused() -> None:
    ckpt = load_checkpoint(SHIPPED)
    weights = {k: v.numpy() for k, v in ckpt.model_state.items()}
    lying = replace(ckpt.model_config, n_layer=3)
    with pytest.raises(CheckpointShapeError, match="do not match"):
        NumpyModel(lying, weights)
    del weights["ln_f.bias"]
    with pytest.raises(CheckpointShapeError, match="ln_f.bias"):
        NumpyModel(ckpt.model_config, weights)


def test_the_first_letters_follow_the_models_probabilities(
        torch_sampler: Sampler, numpy_sampler: NumpySampler) -> None:
    """The draws, not only the logits: 8,000 names' first letters against the model's own
    next-letter probabilities (seeded: the same outcome on every run). Chance alone gives a
    distance of about 0.02; drawing the wrong token, far more."""
    names = numpy_sampler.sample(SampleConfig(n=8000, seed=0, include_cut=True,
                                              time_limit_s=None))
    assert len(names) == 8000
    counts = Counter(name.name[0] for name in names)
    vocab = torch_sampler.vocab
    logits = torch_logits(torch_sampler.model, [vocab.start_id()])[-1]
    probs = torch.softmax(torch.tensor(logits), -1)
    expected = {ch: float(probs[vocab.index[ch]]) for ch in vocab.chars}
    distance = sum(abs(counts[ch] / len(names) - p) for ch, p in expected.items()) / 2
    assert distance < 0.04


def test_top_k_keeps_only_the_likeliest_letters(torch_sampler: Sampler,
                                                numpy_sampler: NumpySampler) -> None:
    vocab = torch_sampler.vocab
    logits = torch_logits(torch_sampler.model, [vocab.start_id(), *vocab.encode("b")])[-1]
    top3 = {vocab.tokens[i] for i in np.argsort(logits)[-3:]}
    names = numpy_sampler.sample(SampleConfig(prompt="b", n=200, top_k=3, seed=1,
                                              time_limit_s=None))
    assert {name.name[1] for name in names if len(name.name) > 1} <= top3 - {"<eos>"}


def test_names_carry_the_torch_models_scores_and_labels(torch_sampler: Sampler,
                                                        numpy_sampler: NumpySampler) -> None:
    """What the candidate list shows: each name's score and per-char score, where it is
    from (novel, train, val) and the kind of name the model finds it likeliest as."""
    names = numpy_sampler.sample(SampleConfig(n=300, seed=3, include_cut=True,
                                              time_limit_s=None))
    for name in names:
        if not name.cut:  # a cut name's score has no end token: Sampler.score adds one
            assert name.logprob == pytest.approx(torch_sampler.score(name.name).logprob,
                                                 abs=1e-4)
        assert name.source == torch_sampler.source_of(name.name)
    assert {name.source for name in names} >= {"novel", "train"}
    words = [name.name for name in names]
    assert numpy_sampler.best_categories(words) == best_categories(torch_sampler, words)
    assert len(set(numpy_sampler.best_categories(words))) == 2


def test_every_constraint_it_supports_is_met(numpy_sampler: NumpySampler) -> None:
    blocked = frozenset({"mara", "mango"})
    config = SampleConfig(prompt="Ma", n=30, min_len=4, max_len=7, exclude_chars="e",
                          exclude=blocked, novel_only=True, unique=True, top_p=0.9,
                          temperature=1.2, seed=2, time_limit_s=None)
    names = numpy_sampler.sample(config)
    assert len(names) == 30
    folded = replace(config, prompt="ma")
    assert all(folded.accepts(name.name, name.source) for name in names)
    assert len({name.name for name in names}) == 30


def test_a_long_name_is_cut_at_the_models_limit(numpy_sampler: NumpySampler) -> None:
    # Hot, so that long names are common (about 100 cut in 3,000, against 2-5 at 1.0).
    names = numpy_sampler.sample(SampleConfig(n=3000, seed=4, include_cut=True,
                                              temperature=2.0, time_limit_s=None))
    cut = [name for name in names if name.cut]
    assert cut and all(len(name.name) == numpy_sampler.max_chars for name in cut)
    assert all(len(name.name) <= numpy_sampler.max_chars for name in names)


def test_it_supports_only_what_it_honours() -> None:
    assert NumpySampler.supports(SampleConfig(prompt="ma", top_k=5, novel_only=True))
    for unsupported in (SampleConfig(category="animals", guidance=2.0),
                        SampleConfig(most_likely=True), SampleConfig(ends_with="a"),
                        SampleConfig(contains="x")):
        assert not NumpySampler.supports(unsupported)
    with pytest.raises(ValueError, match="torch"):
        NumpySampler(load_numpy_checkpoint(SHIPPED)).sample(SampleConfig(most_likely=True))
    assert HONOURED <= {f.name for f in fields(SampleConfig)}


def test_a_seed_gives_the_same_names_again(numpy_sampler: NumpySampler) -> None:
    first, again = (numpy_sampler.sample(SampleConfig(n=20, seed=7, time_limit_s=None))
                    for _ in range(2))
    assert len(first) == 20 and first == again
    assert first != numpy_sampler.sample(SampleConfig(n=20, seed=8, time_limit_s=None))
