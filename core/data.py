"""Word lists, the character vocabulary and the train/validation split.

Torch-free on purpose: the TUI lists datasets before its first frame, and importing torch
costs over a second.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from itertools import chain
from pathlib import Path

MAX_WORD_LENGTH = 64
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
PAD, BOS, EOS = 0, 1, 2
FRAME = 2  # a word is framed as BOS + its characters + EOS: n characters are n + 2 tokens
DEFAULT_DATASET = "seed"
DEFAULT_CHECKPOINT = "default.safetensors"
# Share of training words that also appear with no category (plain BOS), so that a model
# with categories still samples and scores without one. 0.3 measured best for the shipped
# model, both with a kind and without (README, "Categories").
CATEGORY_DROPOUT = 0.3
# The default split holds out 20% of a list, but at most this many words: a held-out loss is
# as precise as its number of words makes it (10,000 words: ~0.005 nats), not its share, and
# 20% of a million words took longer to measure once than the whole run's 200 steps (makemore
# holds out 10%, at most 1,000 words). The rest trains.
MAX_VAL_WORDS = 10_000
LoadProgress = Callable[[str, float], None]  # what loading is doing, and how far it is (0..1)
# Words one call into C handles at most when loading: the call holds the interpreter, and the
# app's event loop waits for it (a million words at once stalled it for a second).
PART_WORDS = 100_000
# Shares of the time a trainer takes to load a large list (reading and splitting the words,
# then encoding them, core/train.py), by which progress is reported; about those of 1M words.
READ_SHARE = 0.7
SPLIT_AT = 0.5  # of reading: cleaning the lines comes before, shuffling and the vocabulary after


class WordListError(ValueError):
    """A word list that cannot be used; the message names the file (and line)."""


class UnknownCategoryError(ValueError):
    """A category the model was not trained with."""

    def __init__(self, category: str, known: Sequence[str]) -> None:
        if known:
            super().__init__(f"unknown category {category!r}; this model has {', '.join(known)}")
        else:
            super().__init__(f"unknown category {category!r}; this model has no categories")


class UnknownCharacterError(ValueError):
    """Text holds characters the vocabulary lacks."""

    def __init__(self, chars: Sequence[str]) -> None:
        self.chars = list(chars)
        shown = ", ".join(repr(c) for c in self.chars)
        super().__init__(f"the model does not know the character{'s' * (len(chars) > 1)} {shown}")


# --- built-in lists --------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    path: Path
    count: int


def assets_dir() -> Path:
    return Path(str(resources.files("minigpt2.assets")))


def builtin_datasets() -> list[DatasetInfo]:
    """The word lists shipped in assets/, by name (the file stem), with their sizes."""
    infos = []
    for path in sorted(assets_dir().glob("*.txt")):
        count = sum(1 for line in path.read_text("utf-8").splitlines() if line.strip())
        infos.append(DatasetInfo(path.stem, path, count))
    return infos


def default_checkpoint_path() -> Path:
    """The small trained `default` model shipped so that Explore works on first launch."""
    return assets_dir() / DEFAULT_CHECKPOINT


def resolve_source(source: str | Path) -> Path:
    """A built-in list's name, or a path to a word file."""
    builtin = assets_dir() / f"{source}.txt"
    if isinstance(source, str) and "/" not in source and builtin.is_file():
        return builtin
    path = Path(source).expanduser()
    if not path.exists():
        names = ", ".join(info.name for info in builtin_datasets())
        raise WordListError(f"{source}: no such file, and not a built-in list ({names})")
    if not path.is_file():
        raise WordListError(f"{source}: not a file")
    return path


# --- loading -----------------------------------------------------------------------------


def load_words(source: str | Path, *, keep_case: bool = False) -> list[str]:
    """Read one word per line: blank lines and surrounding whitespace ignored, duplicates
    dropped (first one kept), lowercased unless `keep_case`."""
    path = resolve_source(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WordListError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_words(data, str(path), keep_case=keep_case)


def parse_words(data: bytes, name: str, *, keep_case: bool = False) -> list[str]:
    return clean_lines(decode_text(data, name), name, keep_case)


def clean_lines(text: str, name: str, keep_case: bool) -> list[str]:
    """The distinct words of `text`, one a line, in order: `clean_word` of each line."""
    lines = enumerate(text.splitlines(), start=1)
    words = dict.fromkeys(clean_word(raw, name, number, keep_case) for number, raw in lines)
    words.pop(None, None)  # blank lines
    if not words:
        raise WordListError(f"{name}: no words (the list is empty)")
    return list(words)  # type: ignore[arg-type]  # None is gone


def unprintable(word: str) -> list[str]:
    """The characters of `word` that cannot be shown (one check for a whole word first: a
    per-character test of every word took a second on a million words)."""
    return [] if word.isprintable() else [c for c in word if not c.isprintable()]


def decode_text(data: bytes, name: str) -> str:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise WordListError(f"{name}:{line}: binary data (a NUL byte); expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WordListError(f"{name}:{line}: not UTF-8 text ({exc.reason})") from None


def clean_word(raw: str, name: str, number: int, keep_case: bool) -> str | None:
    """The line's word, None for a blank line. Raises WordListError naming the line."""
    word = normalise(raw.strip(), keep_case)
    if not word:
        return None
    if len(word) > MAX_WORD_LENGTH:
        raise WordListError(
            f"{name}:{number}: a word of {len(word)} characters; at most {MAX_WORD_LENGTH}"
        )
    if bad := unprintable(word):
        raise WordListError(f"{name}:{number}: unprintable character {bad[0]!r}")
    return word


def normalise(text: str, keep_case: bool = False) -> str:
    """`text` as words are stored: lower-cased unless `keep_case`, then in Unicode's composed
    form (NFC), so that "é" is one character whether it was typed as one code point or as
    "e" and a combining accent."""
    return unicodedata.normalize("NFC", text if keep_case else text.lower())


# --- vocabulary --------------------------------------------------------------------------


class Vocab:
    """Special tokens, then the sorted characters of the data, then one start token per
    category (only when the data has categories).

    A category's start token takes BOS's place: the model reads the category first, the
    loss never counts predicting it, and plain BOS means "no category". A vocabulary without
    categories is exactly the one of a single-list model.
    """

    def __init__(self, chars: Iterable[str], categories: Iterable[str] = ()) -> None:
        self.chars: list[str] = sorted(set(chars))
        self.categories: list[str] = list(dict.fromkeys(categories))
        self.tokens: list[str] = [
            *SPECIAL_TOKENS,
            *self.chars,
            *(category_token(c) for c in self.categories),
        ]
        self.index: dict[str, int] = {ch: i for i, ch in enumerate(self.tokens)}
        self._first_category = len(SPECIAL_TOKENS) + len(self.chars)

    @classmethod
    def from_words(cls, words: Sequence[str], categories: Iterable[str] = ()) -> Vocab:
        chars: set[str] = set()
        for part in in_parts(words):  # a string at a time: 20x faster than char by char
            chars.update("".join(part))
        return cls(chars, categories)

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def category_ids(self) -> list[int]:
        return list(range(self._first_category, self.size))

    def is_char(self, token: int) -> bool:
        return len(SPECIAL_TOKENS) <= token < self._first_category

    def start_id(self, category: str | None = None) -> int:
        """The token a word starts with: its category's, or BOS for none.
        Raises UnknownCategoryError."""
        if category is None:
            return BOS
        if category not in self.categories:
            raise UnknownCategoryError(category, self.categories)
        return self._first_category + self.categories.index(category)

    def unknown_chars(self, text: str) -> list[str]:
        return sorted({ch for ch in text if ch not in self.index})

    def encode(self, text: str) -> list[int]:
        """Character ids of `text` (no BOS/EOS). Raises UnknownCharacterError."""
        if unknown := self.unknown_chars(text):
            raise UnknownCharacterError(unknown)
        return [self.index[ch] for ch in text]

    def frame(self, word: str, category: str | None = None) -> list[int]:
        """The start token (BOS, or the category's), the characters, EOS: a whole word as the
        model reads and writes it."""
        return [self.start_id(category), *self.encode(word), EOS]

    def encode_word(self, word: str, length: int, category: str | None = None) -> list[int]:
        """The framed word, then padding up to `length`."""
        ids = self.frame(word, category)
        return ids + [PAD] * (length - len(ids))

    def decode(self, ids: Iterable[int]) -> str:
        """Characters up to the first EOS; special and category tokens dropped."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if self.is_char(i):
                out.append(self.tokens[i])
        return "".join(out)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.tokens == other.tokens

    def __hash__(self) -> int:
        return hash(tuple(self.tokens))

    def __repr__(self) -> str:
        if self.categories:
            return f"Vocab({''.join(self.chars)!r}, categories={self.categories!r})"
        return f"Vocab({''.join(self.chars)!r})"


def in_parts(words: Sequence[str]) -> Iterator[Sequence[str]]:
    """`words` in slices of PART_WORDS."""
    return (words[start : start + PART_WORDS] for start in range(0, len(words), PART_WORDS))


def framed_length(chars: int) -> int:
    """Tokens a word of `chars` characters takes, BOS and EOS included."""
    return chars + FRAME


def chars_that_fit(block_size: int) -> int:
    """The longest word a model of `block_size` positions reads or writes whole."""
    return block_size - FRAME


def category_token(category: str) -> str:
    return f"<cat:{category}>"


# --- the data a model trains on ----------------------------------------------------------


def split_words(
    words: Sequence[str], seed: int = 42, val_fraction: float = 0.2
) -> tuple[list[str], list[str]]:
    """The article's split: shuffle with Python's `random` seeded by `seed`, first 80% train;
    on a list of over 50,000 words, all but the last MAX_VAL_WORDS train."""
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
        category. Data with one category at most trains a model without categories.
        `on_progress` hears what is done, up to READ_SHARE of a trainer's whole loading."""
        sources = [source] if isinstance(source, (str, Path)) else list(source)
        if not sources:
            raise WordListError("no word list given")
        from .categories import category_data, load_labelled  # they build on this module

        report = on_progress or _no_progress
        labelled: list[tuple[str, str]] = []
        for number, src in enumerate(sources):
            report(f"reading {Path(src).name}", READ_SHARE * SPLIT_AT * number / len(sources))
            labelled += load_labelled(src, keep_case=keep_case)
        name = "+".join(str(s) for s in sources)
        report("splitting", READ_SHARE * SPLIT_AT)
        if len({c for _, c in labelled}) <= 1:
            words = [w for w, _ in labelled]
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
