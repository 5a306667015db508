"""Classifier-free guidance and blends: names more typical of a kind, or of a mix of kinds.

A model with categories also learned names with no category (the plain start token), so at
each step it gives next-letter distributions given each kind and given nothing. Guidance
with weight w samples from log p(x|c) + w * (log p(x|c) - log p(x)): it leans away from what
every kind of name shares, towards what sets the kind apart. w = 0 is plain sampling with the
kind. A mix of kinds takes the weighted product of their distributions,
Σ_k s_k·log p(x|k) (the sampler renormalises), as the "given" side. (Names like examples,
like.py, take the same form once more.)

Each is a `Blend`: a weighted sum of log-probabilities, each from the model reading the
name after a start token of its own. The most-likely search ranks by the same mix without
guidance (beam.NextLogprobs): guidance leans draws, not likelihoods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from minigpt2.core.data.vocab import BOS, Vocab
from minigpt2.core.model import KVCache, MiniGPT2
from minigpt2.core.sample.logprobs import next_logprobs
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
    token) and returns the weighted sum of their log-probabilities (logprobs.next_logprobs)
    as logits, which the sampler's softmax normalises. It keeps its own cache of that many
    rows, renewed whenever the sampler starts a new one."""

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
        readings = logits.unflatten(0, (streams, idx.size(0)))
        if cache is not None:
            cache.length += idx.size(1)  # the sampler's cache stays in step, though unused
        return next_logprobs(readings, self._weights, normalise=False), None
