"""Log-probabilities of many words at once: one padded forward pass per chunk.

Spelling repair scores thousands of candidates per typed word, and category checks score
every name under every category; one word at a time (Sampler.score) is far too slow there.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .data import PAD, Vocab, chars_that_fit, framed_length
from .model import MiniGPT2

CHUNK = 4096  # rows per forward pass: bounds memory on long candidate lists


@torch.inference_mode()
def word_logprobs(
    model: MiniGPT2, vocab: Vocab, words: Sequence[str], category: str | None = None
) -> list[float]:
    """Natural log-probability of each word as a whole name (characters and end token), as a
    name of `category` when given. A word the model cannot write (too long, or with a
    character it lacks) gets -inf."""
    model.eval()
    device = next(model.parameters()).device
    vocab.start_id(category)  # an unknown category fails before any work
    limit = chars_that_fit(model.config.block_size)
    scores = [float("-inf")] * len(words)
    usable = [i for i, w in enumerate(words) if 0 < len(w) <= limit and not vocab.unknown_chars(w)]
    usable.sort(key=lambda i: len(words[i]))  # neighbours in a chunk pad little
    for first in range(0, len(usable), CHUNK):
        chunk = usable[first : first + CHUNK]
        width = framed_length(len(words[chunk[-1]]))
        rows = [vocab.encode_word(words[i], width, category) for i in chunk]
        ids = torch.tensor(rows, device=device)
        logits, _ = model(ids[:, :-1])
        targets = ids[:, 1:]
        logp = F.log_softmax(logits.float(), -1).gather(-1, targets[..., None]).squeeze(-1)
        totals = logp.masked_fill(targets == PAD, 0.0).sum(-1).tolist()
        for i, total in zip(chunk, totals, strict=True):
            scores[i] = total
    return scores


def category_logprobs(
    model: MiniGPT2, vocab: Vocab, words: Sequence[str]
) -> dict[str | None, list[float]]:
    """Each word's log-probability under no category (None) and under each category."""
    return {c: word_logprobs(model, vocab, words, c) for c in [None, *vocab.categories]}
