"""Word lists, the character vocabulary and the train/validation split.

Torch-free on purpose: the TUI lists datasets before its first frame, and importing torch
costs over a second.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MAX_WORD_LENGTH = 64
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
PAD, BOS, EOS = 0, 1, 2
FRAME = 2  # a word is framed as BOS + its characters + EOS: n characters are n + 2 tokens
DEFAULT_DATASET = "seed"
DEFAULT_CHECKPOINT = "default.safetensors"


class WordListError(ValueError):
    """A word list that cannot be used; the message names the file (and line)."""


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
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise WordListError(f"{name}:{line}: binary data (a NUL byte); expected UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WordListError(f"{name}:{line}: not UTF-8 text ({exc.reason})") from None

    words: dict[str, None] = {}  # an ordered set
    for number, raw in enumerate(text.splitlines(), start=1):
        word = raw.strip()
        if not word:
            continue
        if len(word) > MAX_WORD_LENGTH:
            raise WordListError(
                f"{name}:{number}: a word of {len(word)} characters; at most {MAX_WORD_LENGTH}"
            )
        if bad := [c for c in word if not c.isprintable()]:
            raise WordListError(f"{name}:{number}: unprintable character {bad[0]!r}")
        words.setdefault(word if keep_case else word.lower())
    if not words:
        raise WordListError(f"{name}: no words (the list is empty)")
    return list(words)


# --- vocabulary --------------------------------------------------------------------------


class Vocab:
    """Special tokens, then the sorted characters of the data."""

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars: list[str] = sorted(set(chars))
        self.tokens: list[str] = [*SPECIAL_TOKENS, *self.chars]
        self.index: dict[str, int] = {ch: i for i, ch in enumerate(self.tokens)}

    @classmethod
    def from_words(cls, words: Iterable[str]) -> Vocab:
        return cls(ch for word in words for ch in word)

    @property
    def size(self) -> int:
        return len(self.tokens)

    def unknown_chars(self, text: str) -> list[str]:
        return sorted({ch for ch in text if ch not in self.index})

    def encode(self, text: str) -> list[int]:
        """Character ids of `text` (no BOS/EOS). Raises UnknownCharacterError."""
        if unknown := self.unknown_chars(text):
            raise UnknownCharacterError(unknown)
        return [self.index[ch] for ch in text]

    def frame(self, word: str) -> list[int]:
        """BOS, the characters, EOS: a whole word as the model reads and writes it."""
        return [BOS, *self.encode(word), EOS]

    def encode_word(self, word: str, length: int) -> list[int]:
        """The framed word, then padding up to `length`."""
        ids = self.frame(word)
        return ids + [PAD] * (length - len(ids))

    def decode(self, ids: Iterable[int]) -> str:
        """Characters up to the first EOS; special tokens dropped."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i >= len(SPECIAL_TOKENS):
                out.append(self.tokens[i])
        return "".join(out)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.tokens == other.tokens

    def __hash__(self) -> int:
        return hash(tuple(self.tokens))

    def __repr__(self) -> str:
        return f"Vocab({''.join(self.chars)!r})"


def framed_length(chars: int) -> int:
    """Tokens a word of `chars` characters takes, BOS and EOS included."""
    return chars + FRAME


def chars_that_fit(block_size: int) -> int:
    """The longest word a model of `block_size` positions reads or writes whole."""
    return block_size - FRAME


# --- the data a model trains on ----------------------------------------------------------


def split_words(
    words: Sequence[str], seed: int = 42, val_fraction: float = 0.2
) -> tuple[list[str], list[str]]:
    """The article's split: shuffle with Python's `random` seeded by `seed`, first 80% train."""
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * (1 - val_fraction))
    return shuffled[:cut], shuffled[cut:]


@dataclass(frozen=True)
class WordData:
    """Train and validation words with the vocabulary and sequence length they imply."""

    train_words: list[str]
    val_words: list[str]
    vocab: Vocab
    source: str = ""

    @property
    def max_len(self) -> int:
        """Longest word plus BOS and EOS: the article's `max_word_len`, the model's block size."""
        return framed_length(max(len(w) for w in (*self.train_words, *self.val_words)))

    @classmethod
    def from_words(cls, train: Sequence[str], val: Sequence[str], source: str = "") -> WordData:
        if not train:
            raise WordListError(f"{source or 'data'}: no training words after the split")
        return cls(list(train), list(val), Vocab.from_words([*train, *val]), source)

    @classmethod
    def from_source(
        cls,
        source: str | Path = DEFAULT_DATASET,
        val_source: str | Path | None = None,
        *,
        seed: int = 42,
        keep_case: bool = False,
    ) -> WordData:
        words = load_words(source, keep_case=keep_case)
        if val_source is None:
            train, val = split_words(words, seed)
        else:
            train, val = words, load_words(val_source, keep_case=keep_case)
        return cls.from_words(train, val, str(source))
