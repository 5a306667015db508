"""The character vocabulary and how a word becomes tokens: special tokens, characters, one
start token per kind. Torch-free."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

MAX_WORD_LENGTH = 64
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")
PAD, BOS, EOS = 0, 1, 2
FRAME = 2  # a word is framed as BOS + its characters + EOS: n characters are n + 2 tokens
# Words one call into C handles at most when loading: the call holds the interpreter, and the
# app's event loop waits for it (a million words at once stalled it for a second).
PART_WORDS = 100_000


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


