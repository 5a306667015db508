"""Large English-like word lists for bench/size_bench.py, made deterministically (no big file
is committed, and none is fetched).

`english_like(n)` draws words from a character trigram chain fitted to the built-in lists;
`with_suffixes(words, n)` grows a list with English endings. A real list, when a machine has
one, can be given to the benchmark instead (`--words /usr/share/dict/words`).

    python bench/size_lists.py N OUT   # write N words to OUT
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from itertools import accumulate
from pathlib import Path

from minigpt2.core.data.words import builtin_datasets, load_words

START, END = "^^", "$"
SUFFIXES = ("", "s", "er", "ing", "ed", "ly", "ness", "ish", "able", "ism")


def english_like(n: int, seed: int = 0) -> list[str]:
    """`n` distinct words from a trigram chain over the built-in lists' words, 2 to 24
    characters long: their letters and lengths are those of ordinary names of things."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for info in builtin_datasets():
        for word in load_words(info.path):
            if word.isalpha() and word.isascii():
                padded = START + word + END
                for i in range(len(word) + 1):
                    counts[padded[i : i + 2]][padded[i + 2]] += 1
    chain = {
        context: (list(nexts), list(accumulate(nexts.values())))
        for context, nexts in counts.items()
    }
    rng = random.Random(seed)
    words: dict[str, None] = {}
    while len(words) < n:
        context, word = START, ""
        while len(word) < 24:
            letters, cumulative = chain[context]
            letter = rng.choices(letters, cum_weights=cumulative)[0]
            if letter == END:
                break
            word += letter
            context = context[1] + letter
        if len(word) >= 2:
            words.setdefault(word)
    return list(words)


def with_suffixes(words: list[str], n: int) -> list[str]:
    """The first `n` distinct words of every word with every suffix, a suffix at a time."""
    out: dict[str, None] = {}
    for suffix in SUFFIXES:
        for word in words:
            out.setdefault(word + suffix)
            if len(out) == n:
                return list(out)
    raise ValueError(f"{len(words)} words give fewer than {n} with these suffixes")


def write_list(words: list[str], path: Path) -> Path:
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    count, out = int(sys.argv[1]), Path(sys.argv[2])
    base = english_like(min(count, 234_000))
    write_list(base if count <= len(base) else with_suffixes(base, count), out)
