"""Words as token rows, a training epoch's batches of them, and the held-out loss: the
token-weighted mean cross-entropy over every character and end token."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .config import TrainConfig
from .data import PAD, Vocab, WordData, chars_that_fit, framed_length
from .model import MiniGPT2

# Rows per forward pass when validating: 1,024 rows held ~50 MB of activations at once (the
# app's peak RSS with a 4,500-word list: 379 vs 329 MB at 256), and 256 is also faster on a
# CPU (23 vs 41 ms for 1,000 names), its activations staying in cache. At 64 the validation
# of the built-in lists no longer raises the peak (engine alone, 600 steps: 281 vs 289 MB)
# and costs the same (31-39 ms of CPU for 450 names at 64, 128 and 256).
EVAL_BATCH = 64
Encoded = tuple[Tensor, np.ndarray]  # (N, length) token ids, and each row's unpadded length


def encode_words(
    vocab: Vocab,
    words: list[str],
    length: int,
    device: torch.device,
    categories: list[str | None] | None = None,
) -> Encoded:
    """(N, length) token ids start+word+EOS+padding, and each row's unpadded length. The start
    token is BOS, or the row's category's (see data.Vocab)."""
    starts = categories or [None] * len(words)
    rows = [vocab.encode_word(w, length, c) for w, c in zip(words, starts, strict=True)]
    tokens = torch.tensor(rows, dtype=torch.long).reshape(len(rows), length)
    return tokens.to(device), np.array([framed_length(len(w)) for w in words], dtype=np.int64)


def encode_split(data: WordData, device: torch.device) -> tuple[Encoded, Encoded]:
    """The training and validation words, each as `encode_words` gives them."""
    size = data.max_len
    return (
        encode_words(data.vocab, data.train_words, size, device, data.train_categories),
        encode_words(data.vocab, data.val_words, size, device, data.val_categories),
    )


def epoch_batches(
    tokens: Tensor, lengths: np.ndarray, config: TrainConfig, epoch: int
) -> tuple[Tensor, list[int], list[int]]:
    """An epoch's shuffled rows (one gather), each batch's width and token count.

    The order depends only on (seed, epoch), so a resumed run sees the same batches.
    """
    perm = np.random.default_rng((config.seed, epoch)).permutation(len(lengths))
    size = config.batch_size
    lengths = lengths[perm]
    widths = [int(lengths[i : i + size].max()) for i in range(0, len(perm), size)]
    counts = [
        int(lengths[i : i + size].sum() - len(lengths[i : i + size]))
        for i in range(0, len(perm), size)
    ]  # targets per word: chars + EOS
    return tokens[torch.from_numpy(perm).to(tokens.device)], widths, counts


@torch.inference_mode()
def evaluate(model: MiniGPT2, tokens: Tensor, lengths: np.ndarray) -> float:
    """Token-weighted mean cross-entropy (nats) over every character and end token."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(tokens), EVAL_BATCH):
        width = int(lengths[start : start + EVAL_BATCH].max())
        batch = tokens[start : start + EVAL_BATCH, :width]
        logits, _ = model(batch[:, :-1])
        targets = batch[:, 1:]
        total += float(
            torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), targets.flatten(), ignore_index=PAD, reduction="sum"
            )
        )
        count += int((targets != PAD).sum())
    model.train(was_training)
    return total / max(count, 1)


def evaluate_words(
    model: MiniGPT2, vocab: Vocab, words: list[str], category: str | None = None
) -> tuple[float, int]:
    """Loss of a trained model on other words, and the number of tokens it covers.

    Raises UnknownCharacterError or ValueError (a word too long for the model)."""
    block = model.config.block_size
    if too_long := [w for w in words if len(w) > chars_that_fit(block)]:
        limit = chars_that_fit(block)
        raise ValueError(f"{too_long[0]!r} is longer than this model's {limit} characters")
    device = next(model.parameters()).device
    tokens, lengths = encode_words(vocab, words, block, device, [category] * len(words))
    return evaluate(model, tokens, lengths), int((lengths - 1).sum())
