"""Words as token rows, a training epoch's batches of them, and the held-out loss: the
token-weighted mean cross-entropy over every character and end token."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from minigpt2.core.config import TrainConfig
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.vocab import (
    EOS,
    FRAME,
    PAD,
    UnknownCharacterError,
    Vocab,
    chars_that_fit,
    framed_length,
    in_parts,
)
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.logprobs import word_logprobs
from minigpt2.core.sample.request import Kinds, Mix
from torch import Tensor

# Rows per forward pass when validating: few enough that validation does not raise the app's
# peak memory, and no slower on a CPU (docs/benchmarks.md).
EVAL_BATCH = 64
Encoded = tuple[Tensor, np.ndarray]  # (N, length) token ids, and each row's unpadded length
Progress = Callable[[float], None]  # 0..1 of the work done


def encode_words(
    vocab: Vocab,
    words: list[str],
    length: int,
    device: torch.device,
    categories: list[str | None] | None = None,
    on_progress: Progress | None = None,
) -> Encoded:
    """(N, length) token ids start+word+EOS+padding, and each row's unpadded length. The start
    token is BOS, or the row's category's (see vocab.Vocab).

    Ids are stored as small integers (int16 for most vocabularies; a batch is made `long`
    when used) and written with numpy, all the characters of PART_WORDS words at once: a
    million words take ~50 MB and well under a second, where a Python list per word took
    10 s, 400 MB and held the GIL throughout (the app froze). Raises UnknownCharacterError, or
    ValueError for a word that does not fit `length` tokens."""
    rows = np.full((len(words), length), PAD, dtype=token_dtype(vocab.size))
    if categories is None:
        rows[:, 0] = vocab.start_id()
    else:
        start_ids = {c: vocab.start_id(c) for c in set(categories)}
        rows[:, 0] = [start_ids[c] for c in categories]
    lengths = np.zeros(len(words), dtype=np.int64)
    done = 0
    for part in in_parts(words):
        counts = np.fromiter(map(len, part), dtype=np.int64, count=len(part))
        if counts.max() > chars_that_fit(length):
            raise ValueError(f"a word of {counts.max()} characters does not fit {length} tokens")
        _write_chars(rows[done : done + len(part)], counts, char_ids(vocab, "".join(part)))
        lengths[done : done + len(part)] = counts
        done += len(part)
        if on_progress is not None:
            on_progress(done / len(words))
    rows[np.arange(len(words)), lengths + 1] = EOS
    return torch.from_numpy(rows).to(device), lengths + FRAME


def token_dtype(vocab_size: int) -> np.dtype:
    """The smallest integer type that holds every token id of a vocabulary."""
    return np.dtype(np.int16 if vocab_size <= np.iinfo(np.int16).max else np.int32)


def char_ids(vocab: Vocab, text: str) -> np.ndarray:
    """The id of every character of `text`, looked up in a table indexed by code point.
    Raises UnknownCharacterError."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = np.full(int(codes.max(initial=0)) + 1, -1, dtype=np.int32)
    for char in vocab.chars:
        if ord(char) < len(table):
            table[ord(char)] = vocab.index[char]
    ids = table[codes]
    if (unknown := ids < 0).any():
        raise UnknownCharacterError([chr(c) for c in np.unique(codes[unknown])])
    return ids


def _write_chars(rows: np.ndarray, lengths: np.ndarray, ids: np.ndarray) -> None:
    """Put the words' character ids (`ids`, the words one after another) into `rows`, each
    word's from column 1, after its start token."""
    row_start = np.arange(len(rows)) * rows.shape[1] + 1  # flat index of each row's column 1
    word_start = np.cumsum(lengths) - lengths  # where each word begins in `ids`
    flat = np.arange(len(ids)) + np.repeat(row_start - word_start, lengths)
    rows.reshape(-1)[flat] = ids


def encode_split(
    data: WordData, device: torch.device, on_progress: Progress | None = None
) -> tuple[Encoded, Encoded]:
    """The training and validation words, each as `encode_words` gives them."""
    size = data.max_len
    share = len(data.train_words) / max(len(data.train_words) + len(data.val_words), 1)

    def part(offset: float, weight: float) -> Progress | None:
        return None if on_progress is None else lambda done: on_progress(offset + weight * done)

    return (
        encode_words(data.vocab, data.train_words, size, device, data.train_categories,
                     part(0.0, share)),
        encode_words(data.vocab, data.val_words, size, device, data.val_categories,
                     part(share, 1 - share)),
    )  # fmt: skip


def epoch_batches(
    lengths: np.ndarray, config: TrainConfig, epoch: int, device: torch.device
) -> tuple[Tensor, list[int], list[int]]:
    """An epoch's order of the rows, and each batch's width and token count; batch `b` is
    rows `order[b * batch_size:(b + 1) * batch_size]` (gathered a batch at a time: a copy of
    all rows in the epoch's order cost a second and hundreds of MB on a million words).

    The order depends only on (seed, epoch), so a resumed run sees the same batches.
    """
    perm = np.random.default_rng((config.seed, epoch)).permutation(len(lengths))
    lengths = lengths[perm]
    starts = np.arange(0, len(perm), config.batch_size)
    widths = np.maximum.reduceat(lengths, starts).tolist()
    # targets per word: chars + EOS, the framed length less the start token
    counts = (np.add.reduceat(lengths, starts) - np.diff(starts, append=len(perm))).tolist()
    return torch.from_numpy(perm).to(device), widths, counts


@torch.inference_mode()
def evaluate(model: MiniGPT2, tokens: Tensor, lengths: np.ndarray) -> float:
    """Token-weighted mean cross-entropy (nats) over every character and end token. Rows go
    through shortest first, so that a batch is only as wide as its own words: half the time
    of rows in list order, whose batches are as wide as their longest word."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), EVAL_BATCH):
        rows = order[start : start + EVAL_BATCH]
        width = int(lengths[rows].max())
        batch = tokens[torch.from_numpy(rows).to(tokens.device), :width].long()
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


def split_too_long(words: list[str], block_size: int) -> tuple[list[str], list[str]]:
    """The words a model of `block_size` positions takes whole, and the ones longer than its
    chars_that_fit (both in the given order): a caller reports the second and goes on."""
    limit = chars_that_fit(block_size)
    return [w for w in words if len(w) <= limit], [w for w in words if len(w) > limit]


def evaluate_words(
    model: MiniGPT2, vocab: Vocab, words: list[str], category: Kinds = None
) -> tuple[float, int]:
    """Loss of a trained model on other words, and the number of tokens it covers; with a
    mix of kinds, under the mixed distribution the sampler draws from (logprobs.py).

    Raises UnknownCharacterError or ValueError (a word too long for the model)."""
    block = model.config.block_size
    if too_long := split_too_long(words, block)[1]:
        limit = chars_that_fit(block)
        raise ValueError(f"{too_long[0]!r} is longer than this model's {limit} characters")
    mix = Mix.of(category)
    tokens = sum(framed_length(len(w)) - 1 for w in words)
    if len(mix) > 1:
        for word in words:  # scoring gives such a word -inf: say which character instead
            vocab.encode(word)
        return -sum(word_logprobs(model, vocab, words, mix)) / max(tokens, 1), tokens
    device = next(model.parameters()).device
    kind = next(iter(mix), None)
    encoded, lengths = encode_words(vocab, words, block, device, [kind] * len(words))
    return evaluate(model, encoded, lengths), tokens
