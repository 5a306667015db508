from __future__ import annotations

from pathlib import Path

import pytest
from minigpt2.core.data import words as words_module
from minigpt2.core.data.dataset import LARGE_LIST, MAX_VAL_WORDS, WordData, split_words
from minigpt2.core.data.vocab import (
    BOS,
    EOS,
    PAD,
    UnknownCategoryError,
    UnknownCharacterError,
    Vocab,
)
from minigpt2.core.data.words import (
    WordListError,
    assets_dir,
    builtin_datasets,
    clean_lines,
    clean_word,
    default_checkpoint_path,
    load_words,
)


def write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "list.txt"
    path.write_bytes(content)
    return path


def test_blank_lines_whitespace_duplicates_and_case(tmp_path: Path) -> None:
    path = write(tmp_path, b"  Cat \n\n\tdog\ncat\nDOG\n\xc3\xa9lan\n")
    assert load_words(path) == ["cat", "dog", "\u00e9lan"]
    assert load_words(path, keep_case=True) == ["Cat", "dog", "cat", "DOG", "\u00e9lan"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n  \n", "empty"),
        (b"cat\x00dog\n", r":1: binary"),
        (b"cat\ndog\n\xff\xfe\n", r":3: not UTF-8"),
        (b"cat\n" + b"a" * 65 + b"\n", r":2: a word of 65 characters"),
        (b"cat\nd\x07og\n", r":2: unprintable"),
    ],
)
def test_bad_word_lists_name_the_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(WordListError, match=message) as info:
        load_words(path)
    assert str(path) in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WordListError, match="no such file"):
        load_words(tmp_path / "nope.txt")


def test_split_is_the_articles_deterministic_80_20() -> None:
    words = [f"w{i}" for i in range(100)]
    train, val = split_words(words, seed=42)
    assert (len(train), len(val)) == (80, 20)
    assert sorted(train + val) == sorted(words)
    assert split_words(words, seed=42) == (train, val)
    assert split_words(words, seed=1) != (train, val)


def test_vocab_is_specials_then_sorted_characters() -> None:
    vocab = Vocab.from_words(["cab", "ace"])
    assert vocab.tokens[:3] == ["<pad>", "<bos>", "<eos>"]
    assert vocab.chars == ["a", "b", "c", "e"]
    assert vocab.encode_word("cab", 7) == [BOS, 5, 3, 4, EOS, PAD, PAD]
    assert vocab.decode(vocab.encode_word("cab", 7)) == "cab"
    with pytest.raises(UnknownCharacterError, match="'z'") as info:
        vocab.encode("zebra")
    assert info.value.chars == ["r", "z"]


def test_explicit_validation_file(tmp_path: Path) -> None:
    train = tmp_path / "train.txt"
    train.write_text("cat\ndog\n")
    val = tmp_path / "val.txt"
    val.write_text("cow\n")
    data = WordData.from_source(train, val)
    assert (data.train_words, data.val_words) == (["cat", "dog"], ["cow"])
    assert data.max_len == 5
    assert "w" in data.vocab.chars


def test_builtin_lists_are_found_by_name() -> None:
    infos = {info.name: info for info in builtin_datasets()}
    assert "seed" in infos and infos["seed"].count > 900
    assert load_words("seed")[:1]


def test_a_vocab_without_categories_is_the_single_list_one() -> None:
    assert Vocab.from_words(["cab"]).tokens == Vocab.from_words(["cab"], []).tokens
    assert Vocab.from_words(["cab"]).category_ids == []


def test_category_start_tokens_follow_the_characters_and_replace_bos() -> None:
    vocab = Vocab.from_words(["cab", "ace"], ["fruit", "animal"])
    assert vocab.categories == ["fruit", "animal"]
    assert vocab.tokens[-2:] == ["<cat:fruit>", "<cat:animal>"]
    assert vocab.category_ids == [vocab.size - 2, vocab.size - 1]
    row = vocab.encode_word("cab", 7, "animal")
    assert row == [vocab.size - 1, 5, 3, 4, EOS, PAD, PAD]
    assert vocab.encode_word("cab", 7, None)[0] == BOS
    assert vocab.decode(row) == "cab"
    with pytest.raises(UnknownCategoryError, match="'mineral'.*fruit, animal"):
        vocab.start_id("mineral")
    with pytest.raises(UnknownCategoryError, match="no categories"):
        Vocab.from_words(["cab"]).start_id("fruit")


def test_one_plain_list_through_from_source_is_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, b"Cat\ndog\ncat\ncow\nemu\nyak\n")
    data = WordData.from_source(path)
    assert data.categories == [] and data.train_categories is None
    assert (data.train_words, data.val_words) == split_words(load_words(path))


def test_labels_for_one_side_only_leave_the_other_side_without_a_category() -> None:
    labelled_train = WordData.from_words(["ab", "cd"], ["ef"], train_categories=["x", "y"])
    assert labelled_train.train_categories == ["x", "y"]
    assert labelled_train.val_categories == [None]
    assert labelled_train.categories == ["x", "y"]
    labelled_val = WordData.from_words(["ab", "cd"], ["ef"], val_categories=["z"])
    assert labelled_val.train_categories == [None, None]
    assert labelled_val.val_categories == ["z"]
    no_val = WordData.from_words(["ab"], [], train_categories=["x"])
    assert no_val.val_categories == [] and no_val.val_words == []


@pytest.mark.parametrize(
    "labels",
    [
        {"train_categories": ["x"]},
        {"train_categories": ["x", "y", "z"]},
        {"val_categories": ["x", "y"]},
        {"train_categories": ["x", "y"], "val_categories": ["x", "y"]},
    ],
    ids=str,
)
def test_a_label_count_unlike_the_word_count_is_a_clear_error(labels: dict) -> None:
    with pytest.raises(WordListError, match="one category per word"):
        WordData.from_words(["ab", "cd"], ["ef"], "lists", **labels)


def test_builtin_list_sizes_count_the_non_blank_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "birds.txt").write_text("wren\n\n  \nrobin\n kite \n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a list\n", encoding="utf-8")
    monkeypatch.setattr(words_module, "assets_dir", lambda: tmp_path)
    infos = builtin_datasets()
    assert [(i.name, i.path, i.count) for i in infos] == [
        ("birds", tmp_path / "birds.txt", 3),
        ("empty", tmp_path / "empty.txt", 0),
    ]


def test_the_shipped_default_model_is_in_the_assets() -> None:
    path = default_checkpoint_path()
    assert path.parent == assets_dir() and path.suffix == ".safetensors" and path.is_file()


def test_unknown_characters_are_named_singular_or_plural() -> None:
    assert str(UnknownCharacterError(["#"])) == "the model does not know the character '#'"
    assert str(UnknownCharacterError(["#", "!"])) == (
        "the model does not know the characters '#', '!'"
    )


def test_a_large_list_splits_the_same_for_the_same_seed_and_keeps_every_word() -> None:
    """Over LARGE_LIST words the shuffle is numpy's: still a function of the seed, and a
    split of the very words given."""
    words = [f"w{i}" for i in range(LARGE_LIST + 1)]
    train, val = split_words(words, seed=5)
    assert (train, val) == split_words(words, seed=5)
    assert (train, val) != split_words(words, seed=6)
    assert sorted(train + val) == sorted(words) and len(val) == MAX_VAL_WORDS
    assert train[:10] != words[:10]  # shuffled


def test_whole_text_cleaning_matches_line_by_line() -> None:
    """clean_lines checks the whole text at once; its words are those of clean_word per
    line, and a bad line is still named."""
    text = "  Ábc\nabc\n\nΟΔΟΣ \ne\u0301\ntiger\n"
    per_line = [clean_word(raw, "t", n, False) for n, raw in enumerate(text.splitlines(), 1)]
    expected = list(dict.fromkeys(w for w in per_line if w))
    assert clean_lines(text, "t", False) == expected
    assert len(expected) == 5 and expected[3] == "\u00e9"  # composed, whatever was typed
    with pytest.raises(WordListError, match=r"t:3: unprintable"):
        clean_lines("ok\nfine\nbad\x07\n" + "x" * 70, "t", False)
    with pytest.raises(WordListError, match=r"t:2: a word of 70"):
        clean_lines("ok\n" + "x" * 70 + "\nbad\x07\n", "t", False)
