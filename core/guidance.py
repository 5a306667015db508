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

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .data import BOS, Vocab
from .model import KVCache, MiniGPT2


@dataclass(frozen=True)
class Stream:
    """One term of a blend: `weight` times the log-probabilities of `model` reading the name
    after `start` (BOS for no kind, or a kind's start token)."""

    model: MiniGPT2
    start: int
    weight: float


def kind_streams(
    model: MiniGPT2, vocab: Vocab, kinds: Mapping[str, float], guidance: float
) -> list[Stream]:
    """(1 + w)·Σ_k s_k·log p(x|k) − w·log p(x): a mix of kinds, guided; no kind is plain."""
    if not kinds:
        return [Stream(model, BOS, 1.0)]
    streams = [Stream(model, vocab.start_id(k), (1 + guidance) * s) for k, s in kinds.items()]
    if guidance:
        streams.append(Stream(model, BOS, -guidance))
    return streams


class Blend:
    """Stands in for a MiniGPT2 in the sampler's generation loop and the search: each call
    runs the batch once per stream (one forward pass per model, its streams stacked, the
    start token swapped for the stream's) and returns the weighted sum of their
    log-probabilities as logits. It keeps its own caches, renewed whenever the sampler
    starts a new one."""

    def __init__(self, streams: list[Stream]) -> None:
        self.config = streams[0].model.config
        self._groups: list[tuple[MiniGPT2, Tensor, Tensor]] = []  # model, starts, weights
        for model in {id(s.model): s.model for s in streams}.values():
            mine = [s for s in streams if s.model is model]
            device = next(model.parameters()).device
            starts = torch.tensor([s.start for s in mine], device=device)
            weights = torch.tensor([s.weight for s in mine], device=device)
            self._groups.append((model, starts, weights))
        self._outer: KVCache | None = None
        self._inner: list[KVCache] = []

    def __call__(self, idx: Tensor, cache: KVCache | None = None) -> tuple[Tensor, None]:
        starting = cache is None or cache.length == 0  # column 0 holds the start token
        if cache is not None and cache is not self._outer:
            self._outer = cache
            self._inner = [
                KVCache(self.config, len(starts) * idx.size(0), idx.device)
                for _, starts, _ in self._groups
            ]
        blended: Tensor | None = None
        for number, (model, starts, weights) in enumerate(self._groups):
            copies = idx.repeat(len(starts), 1)
            if starting:
                copies[:, 0] = starts.repeat_interleave(idx.size(0))
            inner = self._inner[number] if cache is not None else None
            logits, _ = model(copies, cache=inner)
            logprobs = F.log_softmax(logits.float(), -1).unflatten(0, (len(starts), idx.size(0)))
            term = (weights[:, None, None, None] * logprobs).sum(0)
            blended = term if blended is None else blended + term
        if cache is not None:
            cache.length += idx.size(1)  # the sampler's cache stays in step, though unused
        assert blended is not None
        return blended, None
