from __future__ import annotations

from pathlib import Path

import pytest
import torch
from minigpt2.core.config import ModelConfig, TrainConfig, get_preset
from minigpt2.core.data.dataset import WordData
from minigpt2.core.train.trainer import Trainer

WORDS = """cat caracal capybara canary cavy caiman cacomistle caribou cassowary caterpillar dog
dingo donkey dolphin dormouse apple apricot avocado artichoke banana bilberry blackberry
blueberry boysenberry breadfruit cantaloupe casaba cherry coconut cranberry date durian
elderberry fig grape guava kiwi lemon lime lychee mango melon nectarine olive orange papaya
peach pear pineapple plum pomegranate quince raspberry strawberry tangerine tomato walnut""".split()

TINY = ModelConfig(
    n_layer=2,
    n_head=2,
    d_model=16,
    positions="learned",
    activation="gelu",
    mlp_ratio=4,
    final_norm=True,
    init="gpt2",
)


@pytest.fixture
def tiny() -> ModelConfig:
    """Two layers and two heads, so tests exercise stacking and head splitting."""
    return TINY


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def words_file(tmp_path: Path) -> Path:
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def data() -> WordData:
    return WordData.from_words(WORDS[:48], WORDS[48:], "test")


@pytest.fixture(scope="session")
def trained_path(tmp_path_factory: pytest.TempPathFactory, device: str) -> Path:
    """A seed-preset model trained enough to have learned the word shapes."""
    torch.set_num_threads(1)
    data = WordData.from_words(WORDS[:48], WORDS[48:], "test")
    preset = get_preset("seed")
    trainer = Trainer(
        data, preset.model, TrainConfig(epochs=150, batch_size=16, lr=3e-3, device=device)
    )
    trainer.run()
    path = tmp_path_factory.mktemp("ckpt") / "trained.safetensors"
    trainer.save(path)
    return path
