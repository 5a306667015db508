"""Reading word lists: the built-in ones, files of one word a line (or `word<TAB>kind`),
cleaned and normalised, with errors that name the file and line. Torch-free: the app lists
datasets before its first frame."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from minigpt2.core.data.vocab import MAX_WORD_LENGTH, in_parts

DEFAULT_DATASET = "seed"
DEFAULT_CHECKPOINT = "default.safetensors"


class WordListError(ValueError):
    """A word list that cannot be used; the message names the file (and line)."""


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


def read_list(source: str | Path) -> tuple[Path, str]:
    """A list's file and its text: the one place a word file is read and decoded."""
    path = resolve_source(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WordListError(f"{path}: cannot read ({exc.strerror})") from None
    return path, decode_text(data, str(path))


def load_words(source: str | Path, *, keep_case: bool = False) -> list[str]:
    """Read one word per line: blank lines and surrounding whitespace ignored, duplicates
    dropped (first one kept), lowercased unless `keep_case`."""
    path, text = read_list(source)
    return clean_lines(text, str(path), keep_case)


def parse_words(data: bytes, name: str, *, keep_case: bool = False) -> list[str]:
    return clean_lines(decode_text(data, name), name, keep_case)


def clean_lines(text: str, name: str, keep_case: bool) -> list[str]:
    """The distinct words of `text`, one a line, in order: `clean_word` of each line.

    Done for the whole text at once, a few calls into C (a word at a time took 2 s of a
    million-word list's 10); a text that fails a check is read again line by line, for an
    error that names the line."""
    words: dict[str, None] = {}
    for part in in_parts(normalise(text, keep_case).splitlines()):  # the event loop's turns
        stripped = list(map(str.strip, part))
        if max(map(len, stripped)) > MAX_WORD_LENGTH or not all(map(str.isprintable, stripped)):
            _check_each_line(text, name, keep_case)  # raises, naming the first bad line
        words.update(dict.fromkeys(stripped))
    words.pop("", None)  # blank lines
    if not words:
        raise WordListError(f"{name}: no words (the list is empty)")
    return list(words)


def _check_each_line(text: str, name: str, keep_case: bool) -> None:
    for number, raw in enumerate(text.splitlines(), start=1):
        clean_word(raw, name, number, keep_case)


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




def load_labelled(source: str | Path, *, keep_case: bool = False) -> list[tuple[str, str]]:
    """(word, category) pairs: a line `word<TAB>category` names its category, a plain line
    belongs to the list's own name (a built-in list's name, or the file's stem). Repeated
    pairs are dropped; a word may come with several categories."""
    path, text = read_list(source)
    return labelled_lines(path, text, keep_case)


def labelled_lines(path: Path, text: str, keep_case: bool) -> list[tuple[str, str]]:
    """load_labelled's pairs, from the text of the list at `path`."""
    own = path.stem  # once: per line, it took longer than the rest of the loop
    if "\t" not in text:  # a plain list, the usual case: no line to split, one category
        return [(word, own) for word in clean_lines(text, str(path), keep_case)]
    pairs: dict[tuple[str, str], None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()  # a tab that only indents is no label
        word_part, tab, category = line.partition("\t")
        category = category.strip() if tab else own
        word = clean_word(word_part, str(path), number, keep_case)
        if word is None:
            continue
        if not category or not category.isprintable():
            raise WordListError(f"{path}:{number}: expected word<TAB>category")
        pairs.setdefault((word, category))
    if not pairs:
        raise WordListError(f"{path}: no words (the list is empty)")
    return list(pairs)

