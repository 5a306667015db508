"""MiniGPT2's forward pass in numpy alone, to sample names while torch loads.

Importing torch takes a second and more (several on a busy machine); numpy and safetensors'
numpy loader take a tenth of that. The app opens its model with this first (tui/engine/engine.py),
so that its first names come at once. It mirrors core/model.py in eval mode (no dropout),
for every ModelConfig. Sampling goes one token at a time with a cache of each layer's keys
and values (NumpyCache), as core/model.py's KVCache: recomputing every position at every
step did five times the work on a name of eight letters, and the first names waited on it.

Torch-free on purpose. core/checkpoint.py is the full loader; this reads only what sampling
and the status line need, and refuses (CheckpointShapeError) weights that do not fit their
config before computing anything.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from minigpt2.core.checkpoint_header import check_shapes, read_header
from minigpt2.core.checkpoint_header import model_config as checked_model_config
from minigpt2.core.config import ModelConfig
from minigpt2.core.data.vocab import BOS, Vocab
from safetensors.numpy import load as load_safetensors

FORMAT = "minigpt2/1"  # as core/checkpoint.py writes it
MODEL_PREFIX = "model."
LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default


class CheckpointShapeError(ValueError):
    """The weights are not the ones the checkpoint's config describes."""


def expected_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every weight a MiniGPT2 of `config` has, with its shape (its state_dict)."""
    width, hidden = config.d_model, config.mlp_ratio * config.d_model
    shapes: dict[str, tuple[int, ...]] = {"tok_emb.weight": (config.vocab_size, width)}
    if config.positions == "learned":
        shapes["pos_emb.weight"] = (config.block_size, width)

    def linear(name: str, out: int, into: int) -> None:
        shapes[f"{name}.weight"] = (out, into)
        if config.bias:
            shapes[f"{name}.bias"] = (out,)

    for layer in range(config.n_layer):
        block = f"blocks.{layer}"
        for norm in ("ln_1", "ln_2"):
            shapes[f"{block}.{norm}.weight"] = shapes[f"{block}.{norm}.bias"] = (width,)
        linear(f"{block}.attn.qkv", 3 * width, width)
        linear(f"{block}.attn.proj", width, width)
        linear(f"{block}.mlp.fc", hidden, width)
        linear(f"{block}.mlp.proj", width, hidden)
    if config.final_norm:
        shapes["ln_f.weight"] = shapes["ln_f.bias"] = (width,)
    return shapes


class NumpyModel:
    """A MiniGPT2's logits and attention weights from its weights, in float32 as torch."""

    def __init__(self, config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
        wanted = expected_shapes(config)
        found = {name: tuple(array.shape) for name, array in weights.items()}
        if found != wanted:
            wrong = sorted(set(wanted.items()) ^ set(found.items()))[:1]
            raise CheckpointShapeError(f"weights do not match the config (e.g. {wrong[0][0]})")
        self.config = config
        self.w = {name: array.astype(np.float32) for name, array in weights.items()}
        if config.positions == "learned":
            self.positions = self.w["pos_emb.weight"]
        else:
            self.positions = sinusoidal_positions(config.block_size, config.d_model)

    def num_params(self) -> int:
        return sum(array.size for array in self.w.values())

    def logits(self, idx: np.ndarray) -> np.ndarray:
        """(B, T, vocab) for token ids `idx` (B, T); weight tying, as the torch model."""
        x, _, _ = self._run(idx, None)
        return self._unembed(x)

    def attention(self, idx: np.ndarray) -> np.ndarray:
        """Attention weights of every layer and head: (n_layer, B, n_head, T, T)."""
        _, weights, _ = self._run(idx, None)
        return np.stack(weights)

    def start(self, idx: np.ndarray) -> tuple[np.ndarray, NumpyCache]:
        """As `logits`, and the cache that `step` goes on from."""
        x, _, cache = self._run(idx, None)
        return self._unembed(x), cache

    def step(self, cache: NumpyCache, tokens: np.ndarray) -> tuple[np.ndarray, NumpyCache]:
        """(B, vocab): the logits after one more token per row (`tokens`, (B,)), as `logits`
        of the whole sequence would give at its last position; and the cache with it."""
        x, _, cache = self._run(tokens[:, None], cache)
        return self._unembed(x)[:, -1], cache

    def _unembed(self, x: np.ndarray) -> np.ndarray:
        return x @ self.w["tok_emb.weight"].T

    def _run(self, idx: np.ndarray, cache: NumpyCache | None
             ) -> tuple[np.ndarray, list[np.ndarray], NumpyCache]:
        past = 0 if cache is None else cache.length
        if past + idx.shape[1] > self.config.block_size:
            raise ValueError(f"sequence of {past + idx.shape[1]} tokens exceeds block size "
                             f"{self.config.block_size}")
        embedding = self.w["tok_emb.weight"]
        x = embedding[idx] + self.positions[past: past + idx.shape[1]]
        kind = None
        if self.config.kind_gain:  # as MiniGPT2.kind_offset: the kind reaches every position
            kind = (self.config.kind_gain * (embedding[idx[:, :1]] - embedding[BOS])
                    if cache is None else cache.kind)
            x = x + kind
        all_weights, keys, values = [], [], []
        for layer in range(self.config.n_layer):
            block = f"blocks.{layer}"
            seen = None if cache is None else (cache.keys[layer], cache.values[layer])
            attended, weights, (k, v) = self._attend(self._norm(x, f"{block}.ln_1"), block,
                                                     seen)
            x = x + attended
            hidden = self._linear(self._norm(x, f"{block}.ln_2"), f"{block}.mlp.fc")
            hidden = gelu(hidden) if self.config.activation == "gelu" else np.maximum(hidden, 0)
            x = x + self._linear(hidden, f"{block}.mlp.proj")
            all_weights.append(weights)
            keys.append(k)
            values.append(v)
        if self.config.final_norm:
            x = self._norm(x, "ln_f")
        return x, all_weights, NumpyCache(keys, values, kind)

    def _attend(self, x: np.ndarray, block: str,
                seen: tuple[np.ndarray, np.ndarray] | None
                ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Attention of `x`'s positions to themselves and to the keys and values `seen`
        before them; also returns all the keys and values, seen and new."""
        B, T, C = x.shape
        heads = self.config.n_head
        qkv = self._linear(x, f"{block}.attn.qkv").reshape(B, T, 3, heads, C // heads)
        q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # 3 x (B, nh, T, hs)
        if seen is not None:
            k, v = np.concatenate((seen[0], k), axis=2), np.concatenate((seen[1], v), axis=2)
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(C // heads))
        future = np.triu(np.ones((T, k.shape[2]), dtype=bool), 1 + k.shape[2] - T)
        weights = softmax(np.where(future, np.float32(-np.inf), scores))
        y = (weights @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        return self._linear(y, f"{block}.attn.proj"), weights, (k, v)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        y = x @ self.w[f"{name}.weight"].T
        bias = self.w.get(f"{name}.bias")
        return y if bias is None else y + bias

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        normed = (x - mean) / np.sqrt(var + np.float32(LAYER_NORM_EPS))
        return normed * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]


@dataclass(frozen=True)
class NumpyCache:
    """What a NumpyModel has seen of each row: every layer's keys and values, (B, n_head, T,
    head size), and the row's kind offset (None for a model without)."""

    keys: list[np.ndarray]
    values: list[np.ndarray]
    kind: np.ndarray | None

    @property
    def length(self) -> int:
        return self.keys[0].shape[2]

    def rows(self, chosen: np.ndarray) -> NumpyCache:
        """The cache of rows `chosen` (indices, or a boolean mask), in that order."""
        return NumpyCache([k[chosen] for k in self.keys], [v[chosen] for v in self.values],
                          None if self.kind is None else self.kind[chosen])


def softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def gelu(x: np.ndarray) -> np.ndarray:
    """torch's exact GELU, x * P(X <= x) for a standard normal X."""
    cdf = erf(x * np.float32(1 / math.sqrt(2.0)))
    cdf += np.float32(1.0)
    cdf *= np.float32(0.5) * x
    return cdf


# Numerical Recipes' erfc by Chebyshev fitting (relative error under 1.2e-7), innermost first.
_ERFC = tuple(np.float32(c) for c in (
    0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418,
    0.37409196, 1.00002368, -1.26551223))


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, in float32: numpy has none, and math.erf one number at a time
    would take seconds here. In place on two arrays: a new array per operation took twice
    as long, and GELU was half of the sampler's time."""
    z = np.abs(x)
    t = z * np.float32(0.5)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = t * _ERFC[0]
    for coefficient in _ERFC[1:-1]:
        poly += coefficient
        poly *= t
    poly += _ERFC[-1]
    z *= z
    poly -= z
    np.exp(poly, out=poly)
    poly *= t
    np.subtract(np.float32(1.0), poly, out=poly)
    poly *= np.sign(x)
    return poly


def sinusoidal_positions(length: int, d_model: int) -> np.ndarray:
    """core/model.py's table, computed as torch does (float32)."""
    position = np.arange(length, dtype=np.float32)[:, None]
    frequency = np.exp(np.arange(0, d_model, 2, dtype=np.float32)
                       * np.float32(-math.log(10000.0) / d_model))
    table = np.zeros((length, d_model), dtype=np.float32)
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency)
    return table


@dataclass(frozen=True)
class NumpyCheckpoint:
    """What sampling and the status line need from a checkpoint: the model with its best
    weights, its vocabulary and words, and where it comes from (as core.checkpoint's)."""

    model: NumpyModel
    vocab: Vocab
    train_words: list[str]
    val_words: list[str]
    step: int
    source: str
    preset: str
    history: list[dict[str, float]]


def load_numpy_checkpoint(path: Path) -> NumpyCheckpoint:
    """Raises OSError, or ValueError for a file that is not a minigpt2 checkpoint or whose
    weights do not fit its config."""
    data = path.read_bytes()
    # The same checks as core/checkpoint.py, before any tensor is read: a file whose config
    # lies about its tensors is refused here too.
    metadata, shapes = read_header(data)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"not a minigpt2 checkpoint (format {metadata.get('format')!r})")
    config = checked_model_config(json.loads(metadata["model_config"]))
    check_shapes(config, {name[len(MODEL_PREFIX):]: shape for name, shape in shapes.items()
                          if name.startswith(MODEL_PREFIX)})
    vocab = Vocab(json.loads(metadata["vocab"]), json.loads(metadata.get("categories", "[]")))
    if vocab.size != config.vocab_size:
        raise ValueError(f"vocabulary of {vocab.size} tokens; the model has {config.vocab_size}")
    weights = {name[len(MODEL_PREFIX):]: array for name, array in load_safetensors(data).items()
               if name.startswith(MODEL_PREFIX)}
    return NumpyCheckpoint(
        model=NumpyModel(config, weights),
        vocab=vocab,
        train_words=list(json.loads(metadata["train_words"])),
        val_words=list(json.loads(metadata["val_words"])),
        step=int(metadata["step"]),
        source=metadata.get("source", ""),
        preset=metadata.get("preset", ""),
        history=list(json.loads(metadata.get("history", "[]"))),
    )
