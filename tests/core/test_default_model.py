"""The model shipped in assets/ so the app and `minigpt2 sample` work out of the box."""

from __future__ import annotations

from dataclasses import replace

import pytest
from minigpt2.core.checkpoint import load_checkpoint
from minigpt2.core.config import (
    AUTO_STEP_S,
    DEFAULT_PRESET,
    KIND_GAIN,
    resolve_auto,
    with_data_shape,
)
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.sample.logprobs import best_categories
from minigpt2.core.sample.request import DEFAULT_GUIDANCE, SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.core.train.evaluate import evaluate_words
from minigpt2.core.train.plan import train_tokens


def test_the_shipped_model_is_auto_trained_on_the_articles_two_lists() -> None:
    ckpt = load_checkpoint(default_checkpoint_path())
    seed = WordData.from_source("seed")  # the union of the two lists, split the same way
    assert ckpt.preset == DEFAULT_PRESET == "auto"
    assert ckpt.source == "animals+fruits-vegetables"
    assert ckpt.vocab.categories == ["animals", "fruits-vegetables"]
    steps = ckpt.train_config.steps
    assert steps is not None  # a step bound, so that the script rebuilds the same model
    chosen = resolve_auto(train_tokens(seed.train_words), steps * AUTO_STEP_S["cpu"])
    shaped = with_data_shape(chosen.model, ckpt.vocab.size, seed.max_len)
    assert ckpt.model_config == replace(shaped, kind_gain=KIND_GAIN)
    assert ckpt.step == steps and ckpt.best_step is not None and ckpt.best_val_loss is not None
    assert ckpt.best_val_loss == min(h["val_loss"] for h in ckpt.history) < 2.30
    assert set(ckpt.train_words) == set(seed.train_words)
    assert set(ckpt.val_words) == set(seed.val_words)


def test_the_shipped_model_invents_names() -> None:
    sampler = Sampler.from_checkpoint(default_checkpoint_path())
    samples = sampler.sample(SampleConfig(prompt="ca", n=50, seed=0, novel_only=True))
    assert len(samples) == 50 and all(s.name.startswith("ca") for s in samples)
    # A trained model scores real names above scrambled ones.
    assert sampler.score("cat").logprob_per_token > sampler.score("tca").logprob_per_token


# Kinds that differ (issue 18), measured as bench/category_bench.py --checkpoint does, but
# on 300 names per kind rather than 100, so that a share is known to about 2.5 points, not 4.5.
# The bounds are the issue's. The shipped model gives (animals / fruits-vegetables): 95.0% /
# 99.3% at the default guidance, 77.0% / 73.3% at guidance 0, 20% shared names; the model
# shipped before gave 57% / 70%, 52% / 58%, 72% and failed every test below.
KIND_NAMES = 300
KIND_SEED = 7


@pytest.fixture(scope="module")
def shipped() -> Sampler:
    return Sampler.from_checkpoint(default_checkpoint_path())


@pytest.mark.parametrize(("guidance", "least"), [(DEFAULT_GUIDANCE, 0.85), (0.0, 0.70)])
def test_names_sampled_for_a_kind_are_likeliest_under_it(
    shipped: Sampler, guidance: float, least: float
) -> None:
    for kind in shipped.categories:
        config = SampleConfig(
            n=KIND_NAMES, category=kind, guidance=guidance, seed=KIND_SEED,
            novel_only=True, unique=True, time_limit_s=None,
        )  # fmt: skip
        names = [s.name for s in shipped.sample(config)]
        assert len(names) == KIND_NAMES
        share = best_categories(shipped, names).count(kind) / len(names)
        assert share >= least, (kind, guidance, share)


def test_two_kinds_drawn_with_the_same_seed_share_few_names(shipped: Sampler) -> None:
    animals, plants = (
        [s.name for s in shipped.sample(SampleConfig(n=KIND_NAMES, category=kind,
                                                     seed=KIND_SEED, time_limit_s=None))]
        for kind in ("animals", "fruits-vegetables")
    )  # fmt: skip
    for these, those in ((animals, plants), (plants, animals)):
        assert sum(name in set(those) for name in these) / KIND_NAMES <= 0.30


def test_the_likeliest_kind_follows_the_name_not_its_start(shipped: Sampler) -> None:
    # The old model's Likeliest kind said fruits-vegetables for every name starting "elefant".
    assert best_categories(shipped, ["elefantfish", "elefantberry"]) == [
        "animals",
        "fruits-vegetables",
    ]
    config = SampleConfig(prompt="elefant", n=20, seed=0, unique=True, time_limit_s=None)
    names = [s.name for s in shipped.sample(config)]
    assert set(best_categories(shipped, names)) == {"animals", "fruits-vegetables"}


def test_held_out_names_are_likeliest_under_their_own_kind() -> None:
    ckpt = load_checkpoint(default_checkpoint_path())
    sampler = Sampler.from_checkpoint(ckpt)
    assert ckpt.val_categories is not None
    for kind, other in (("animals", "fruits-vegetables"), ("fruits-vegetables", "animals")):
        words = [w for w, k in zip(ckpt.val_words, ckpt.val_categories, strict=True) if k == kind]
        right, none, wrong = (
            evaluate_words(sampler.model, sampler.vocab, words, k)[0] for k in (kind, None, other)
        )
        assert right < none < wrong, (kind, right, none, wrong)
    # With no kind, on the plain `seed` list's split: no worse than the model shipped before.
    seed = WordData.from_source("seed")
    assert evaluate_words(sampler.model, sampler.vocab, seed.val_words, None)[0] <= 2.3125
