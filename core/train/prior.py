"""A head start for small lists: weights pretrained on 28,495 given names, grafted into a
new model before its first step.

A list of a few hundred words holds too few characters to learn what words look like as well
as what this list's words look like; a model that already knows the first starts closer to
both (docs/auto.md). The prior is trained by scripts/train_prior.py on makemore's names.txt
less every word of the built-in lists, so no built-in list's validation word was ever seen.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import torch
from minigpt2.core.checkpoint import Weights, load_weights
from minigpt2.core.config import ModelConfig
from minigpt2.core.data.vocab import Vocab
from minigpt2.core.data.words import assets_dir
from minigpt2.core.model import MiniGPT2

PRIOR_FILE = "prior.safetensors"


class PriorMismatchError(ValueError):
    """The model is not the prior's shape: its weights cannot start from the prior's."""


@functools.cache
def load_prior() -> Weights:
    """The prior shipped in assets/, read once per process: its model alone (its words, kept
    for the process's life, were 4.6 MB)."""
    return load_weights(assets_dir() / PRIOR_FILE)


def graft_prior(model: MiniGPT2, vocab: Vocab, prior: Weights | None = None) -> None:
    """Copy the prior's weights into `model`: every tensor whole, except the token rows, taken
    by character (a character or category the prior never saw keeps its fresh row), and the
    positions, taken from the first (positions past the prior's longest word stay fresh)."""
    prior = prior or load_prior()
    if not _same_shape(model.config, prior.model_config):
        raise PriorMismatchError(
            f"a {model.config.n_layer} x {model.config.d_model} model cannot start from the "
            f"prior ({prior.model_config.n_layer} x {prior.model_config.d_model})"
        )
    prior_rows = [prior.vocab.index.get(token) for token in vocab.tokens]
    ours = model.state_dict()  # tensors that share the parameters' storage (the output is tied)
    with torch.no_grad():
        for name, weights in prior.model_state.items():
            if name == "tok_emb.weight":
                for row, prior_row in enumerate(prior_rows):
                    if prior_row is not None:
                        ours[name][row] = weights[prior_row]
            elif name == "pos_emb.weight":
                rows = min(len(weights), len(ours[name]))
                ours[name][:rows] = weights[:rows]
            else:
                ours[name].copy_(weights)


def _same_shape(model: ModelConfig, prior: ModelConfig) -> bool:
    """Equal but for what the data decides (vocabulary, length, kinds) and dropout (not a
    weight)."""
    return _weights_shape(model) == _weights_shape(prior)


def _weights_shape(config: ModelConfig) -> ModelConfig:
    return replace(config, vocab_size=0, block_size=0, dropout=0.0, kind_gain=0.0)
