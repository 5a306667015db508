"""Property tests where the inputs are open-ended: any bytes as a word file, any names and
settings as favourites."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from minigpt2.core.data import MAX_WORD_LENGTH, WordListError, parse_words
from minigpt2.tui.favourites import Favourite, FavouritesStore


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8")))
def test_any_bytes_either_load_as_words_or_fail_with_the_clear_error(data: bytes) -> None:
    try:
        words = parse_words(data, "f.txt")
    except WordListError as exc:
        assert str(exc).startswith("f.txt")  # the message names the file (and the line)
        return
    assert words and len(set(words)) == len(words)
    for word in words:
        assert word == word.strip() and word == word.lower()
        assert 0 < len(word) <= MAX_WORD_LENGTH and word.isprintable()


names = st.text(min_size=1, max_size=30).filter(lambda s: s.strip())
setting_values = st.none() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text()
favourites = st.builds(
    Favourite,
    name=names,
    added_at=st.text(max_size=25),
    prompt=st.text(max_size=10),
    settings=st.dictionaries(st.text(max_size=8), setting_values, max_size=4),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(favourites, max_size=12))
def test_favourites_survive_a_save_and_a_load(items: list[Favourite]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "favourites.json"
        store = FavouritesStore(path, items)
        store.save()
        assert list(FavouritesStore.load(path)) == list(store)
