"""Property tests where the inputs are open-ended: any bytes as a word file, any sampling
settings, any names and settings as favourites."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from minigpt2.core.data.vocab import MAX_WORD_LENGTH
from minigpt2.core.data.words import WordListError, default_checkpoint_path, parse_words
from minigpt2.core.sample.constraints import ImpossibleConstraints
from minigpt2.core.sample.request import SampleConfig
from minigpt2.core.sample.sampler import Sampler
from minigpt2.tui.stores.favourites import Favourite, FavouritesStore


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


@cache
def shipped_sampler() -> Sampler:
    return Sampler.from_checkpoint(default_checkpoint_path())


letters = st.text(alphabet="abcdeilnorsty", max_size=3)
sample_configs = st.builds(
    SampleConfig,
    prompt=letters,
    n=st.integers(1, 12),
    temperature=st.sampled_from([0.0, 0.5, 1.0, 1.5]),
    top_k=st.none() | st.integers(1, 30),
    top_p=st.none() | st.floats(0.05, 1.0),
    min_len=st.none() | st.integers(1, 8),
    max_len=st.none() | st.integers(1, 14),
    ends_with=letters,
    contains=letters,
    exclude_chars=st.text(alphabet="qxzjkvw", max_size=3),
    exclude=st.frozensets(st.text(alphabet="abelnrt", min_size=2, max_size=5), max_size=20),
    seed=st.integers(0, 2**32),
    novel_only=st.booleans(),
    unique=st.booleans(),
    most_likely=st.booleans(),
    rank=st.sampled_from(["total", "per_char"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_valid_sampling_settings_give_names_that_respect_them(data: st.DataObject) -> None:
    try:
        config = data.draw(sample_configs)
    except ValueError:  # settings SampleConfig refuses, with its message: not a sampling case
        assume(False)
        return
    sampler = shipped_sampler()
    try:
        samples = sampler.sample(config)
    except ImpossibleConstraints:  # refused up front, with the reason: nothing to check
        return
    assert len(samples) <= config.n
    names = [s.name for s in samples]
    if config.unique or config.most_likely:
        assert len(set(names)) == len(names)
    for sample in samples:
        assert config.accepts(sample.name, sample.source), (sample, config)
        assert len(sample.name) <= sampler.max_chars
        assert sample.logprob <= 0
