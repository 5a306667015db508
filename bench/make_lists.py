"""Write the word lists in tests/data/ that no built-in list resembles: given names in Greek,
in Cyrillic, in Latin letters with diacritics, and a mix of the three (issue 18, "Any alphabet").

The names come from Faker's person providers (https://github.com/joke2k/faker, MIT licence),
read as data: its per-locale tuples of first names. Faker is a tool for this script only, not
a dependency of the project; to rerun it:

    pip install --target /tmp/fakerlib --no-deps faker
    PYTHONPATH=/tmp/fakerlib python bench/make_lists.py

Each list is lowercased, NFC-normalised, deduplicated, sorted, then a seeded sample of at most
LIST_SIZE names, so a rerun with the same Faker version writes the same files.
"""

from __future__ import annotations

import importlib
import random
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests/data"
LIST_SIZE = 900
SOURCES = {
    "greek-names": ["el_GR"],
    "cyrillic-names": ["bg_BG", "ru_RU", "uk_UA"],
    "diacritic-names": ["cs_CZ", "pl_PL", "tr_TR", "hu_HU", "sk_SK", "ro_RO", "lv_LV", "lt_LT"],
}


def first_names(locale: str) -> set[str]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    names: set[str] = set()
    for attribute in dir(provider):
        value = getattr(provider, attribute)
        if attribute.startswith("first_names") and isinstance(value, tuple | list | dict):
            names.update(value)
    return {unicodedata.normalize("NFC", n.strip().lower()) for n in names if n.strip().isalpha()}


def sample(names: set[str], size: int, seed: int) -> list[str]:
    ordered = sorted(names)
    return sorted(random.Random(seed).sample(ordered, min(size, len(ordered))))


def main() -> None:
    pools = {name: set().union(*map(first_names, locales)) for name, locales in SOURCES.items()}
    lists = {name: sample(pool, LIST_SIZE, seed=0) for name, pool in pools.items()}
    third = LIST_SIZE // 3
    lists["mixed-names"] = sorted(
        {n for pool in pools.values() for n in sample(pool, third, seed=1)}
    )
    for name, words in lists.items():
        (OUT / f"{name}.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
        print(f"{name}: {len(words)} names, {len({c for w in words for c in w})} characters")


if __name__ == "__main__":
    main()
