"""Shared fixtures: a tiny word list, a tiny model trained once per session, an app factory.

Nothing here touches the user's real data directory: every app gets its favourites file,
last model and settings in a temporary directory.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from minigpt2.tui.app import LaunchOptions, MiniGPT2App
from tui_helpers import AppFactory

SYLLABLES = ["an", "na", "el", "la", "ri", "mi", "ko", "sa", "to", "ra", "li", "em", "ma",
             "jo", "lu"]


def syllable_names() -> list[str]:
    """~600 made-up names of 2-3 syllables: a tiny model learns them in a few hundred
    steps, and samples from it often land in the list (so the filter has work to do)."""
    two = {a + b for a, b in itertools.product(SYLLABLES, repeat=2)}
    three = random.Random(0).sample(list(itertools.product(SYLLABLES, repeat=3)), 400)
    return sorted(two | {"".join(t) for t in three})


@pytest.fixture(scope="session")
def word_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "names.txt"
    path.write_text("\n".join(syllable_names()) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, word_file: Path) -> Path:
    """A 1-layer, 2-head model trained for 300 steps at a fixed seed (~2 s)."""
    from minigpt2.core.config import ModelConfig, TrainConfig
    from minigpt2.core.data import WordData
    from minigpt2.core.train import Trainer

    data = WordData.from_source(str(word_file), seed=1)
    model = ModelConfig(n_layer=1, n_head=2, d_model=32, positions="learned")
    # No progress events: their timing decides the train losses the history records, and
    # the snapshot of the Train tab shows that history. The weights are deterministic.
    config = TrainConfig(epochs=None, steps=300, batch_size=32, lr=1e-2, seed=1, threads=1,
                         sample_interval_s=0, event_interval_s=1e9)
    trainer = Trainer(data, model, config, preset="tiny")
    trainer.run()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    trainer.save(path)
    return path


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                     ) -> None:
    """No test reads or writes the user's real data directory (last model, settings)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture
def make_app(tmp_path: Path, tiny_checkpoint: Path) -> AppFactory:
    """An app on the tiny model with its favourites in tmp_path; keywords override."""

    def make(**overrides: object) -> MiniGPT2App:
        options: dict[str, object] = {
            "checkpoint": tiny_checkpoint,
            "favourites": tmp_path / "favourites.json",
            "data_dir": tmp_path / "data",
            "threads": 1,
        }
        options.update(overrides)
        return MiniGPT2App(LaunchOptions(**options))  # type: ignore[arg-type]

    return make
