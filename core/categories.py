"""Several word lists in one model: each list (or each `word<TAB>category` label) is a
category the model can be asked for.

Torch-free: the app lists categories before torch is loaded.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .data import (
    WordData,
    WordListError,
    clean_lines,
    clean_word,
    decode_text,
    resolve_source,
    split_words,
)

if TYPE_CHECKING:
    from .sample import Sampler

# Guidance for sampling with a category (SampleConfig.guidance); the share of names sampled
# for a kind that the model itself finds likelier under it, on the shipped model, is in the
# README, "Categories" (bench/category_bench.py --checkpoint).
DEFAULT_GUIDANCE = 2.0
# How kinds are learned (README, "Categories", has the measurements). Through its start
# token alone the shipped model's kinds barely differed (55% of names sampled for a kind
# likelier under it); a model with categories also adds each kind's offset at every position
# (ModelConfig.kind_gain), and a small kind's rows come up to twice, so that the larger list
# does not drown it out.
KIND_GAIN = 30.0
KIND_REPEATS = 2


def load_labelled(source: str | Path, *, keep_case: bool = False) -> list[tuple[str, str]]:
    """(word, category) pairs: a line `word<TAB>category` names its category, a plain line
    belongs to the list's own name (a built-in list's name, or the file's stem). Repeated
    pairs are dropped; a word may come with several categories."""
    path = resolve_source(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WordListError(f"{path}: cannot read ({exc.strerror})") from None
    text = decode_text(data, str(path))
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


def best_categories(sampler: Sampler, names: Sequence[str]) -> list[str | None]:
    """Per name, the category under which the model finds it most likely (None for a model
    without categories, or a name it cannot write). Scores all names in batched passes."""
    if not sampler.categories:
        return [None] * len(names)
    from .scoring import word_logprobs  # torch: only when a model is at hand

    scores = {c: word_logprobs(sampler.model, sampler.vocab, names, c) for c in sampler.categories}
    best: list[str | None] = []
    for i in range(len(names)):
        category = max(sampler.categories, key=lambda c: scores[c][i])
        best.append(category if scores[category][i] > float("-inf") else None)
    return best
