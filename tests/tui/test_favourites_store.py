"""The favourites store on its own: no app, no model."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from minigpt2.tui.stores.favourites import (
    Favourite,
    FavouritesCorrupt,
    FavouritesError,
    FavouritesStore,
    backup_unreadable,
    default_favourites_path,
)


def fav(name: str, prompt: str = "") -> Favourite:
    return Favourite(name, "2024-01-02T03:04:05+00:00", prompt, {"temperature": 0.8})


def test_add_save_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "favourites.json"
    store = FavouritesStore.load(path)
    assert len(store) == 0
    assert store.add(fav("emma", "em"))
    assert store.add(fav("ava"))
    store.save()
    assert not store.unsaved

    again = FavouritesStore.load(path)
    assert again.names == ["emma", "ava"]
    first = next(iter(again))
    assert first.prompt == "em" and first.settings == {"temperature": 0.8}
    assert json.loads(path.read_text())["version"] == 1


def test_no_duplicates_ignoring_case_and_spaces(tmp_path: Path) -> None:
    store = FavouritesStore(tmp_path / "f.json")
    assert store.add(fav("emma"))
    assert not store.add(fav("Emma "))
    assert not store.add(fav("   "))
    assert store.names == ["emma"]
    assert "EMMA" in store


def test_remove(tmp_path: Path) -> None:
    store = FavouritesStore(tmp_path / "f.json", [fav("emma"), fav("ava")])
    assert store.remove("EMMA")
    assert not store.remove("zoe")
    assert store.names == ["ava"]


def test_failed_save_keeps_names_and_says_where(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    store = FavouritesStore(blocker / "favourites.json")
    store.add(fav("emma"))
    with pytest.raises(FavouritesError, match="not-a-dir"):
        store.save()
    assert store.unsaved
    assert store.names == ["emma"]


def test_save_is_atomic_no_temp_files_left(tmp_path: Path) -> None:
    path = tmp_path / "favourites.json"
    store = FavouritesStore(path, [fav("emma")])
    store.save()
    store.add(fav("ava"))
    store.save()
    assert sorted(os.listdir(tmp_path)) == ["favourites.json"]


@pytest.mark.parametrize("text", ["{not json", '{"favourites": 3}', '[{"nom": "x"}]'])
def test_corrupt_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "favourites.json"
    path.write_text(text)
    with pytest.raises(FavouritesCorrupt, match="favourites.json"):
        FavouritesStore.load(path)
    backup = backup_unreadable(path)
    assert backup is not None and backup.read_text() == text and not path.exists()


def test_empty_file_is_an_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "favourites.json"
    path.write_text("")
    assert len(FavouritesStore.load(path)) == 0


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".json"])
def test_export(tmp_path: Path, suffix: str) -> None:
    store = FavouritesStore(tmp_path / "f.json", [fav("emma", "em"), fav("ava")])
    out = tmp_path / f"names{suffix}"
    assert store.export(out) == 2
    text = out.read_text()
    if suffix == ".txt":
        assert text == "emma\nava\n"
    elif suffix == ".csv":  # parsed back: every column under its own header, in order
        rows = list(csv.DictReader(io.StringIO(text)))
        assert list(rows[0]) == ["name", "added_at", "prompt", "settings"]
        assert [(r["name"], r["added_at"], r["prompt"]) for r in rows] == [
            ("emma", "2024-01-02T03:04:05+00:00", "em"), ("ava", "2024-01-02T03:04:05+00:00", "")]
        assert rows[0]["settings"] == fav("emma").describe_settings()
    else:  # parsed back: the same favourites
        assert FavouritesStore.load(out).names == ["emma", "ava"]
        assert list(FavouritesStore.load(out)) == list(store)


def test_export_rejects_unknown_format(tmp_path: Path) -> None:
    store = FavouritesStore(tmp_path / "f.json", [fav("emma")])
    with pytest.raises(FavouritesError, match=r"\.txt"):
        store.export(tmp_path / "names.docx")


def test_default_path_is_in_user_data_dir() -> None:
    path = default_favourites_path()
    assert path.name == "favourites.json" and "minigpt2-tui" in str(path)


def test_favourite_now_records_utc_second() -> None:
    item = Favourite.now("emma", "em", {"top_k": None, "temperature": 1.0, "model": "seed",
                                        "step": 800, "top_p": 0.9})
    assert item.added_at.endswith("+00:00")
    assert item.describe_settings() == "T 1.0 · top-p 0.9 · seed model, step 800"


def test_a_directory_is_an_unreadable_file_not_a_corrupt_one(tmp_path: Path) -> None:
    (tmp_path / "favourites.json").mkdir()
    with pytest.raises(FavouritesError) as info:
        FavouritesStore.load(tmp_path / "favourites.json")
    assert not isinstance(info.value, FavouritesCorrupt)
