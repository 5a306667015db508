"""The prior small lists start from: what it was trained on, and how it is grafted."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from minigpt2.core.checkpoint import load_checkpoint
from minigpt2.core.config import (
    PRIOR_MODEL,
    ModelConfig,
    TrainConfig,
    resolve_auto,
    with_data_shape,
)
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.vocab import Vocab
from minigpt2.core.data.words import assets_dir, builtin_datasets, load_words
from minigpt2.core.model import MiniGPT2
from minigpt2.core.train.evaluate import evaluate
from minigpt2.core.train.prior import PRIOR_FILE, PriorMismatchError, graft_prior, load_prior
from minigpt2.core.train.trainer import Trainer


def test_the_prior_never_saw_a_word_of_a_builtin_list() -> None:
    """The lists' validation losses would flatter auto otherwise."""
    prior = load_checkpoint(assets_dir() / PRIOR_FILE)
    seen = set(prior.train_words) | set(prior.val_words)
    assert len(seen) > 25_000
    for info in builtin_datasets():
        assert not seen & set(load_words(info.path)), info.name


def test_the_prior_has_the_shape_auto_gives_small_lists() -> None:
    assert replace(load_prior().model_config, vocab_size=0, block_size=0) == PRIOR_MODEL


def _fresh(vocab: Vocab, block_size: int = 12) -> MiniGPT2:
    torch.manual_seed(0)
    return MiniGPT2(with_data_shape(PRIOR_MODEL, vocab.size, block_size))


def test_graft_takes_rows_by_character_and_every_other_weight_whole() -> None:
    prior = load_prior()
    vocab = Vocab("zaé")  # sorted: a z é; the prior knows a and z, not é
    model = _fresh(vocab, block_size=40)  # longer words than the prior's
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    graft_prior(model, vocab, prior)
    ours, theirs = model.state_dict(), prior.model_state
    for token in ("a", "z", *vocab.tokens[:3]):  # characters and the special tokens
        ours_row, prior_row = vocab.index[token], prior.vocab.index[token]
        assert torch.equal(ours["tok_emb.weight"][ours_row], theirs["tok_emb.weight"][prior_row])
    unknown = vocab.index["é"]
    assert torch.equal(ours["tok_emb.weight"][unknown], fresh["tok_emb.weight"][unknown])
    known = len(theirs["pos_emb.weight"])
    assert torch.equal(ours["pos_emb.weight"][:known], theirs["pos_emb.weight"])
    assert torch.equal(ours["pos_emb.weight"][known:], fresh["pos_emb.weight"][known:])
    for name in theirs.keys() - {"tok_emb.weight", "pos_emb.weight"}:
        assert torch.equal(ours[name], theirs[name]), name


def test_another_shape_cannot_start_from_the_prior() -> None:
    vocab = Vocab("ab")
    model = MiniGPT2(with_data_shape(replace(PRIOR_MODEL, n_layer=1), vocab.size, 8))
    with pytest.raises(PriorMismatchError, match="1 x 64"):
        graft_prior(model, vocab)


def _trainer(data: WordData, prior: bool, model: ModelConfig = PRIOR_MODEL) -> Trainer:
    return Trainer(data, model, TrainConfig(epochs=1, batch_size=32, prior=prior, threads=1))


def test_a_run_from_the_prior_starts_knowing_what_words_look_like() -> None:
    data = WordData.from_source("fruits-vegetables")
    scratch, primed = _trainer(data, prior=False), _trainer(data, prior=True)
    fresh = evaluate(scratch.model, scratch.val_tokens, scratch.val_lengths)
    start = evaluate(primed.model, primed.val_tokens, primed.val_lengths)
    assert fresh > 3.0  # about ln(vocabulary): a guess
    assert start < fresh - 0.5


def test_a_resumed_run_keeps_its_own_weights_not_the_priors() -> None:
    trainer = _trainer(WordData.from_source("fruits-vegetables"), prior=True)
    trainer.run()
    saved = trainer.snapshot()
    resumed = Trainer.from_checkpoint(saved).model.state_dict()
    for name, weights in (saved.resume_state or saved.model_state).items():
        # The snapshot is on the CPU, the resumed model on the run's device.
        assert torch.equal(resumed[name].cpu(), weights.cpu()), name


@pytest.mark.parametrize("tokens", [500, 6_000, 15_000, 60_000, 61_000, 2_000_000])
def test_auto_starts_from_the_prior_only_in_its_shape(tokens: int) -> None:
    """Any row that starts from the prior must build a model the prior fits."""
    preset = resolve_auto(tokens, 30.0)
    if preset.train.prior:
        assert replace(preset.model, dropout=PRIOR_MODEL.dropout) == PRIOR_MODEL
    assert preset.train.prior == (tokens <= 60_000)
