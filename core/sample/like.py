"""Names like a few examples: the model, leaned towards what the examples share.

The model itself is adapted by a small letter-model beside it. A trigram model of the
model's own training words (next letter given the last two, Witten-Bell smoothed) is
updated with the examples' counts: where the examples often write a letter after two others
("x" after "vi", the end after "ix"), the updated model does too; where they say nothing,
it keeps the training words' estimate. The log-ratio of the two, the contrast, is what the
examples add. The names' model is then p_like ∝ p_model·q_examples/q_words, and sampling
uses the same guidance as kinds (guidance.py):

    log p_like + W·(log p_like − log p_model) = log p_model + (1 + W)·contrast

so W = 0 samples from p_like itself. Fitting the contrast takes a millisecond; the trigram
model of the training words is built once per sampler (50 ms for 1,400 words).

Fine-tuning a copy of the network on the examples mixed with its training words was tried
first: slower, the trait share of its names swung widely between runs of the same examples,
and the names lost more of their look (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from minigpt2.core.data.vocab import BOS, EOS, Vocab
from torch import Tensor

ORDER = 3  # letters of context + 1: a trigram model


def _contexts(vocab: Vocab, word: str) -> Iterable[tuple[int, int, int]]:
    """(letter before last, last, next) for each predicted token of `word`; BOS pads."""
    ids = [BOS, BOS, *vocab.encode(word), EOS]
    return zip(ids, ids[1:], ids[2:], strict=False)


def _witten_bell(counts: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Counts seen after a context, smoothed towards a lower-order estimate: the more kinds
    of next token the context has been seen with, the more weight the lower order keeps."""
    seen, kinds = counts.sum(-1, keepdims=True), (counts > 0).sum(-1, keepdims=True)
    weight = np.where(seen > 0, seen / np.maximum(seen + kinds, 1), 0.0)
    return weight * counts / np.maximum(seen, 1) + (1 - weight) * lower


def _counts(vocab: Vocab, words: Iterable[str]) -> np.ndarray:
    """counts[a, b, x]: how often x follows a then b."""
    counts = np.zeros((vocab.size,) * ORDER)
    for word in words:
        for a, b, x in _contexts(vocab, word):
            counts[a, b, x] += 1
    return counts


def words_model(vocab: Vocab, words: Sequence[str]) -> np.ndarray:
    """q[a, b, x] = q(x | a b) over `words` (the model's training words), interpolated down
    to bigrams, unigrams and a uniform floor, so that no token has probability 0."""
    counts = _counts(vocab, words)
    uniform = np.full(vocab.size, 1 / vocab.size)
    unigram = _witten_bell(counts.sum((0, 1)), uniform)
    bigram = _witten_bell(counts.sum(0), unigram)
    return _witten_bell(counts, bigram[None])


def contrast(vocab: Vocab, examples: Sequence[str], words: np.ndarray) -> Tensor:
    """log q(x | a b, examples) − log q(x | a b): the words' trigram model updated with the
    examples' bigram then trigram counts, against itself. (V, V, V), float32."""
    counts = _counts(vocab, examples)
    bigram = _witten_bell(counts.sum(0)[None], words)
    updated = _witten_bell(counts, bigram)
    return torch.from_numpy(np.log(updated) - np.log(words)).float()


class LikeHook:
    """A logits hook (hooks.py): adds (1 + W)·contrast for each row's last two tokens. A
    kind's start token reads as BOS, as the trigram models saw it."""

    def __init__(self, table: Tensor, strength: float, vocab: Vocab) -> None:
        self.table = table
        self.weight = 1 + strength
        self._is_start = torch.zeros(vocab.size, dtype=torch.bool)
        self._is_start[[BOS, *vocab.category_ids]] = True

    def bias(self, tokens: Tensor) -> Tensor:
        """(B, V): the lean after each row of `tokens` (B, t), start token first."""
        last = tokens[:, -1]
        before = tokens[:, -2] if tokens.size(1) > 1 else torch.full_like(last, BOS)
        last = last.masked_fill(self._is_start.to(last.device)[last], BOS)
        before = before.masked_fill(self._is_start.to(before.device)[before], BOS)
        return self.weight * self.table.to(tokens.device)[before, last]

    def __call__(self, tokens: Tensor, logits: Tensor) -> Tensor:
        return logits + self.bias(tokens)
