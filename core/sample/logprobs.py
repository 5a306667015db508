"""Log-probabilities of many words at once: one padded forward pass per chunk.

Spelling repair scores thousands of candidates per typed word, and category checks score
every name under every category; one word at a time (Sampler.score) is far too slow there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from minigpt2.core.data.vocab import BOS, PAD, Vocab, chars_that_fit, framed_length
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.request import Kinds, Mix
from torch import Tensor

if TYPE_CHECKING:
    from minigpt2.core.sample.sampler import Sampler

CHUNK = 4096  # rows per forward pass: bounds memory on long candidate lists


@torch.inference_mode()
def word_logprobs(
    model: MiniGPT2, vocab: Vocab, words: Sequence[str], category: Kinds = None
) -> list[float]:
    """Natural log-probability of each word as a whole name (characters and end token), as a
    name of `category` when given, or of a mix of kinds: each step's distribution is then the
    kinds' weighted product, Σ_k s_k·log p(x|k), renormalised (as the sampler draws from it).
    A word the model cannot write (too long, or with a character it lacks) gets -inf."""
    model.eval()
    device = next(model.parameters()).device
    mix = Mix.of(category)
    starts = [(vocab.start_id(kind), share) for kind, share in mix.items()] or [(BOS, 1.0)]
    limit = chars_that_fit(model.config.block_size)
    scores = [float("-inf")] * len(words)
    usable = [i for i, w in enumerate(words) if 0 < len(w) <= limit and not vocab.unknown_chars(w)]
    usable.sort(key=lambda i: len(words[i]))  # neighbours in a chunk pad little
    for first in range(0, len(usable), CHUNK):
        chunk = usable[first : first + CHUNK]
        width = framed_length(len(words[chunk[-1]]))
        ids = torch.tensor([vocab.encode_word(words[i], width) for i in chunk], device=device)
        logp = _mixed_logprobs(model, ids[:, :-1], starts)
        targets = ids[:, 1:]
        logp = logp.gather(-1, targets[..., None]).squeeze(-1)
        totals = logp.masked_fill(targets == PAD, 0.0).sum(-1).tolist()
        for i, total in zip(chunk, totals, strict=True):
            scores[i] = total
    return scores


def _mixed_logprobs(model: MiniGPT2, ids: Tensor, starts: list[tuple[int, float]]) -> Tensor:
    """Next-token log-probabilities after each position, read after each start token in
    turn, mixed by share and renormalised (one start: the model's own)."""
    logprobs = []
    for start, _ in starts:
        ids = ids.clone()
        ids[:, 0] = start
        logprobs.append(F.log_softmax(model(ids)[0].float(), -1))
    if len(logprobs) == 1:
        return logprobs[0]
    shares = torch.tensor([share for _, share in starts], device=ids.device)
    return F.log_softmax((shares[:, None, None, None] * torch.stack(logprobs)).sum(0), -1)


def category_logprobs(
    model: MiniGPT2, vocab: Vocab, words: Sequence[str]
) -> dict[str | None, list[float]]:
    """Each word's log-probability under no category (None) and under each category."""
    return {c: word_logprobs(model, vocab, words, c) for c in [None, *vocab.categories]}


def best_categories(sampler: Sampler, names: Sequence[str]) -> list[str | None]:
    """Per name, the category under which the model finds it most likely (None for a model
    without categories, or a name it cannot write). Scores all names in batched passes."""
    if not sampler.categories:
        return [None] * len(names)
    scores = {c: word_logprobs(sampler.model, sampler.vocab, names, c) for c in sampler.categories}
    best: list[str | None] = []
    for i in range(len(names)):
        category = max(sampler.categories, key=lambda c: scores[c][i])
        best.append(category if scores[category][i] > float("-inf") else None)
    return best
