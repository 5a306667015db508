"""Classifier-free guidance: names that are more typical of a category.

A model with categories also learned names with no category (the plain start token), so at
each step it gives two next-letter distributions: given the category, and given nothing.
Guidance with weight w samples from log p(x|c) + w * (log p(x|c) - log p(x)): it leans away
from what every kind of name shares, towards what sets the category apart. w = 0 is plain
sampling with the category.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .data import BOS
from .model import KVCache, MiniGPT2


class GuidedModel:
    """Stands in for a MiniGPT2 in the sampler's generation loop: each call runs the batch
    twice in one forward pass (as given, and with category start tokens swapped for BOS) and
    returns the guided log-probabilities as logits. It keeps its own cache of twice the
    batch, renewed whenever the sampler starts a new one."""

    def __init__(self, model: MiniGPT2, category_ids: list[int], weight: float) -> None:
        self.model = model
        self.config = model.config
        self.weight = weight
        self._category_ids = torch.tensor(category_ids, device=next(model.parameters()).device)
        self._outer: KVCache | None = None
        self._inner: KVCache | None = None

    def __call__(self, idx: Tensor, cache: KVCache | None = None) -> tuple[Tensor, None]:
        plain_idx = idx.masked_fill(torch.isin(idx, self._category_ids), BOS)
        both = torch.cat([idx, plain_idx])
        inner = None
        if cache is not None:
            if cache is not self._outer or self._inner is None:
                self._outer = cache
                self._inner = KVCache(self.config, both.size(0), both.device)
            inner = self._inner
            cache.length += idx.size(1)  # the sampler's cache stays in step, though unused
        logits, _ = self.model(both, cache=inner)
        given, plain = F.log_softmax(logits, -1).chunk(2)
        return given + self.weight * (given - plain), None
