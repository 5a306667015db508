"""The data a model trains on: the train/validation split, kinds as rows, and loading one
list or several with progress. Torch-free."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from pathlib import Path

from minigpt2.core.data.vocab import UnknownCategoryError, Vocab, framed_length
from minigpt2.core.data.words import (
    DEFAULT_DATASET,
    WordListError,
    clean_lines,
    labelled_lines,
    load_labelled,
    load_words,
    read_list,
    resolve_source,
)

# Share of training words that also appear with no category (plain BOS), so that a model
# with categories still samples and scores without one. 0.3 measured best for the shipped
# model, both with a kind and without (docs/auto.md, "Kinds").
CATEGORY_DROPOUT = 0.3
# The default split holds out 20% of a list, but at most this many words: a held-out loss is
# as precise as its number of words makes it (10,000 words: ~0.005 nats), not its share, and
# 20% of a million words took longer to measure once than the whole run's 200 steps (makemore
# holds out 10%, at most 1,000 words). The rest trains.
MAX_VAL_WORDS = 10_000
LARGE_LIST = 100_000  # words; larger lists are shuffled by numpy (split_words)
LoadProgress = Callable[[str, float], None]  # what loading is doing, and how far it is (0..1)
# A small kind's rows come up to this many times, so that a larger list does not drown it out.
KIND_REPEATS = 2
# Shares of the time a trainer takes to load a large list (reading and splitting the words,
# then encoding them, train/trainer.py), by which progress is reported; about those of 1M words.
READ_SHARE = 0.7
SPLIT_AT = 0.5  # of reading: cleaning the lines comes before, shuffling and the vocabulary after


def split_words(
    words: Sequence[str], seed: int = 42, val_fraction: float = 0.2
) -> tuple[list[str], list[str]]:
    """The article's split: shuffle with Python's `random` seeded by `seed`, first 80% train;
    on a list of over 50,000 words, all but the last MAX_VAL_WORDS train. A list of over
    LARGE_LIST words is shuffled by numpy's generator, seeded alike: Python's shuffle took
    1.2 s of a million-word list's 10, and no article's list is that long."""
    if len(words) > LARGE_LIST:
        import numpy as np  # here: the app imports this module before its first frame

        order = np.random.default_rng(seed).permutation(len(words))
        shuffled = np.asarray(words, dtype=object)[order].tolist()
    else:
        shuffled = list(words)
        random.Random(seed).shuffle(shuffled)
    cut = max(int(len(shuffled) * (1 - val_fraction)), len(shuffled) - MAX_VAL_WORDS)
    return shuffled[:cut], shuffled[cut:]


@dataclass(frozen=True)
class WordData:
    """Train and validation words with the vocabulary and sequence length they imply.

    With categories, each word is a row with a category (`train_categories[i]` goes with
    `train_words[i]`; None = no category): a word in two lists is two rows.
    """

    train_words: list[str]
    val_words: list[str]
    vocab: Vocab
    source: str = ""
    train_categories: list[str | None] | None = None
    val_categories: list[str | None] | None = None

    @cached_property
    def max_len(self) -> int:
        """Longest word plus BOS and EOS: the article's `max_word_len`, the model's block size."""
        # A generator, not map(): the app's event loop gets its turns while this runs.
        return framed_length(max(len(w) for w in chain(self.train_words, self.val_words)))

    @property
    def categories(self) -> list[str]:
        return self.vocab.categories

    @classmethod
    def from_words(
        cls,
        train: Sequence[str],
        val: Sequence[str],
        source: str = "",
        *,
        train_categories: Sequence[str | None] | None = None,
        val_categories: Sequence[str | None] | None = None,
        categories: Sequence[str] | None = None,
    ) -> WordData:
        if not train:
            raise WordListError(f"{source or 'data'}: no training words after the split")
        if train_categories is None and val_categories is None:
            return cls(list(train), list(val), Vocab.from_words([*train, *val]), source)
        train_labels = list(train_categories or [None] * len(train))
        val_labels = list(val_categories or [None] * len(val))
        if len(train_labels) != len(train) or len(val_labels) != len(val):
            raise WordListError(f"{source or 'data'}: one category per word is needed")
        seen = [c for c in (*train_labels, *val_labels) if c is not None]
        order = list(categories) if categories is not None else list(dict.fromkeys(seen))
        if unknown := sorted(set(seen) - set(order)):
            raise UnknownCategoryError(unknown[0], order)
        vocab = Vocab.from_words([*train, *val], order)
        return cls(list(train), list(val), vocab, source, train_labels, val_labels)

    @classmethod
    def from_source(
        cls,
        source: str | Path | Sequence[str | Path] = DEFAULT_DATASET,
        val_source: str | Path | None = None,
        *,
        seed: int = 42,
        keep_case: bool = False,
        dropout: float = CATEGORY_DROPOUT,
        on_progress: LoadProgress | None = None,
    ) -> WordData:
        """One list, as always; or several lists (or `word<TAB>category` lines), each a
        category; a list given twice is refused. Data with one category at most trains a
        model without categories.
        `on_progress` hears what is done, up to READ_SHARE of a trainer's whole loading."""
        sources = [source] if isinstance(source, (str, Path)) else list(source)
        if not sources:
            raise WordListError("no word list given")
        refuse_repeated(sources)
        report = on_progress or _no_progress
        labelled: list[tuple[str, str]] = []
        plain: list[str] | None = None  # one list without labels: no pairs to build and undo
        for number, src in enumerate(sources):
            report(f"reading {Path(src).name}", READ_SHARE * SPLIT_AT * number / len(sources))
            path, text = read_list(src)
            if len(sources) == 1 and "\t" not in text:
                plain = clean_lines(text, str(path), keep_case)
            else:
                labelled += labelled_lines(path, text, keep_case)
        name = "+".join(str(s) for s in sources)
        report("splitting", READ_SHARE * SPLIT_AT)
        if plain is not None or len({c for _, c in labelled}) <= 1:
            words = plain if plain is not None else [w for w, _ in labelled]
            if len(sources) > 1:  # one list's words are distinct already; several may share
                words = list(dict.fromkeys(words))
            if val_source is None:
                train, val = split_words(words, seed)
            else:
                train, val = words, load_words(val_source, keep_case=keep_case)
            data = cls.from_words(train, val, name)
        else:
            data = category_data(labelled, val_source, name, seed, keep_case, dropout)
        report("read", READ_SHARE)
        return data


def _no_progress(what: str, done: float) -> None:
    pass


def refuse_repeated(sources: Sequence[str | Path]) -> None:
    """Refuse a list given twice, by name or by two paths to one file: its words would be
    read twice into one category, and the run named after both ("animals+animals")."""
    seen: dict[Path, str | Path] = {}
    for src in sources:
        path = resolve_source(src).resolve()  # a link or a relative path: the file it names
        if path in seen:
            first = seen[path]
            same = f"{src} is given twice"
            if str(src) != str(first):
                same = f"{first} and {src} are the same list"
            raise WordListError(f"{same}; give each list once")
        seen[path] = src


def category_data(
    labelled: list[tuple[str, str]],
    val_source: str | Path | None,
    name: str,
    seed: int,
    keep_case: bool,
    dropout: float,
) -> WordData:
    """Rows (word, category) split by word, so no word is in both train and validation; a
    `dropout` share of training words also gets a row with no category, and a small kind's
    rows come more than once (smaller_kinds_again)."""
    by_word: dict[str, list[str]] = {}
    for word, category in labelled:
        if category not in by_word.setdefault(word, []):
            by_word[word].append(category)
    categories = list(dict.fromkeys(c for _, c in labelled))
    if val_source is None:
        # Sorted first: two lists then split exactly as their sorted union does (the built-in
        # seed list is animals + fruits-vegetables), so a plain model compares word for word.
        train, val = split_words(sorted(by_word), seed)
        val_rows = [(w, c) for w in val for c in by_word[w]]
    else:
        train, val_rows = list(by_word), load_labelled(val_source, keep_case=keep_case)
    rows: list[tuple[str, str | None]] = [(w, c) for w in train for c in by_word[w]]
    rng = random.Random(seed)
    rows += [(w, None) for w in train if rng.random() < dropout]
    rows += smaller_kinds_again(rows)
    return WordData.from_words(
        [w for w, _ in rows],
        [w for w, _ in val_rows],
        name,
        train_categories=[c for _, c in rows],
        val_categories=[c for _, c in val_rows],
        categories=categories,
    )


def smaller_kinds_again(rows: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Extra training rows: a kind with at most 1/k of the largest kind's rows comes k times
    in all (at most KIND_REPEATS), so that a small list is not drowned out by a large one in
    what the shared weights learn."""
    counts = Counter(c for _, c in rows if c is not None)
    largest = max(counts.values(), default=0)
    times = {c: min(KIND_REPEATS, largest // n) for c, n in counts.items()}
    return [(w, c) for w, c in rows if c is not None for _ in range(times[c] - 1)]

