from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from minigpt2.core.files import atomic_write_text


def test_writes_and_replaces_keeping_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    atomic_write_text(path, "one")
    assert path.read_text() == "one" and path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o751)  # every permission class differs, so no bit can be dropped unseen
    atomic_write_text(path, "two")
    assert path.read_text() == "two" and path.stat().st_mode & 0o777 == 0o751
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


WRITER = """
import sys
from minigpt2.core.files import atomic_write_bytes

path, size = sys.argv[1], int(sys.argv[2])
for i in range(10**9):
    atomic_write_bytes(path, bytes([65 + i % 2]) * size)  # all A, then all B, ...
    print(i, flush=True)
"""


def test_a_kill_mid_write_leaves_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    """kill -9 a process that rewrites a 4 MB file in a loop: whenever it dies, the file is
    one whole version, never a mix or a truncation."""
    path, size = tmp_path / "f.bin", 4 * 2**20
    for writes_before_kill in (1, 3, 7):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(size)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for _ in range(writes_before_kill):  # wait on completed writes, not on time
            assert proc.stdout.readline(), "the writer died early"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = path.read_bytes()
        assert len(data) == size and data in (b"A" * size, b"B" * size)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "f.bin"]
    assert all(name.endswith(".tmp") for name in leftovers)  # a killed write leaves a temp


def test_a_checkpoint_save_that_fails_part_way_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from minigpt2.core import files as io
    from minigpt2.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
    from minigpt2.core.config import ModelConfig
    from minigpt2.core.data.vocab import Vocab

    vocab = Vocab("ab")
    config = ModelConfig(vocab_size=vocab.size, block_size=4)
    from minigpt2.core.model import MiniGPT2

    def checkpoint(step: int) -> Checkpoint:
        state = MiniGPT2(config).state_dict()
        return Checkpoint(config, vocab, ["ab"], ["ba"], state, step=step)

    path = tmp_path / "m.safetensors"
    save_checkpoint(path, checkpoint(1))

    def crash(fd: int) -> None:  # the data is written, the disk fails before it is safe
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(io.os, "fsync", crash)
    with pytest.raises(OSError, match="Input/output"):
        save_checkpoint(path, checkpoint(2))
    assert load_checkpoint(path).step == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
