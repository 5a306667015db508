"""Log-probabilities, computed in one place for the sampler, the most-likely search, word
scoring and spelling repair.

`next_logprobs` turns the model's logits into next-token log-probabilities: the model's own,
or a blend of its readings after several start tokens (a mix of kinds, guidance) with a lean
towards examples (like.py). `token_logprobs` reads off the tokens that came. `word_logprobs`
scores many whole words at once, one padded forward pass per chunk: spelling repair scores
thousands of candidates per typed word, and category checks score every name under every
category. The numpy sampler (numpy_sampler.py) keeps a numpy mirror of the model's own case,
as it runs before torch has loaded.
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


def next_logprobs(
    logits: Tensor,
    weights: Tensor | None = None,
    lean: Tensor | None = None,
    *,
    normalise: bool = True,
) -> Tensor:
    """Next-token log-probabilities from the model's (..., V) `logits`: its own.

    With `weights` (S,), `logits` is (S, ..., V), the model's reading after each of S start
    tokens, and the result is the blend Σ_s w_s·log p_s: the shares of a mix of kinds, or a
    guided blend with a negative weight on the plain start (guidance.py). `lean` (..., V) is
    added to it (like.py). A blend or a lean is renormalised, unless `normalise` is false:
    `Blend` hands its blend on as logits, as the model it stands in for does."""
    logprobs = F.log_softmax(logits.float(), -1)
    if weights is not None:
        shape = (-1,) + (1,) * (logprobs.dim() - 1)
        logprobs = (weights.view(shape) * logprobs).sum(0)
    elif lean is None:
        return logprobs  # the model's own: normalised already
    if lean is not None:
        logprobs = logprobs + lean
    return F.log_softmax(logprobs, -1) if normalise else logprobs


def token_logprobs(logprobs: Tensor, tokens: Tensor) -> Tensor:
    """(..., V) log-probabilities and the (...) tokens that came: each token's."""
    return logprobs.gather(-1, tokens[..., None]).squeeze(-1)


@torch.inference_mode()
def word_logprobs(
    model: MiniGPT2, vocab: Vocab, words: Sequence[str], category: Kinds = None
) -> list[float]:
    """Natural log-probability of each word as a whole name (characters and end token), as a
    name of `category` when given, or of a mix of kinds: each step's distribution is then the
    kinds' weighted product, Σ_k s_k·log p(x|k), renormalised (as the sampler draws from it).
    Guidance does not apply: it leans draws, not likelihoods.
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
        targets = ids[:, 1:]
        logp = token_logprobs(_read_after_starts(model, ids[:, :-1], starts), targets)
        totals = logp.masked_fill(targets == PAD, 0.0).sum(-1).tolist()
        for i, total in zip(chunk, totals, strict=True):
            scores[i] = total
    return scores


def _read_after_starts(model: MiniGPT2, ids: Tensor, starts: list[tuple[int, float]]) -> Tensor:
    """Next-token log-probabilities after each position, the rows read after each start
    token in turn (one forward pass each) and mixed by share."""
    readings = []
    for start, _ in starts:
        ids = ids.clone()
        ids[:, 0] = start
        readings.append(model(ids)[0])
    if len(readings) == 1:
        return next_logprobs(readings[0])
    shares = torch.tensor([share for _, share in starts], device=ids.device)
    return next_logprobs(torch.stack(readings), shares)


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
