from __future__ import annotations

import os
from pathlib import Path

import pytest
from minigpt2.core.io import atomic_write_text


def test_writes_and_replaces_keeping_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    atomic_write_text(path, "one")
    assert path.read_text() == "one" and path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    atomic_write_text(path, "two")
    assert path.read_text() == "two" and path.stat().st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["f.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.txt"
    path.write_text("kept")

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(path, "lost")
    assert path.read_text() == "kept"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_text(tmp_path / "no" / "f.txt", "x")
