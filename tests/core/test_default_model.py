"""The model shipped in assets/ so the app and `minigpt2 sample` work out of the box."""

from __future__ import annotations

from minigpt2.core.checkpoint import load_checkpoint
from minigpt2.core.config import AUTO_STEP_S, DEFAULT_PRESET, resolve_auto, with_data_shape
from minigpt2.core.data import WordData, default_checkpoint_path
from minigpt2.core.sample import Sampler
from minigpt2.core.sampling import SampleConfig
from minigpt2.core.training import train_tokens


def test_the_shipped_model_is_auto_trained_on_the_articles_two_lists() -> None:
    ckpt = load_checkpoint(default_checkpoint_path())
    seed = WordData.from_source("seed")  # the union of the two lists, split the same way
    assert ckpt.preset == DEFAULT_PRESET == "auto"
    assert ckpt.source == "animals+fruits-vegetables"
    assert ckpt.vocab.categories == ["animals", "fruits-vegetables"]
    steps = ckpt.train_config.steps
    assert steps is not None  # a step bound, so that the script rebuilds the same model
    chosen = resolve_auto(train_tokens(seed.train_words), steps * AUTO_STEP_S["cpu"])
    assert ckpt.model_config == with_data_shape(chosen.model, ckpt.vocab.size, seed.max_len)
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
