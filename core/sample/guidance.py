"""Classifier-free guidance and blends: names more typical of a kind, or of a mix of kinds.

A model with categories also learned names with no category (the plain start token), so at
each step it gives next-letter distributions given each kind and given nothing. Guidance
with weight w samples from log p(x|c) + w * (log p(x|c) - log p(x)): it leans away from what
every kind of name shares, towards what sets the kind apart. w = 0 is plain sampling with the
kind. A mix of kinds takes the weighted product of their distributions,
Σ_k s_k·log p(x|k) (the sampler renormalises), as the "given" side. (Names like examples,
like.py, take the same form once more.)

Each is a `Blend`: a weighted sum of log-probabilities, each from the model reading the
name after a start token of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from minigpt2.core.data.vocab import BOS, Vocab
from minigpt2.core.model import KVCache, MiniGPT2
from torch import Tensor


@dataclass(frozen=True)
class Stream:
    """One term of a blend: `weight` times the model's log-probabilities reading the name
    after `start` (BOS for no kind, or a kind's start token)."""

    start: int
    weight: float


def kind_streams(vocab: Vocab, kinds: Mapping[str, float], guidance: float) -> list[Stream]:
    """(1 + w)·Σ_k s_k·log p(x|k) − w·log p(x): a mix of kinds, guided; no kind is plain."""
    if not kinds:
        return [Stream(BOS, 1.0)]
    streams = [Stream(vocab.start_id(k), (1 + guidance) * s) for k, s in kinds.items()]
    if guidance:
        streams.append(Stream(BOS, -guidance))
    return streams


class Blend:
    """Stands in for a MiniGPT2 in the sampler's generation loop: each call runs the batch
    once per stream in one forward pass (the copies stacked, each with its stream's start
    token) and returns the weighted sum of their log-probabilities as logits. It keeps its
    own cache of that many rows, renewed whenever the sampler starts a new one."""

    def __init__(self, model: MiniGPT2, streams: list[Stream]) -> None:
        self.model = model
        self.config = model.config
        device = next(model.parameters()).device
        self._starts = torch.tensor([s.start for s in streams], device=device)
        self._weights = torch.tensor([s.weight for s in streams], device=device)
        self._outer: KVCache | None = None
        self._inner: KVCache | None = None

    def __call__(self, idx: Tensor, cache: KVCache | None = None) -> tuple[Tensor, None]:
        starting = cache is None or cache.length == 0  # column 0 holds the start token
        streams = len(self._starts)
        if cache is not None and cache is not self._outer:
            self._outer = cache
            self._inner = KVCache(self.config, streams * idx.size(0), idx.device)
        copies = idx.repeat(streams, 1)
        if starting:
            copies[:, 0] = self._starts.repeat_interleave(idx.size(0))
        logits, _ = self.model(copies, cache=self._inner if cache is not None else None)
        logprobs = F.log_softmax(logits.float(), -1).unflatten(0, (streams, idx.size(0)))
        if cache is not None:
            cache.length += idx.size(1)  # the sampler's cache stays in step, though unused
        return (self._weights[:, None, None, None] * logprobs).sum(0), None


class MixedNextLogprobs:
    """The most-likely search's distribution (beam.NextLogprobs) for a mix of kinds, or
    names like examples: each step's log_softmax(Σ_k s_k·log p(x|k) + lean), where `lean`
    is a like.py hook's (or nothing). Guidance is left out, as for one kind: it leans draws,
    not likelihoods. Keeps a KV cache of one row per kind for each of the search's rows."""

    def __init__(self, model: MiniGPT2, starts: list[tuple[int, float]],
                 lean: Callable[[Tensor], Tensor] | None = None) -> None:
        self.model = model
        self.device = next(model.parameters()).device
        self.starts = torch.tensor([start for start, _ in starts], device=self.device)
        self.shares = torch.tensor([share for _, share in starts], device=self.device)
        self.lean = lean  # (B, 2) last two tokens -> (B, V) added before renormalising
        self.cache = KVCache(model.config, len(starts), self.device)
        self.last_two = torch.zeros((1, 2), dtype=torch.long, device=self.device)
        self.kind_offsets: Tensor | None = None

    def start(self, ids: list[int]) -> tuple[float, Tensor]:
        kinds = len(self.starts)
        self.cache = KVCache(self.model.config, kinds, self.device)
        idx = torch.tensor([ids] * kinds, device=self.device)
        idx[:, 0] = self.starts
        logits, _ = self.model(idx, cache=self.cache)  # (K, T, V): the prompt's positions
        self.kind_offsets = self.cache.kind_offset  # (K, 1, C) with a kind_gain model, or None
        padded = torch.tensor([ids[0], *ids], device=self.device)  # the start pads "before"
        pairs = torch.stack([padded[:-1], padded[1:]], 1)  # (T, 2): the last two at each step
        logprobs = self._mixed(logits, pairs)
        target = torch.tensor(ids[1:], device=self.device)
        prompt = float(logprobs[:-1].gather(-1, target[:, None]).sum())
        self.last_two = pairs[-1:]
        return prompt, logprobs[-1:]

    def step(self, parents: Tensor, tokens: Tensor) -> Tensor:
        rows = len(self.last_two)
        kinds = len(self.starts)
        picks = (torch.arange(kinds, device=self.device)[:, None] * rows + parents).flatten()
        filled = self.cache.store[:, :, :, :, : self.cache.length].index_select(2, picks)
        self.cache.store = torch.cat([filled, torch.empty_like(filled[:, :, :, :, :1])], 4)
        if self.kind_offsets is not None:  # each row's kind, in the cache's kind-major order
            self.cache.kind_offset = self.kind_offsets.repeat_interleave(len(parents), 0)
        logits, _ = self.model(tokens.repeat(kinds)[:, None], cache=self.cache)
        self.last_two = torch.stack([self.last_two[parents, 1], tokens], 1)
        return self._mixed(logits[:, -1].unflatten(0, (kinds, -1)), self.last_two)

    def _mixed(self, logits: Tensor, last_two: Tensor) -> Tensor:
        """(K, N, V) logits, one slice per kind, to the (N, V) mixed log-probabilities."""
        logprobs = F.log_softmax(logits.float(), -1)
        mixed = (self.shares[:, None, None] * logprobs).sum(0)
        if self.lean is not None:
            mixed = mixed + self.lean(last_two)
        return F.log_softmax(mixed, -1)
