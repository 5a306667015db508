from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from minigpt2.core.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_weights,
    save_checkpoint,
)
from minigpt2.core.config import ModelConfig, TrainConfig
from minigpt2.core.data.dataset import WordData
from minigpt2.core.train.trainer import Trainer

# Both loaders refuse the same files: load_weights reads the model as load_checkpoint does.
LOADERS = pytest.mark.parametrize("load", [load_checkpoint, load_weights],
                                  ids=["checkpoint", "weights"])
Load = Callable[[Path], object]


@pytest.fixture
def saved(tmp_path: Path, data: WordData, tiny: ModelConfig, device: str) -> tuple[Trainer, Path]:
    trainer = Trainer(data, tiny, TrainConfig(epochs=2, batch_size=8, device=device), preset="tiny")
    trainer.run()
    path = tmp_path / "model.safetensors"
    trainer.save(path)
    return trainer, path


def test_round_trip_keeps_everything(saved: tuple[Trainer, Path]) -> None:
    trainer, path = saved
    ckpt = load_checkpoint(path)
    assert ckpt.model_config == trainer.model_config
    assert ckpt.vocab == trainer.data.vocab
    assert (ckpt.train_words, ckpt.val_words) == (trainer.data.train_words, trainer.data.val_words)
    assert ckpt.step == trainer.step and ckpt.preset == "tiny" and len(ckpt.history) == 2
    model = ckpt.build_model(trainer.device)
    for name, weight in trainer.model.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], weight)
    assert ckpt.optimizer_state is not None and len(ckpt.optimizer_state["state"]) > 0


def test_load_weights_reads_the_model_alone(saved: tuple[Trainer, Path]) -> None:
    _, path = saved
    ckpt, weights = load_checkpoint(path), load_weights(path)
    assert (weights.model_config, weights.vocab) == (ckpt.model_config, ckpt.vocab)
    assert weights.model_state.keys() == ckpt.model_state.keys()
    for name, weight in ckpt.model_state.items():
        assert torch.equal(weights.model_state[name], weight)


def test_no_temporary_files_are_left_behind(saved: tuple[Trainer, Path]) -> None:
    _, path = saved
    assert [p.name for p in path.parent.iterdir()] == [path.name]


@LOADERS
@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_files_are_refused_clearly(saved: tuple[Trainer, Path], damage: str,
                                           load: Load) -> None:
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"\x00" * 64 + data[64:], "empty": b""}[
            damage
        ]
    )
    with pytest.raises(CheckpointError, match=str(path.name)):
        load(path)


@LOADERS
def test_a_safetensors_file_that_is_not_ours_is_refused(tmp_path: Path, load: Load) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not a minigpt2 checkpoint"):
        load(path)


@LOADERS
def test_mismatched_weights_are_refused(saved: tuple[Trainer, Path], load: Load) -> None:
    trainer, path = saved
    ckpt = load_checkpoint(path)
    ckpt.model_state["tok_emb.weight"] = torch.zeros(3, 3)
    save_checkpoint(path, ckpt)
    with pytest.raises(CheckpointError, match="config does not match its weights"):
        load(path)  # at load, before any model is built


@LOADERS
def test_mismatched_vocabulary_is_refused(saved: tuple[Trainer, Path], load: Load) -> None:
    _, path = saved
    ckpt = load_checkpoint(path)
    ckpt.vocab.chars.append("\u2603")  # metadata now disagrees with the model's vocab_size
    ckpt.vocab.tokens.append("\u2603")
    save_checkpoint(path, ckpt)
    with pytest.raises(CheckpointError, match="vocabulary"):
        load(path)


@LOADERS
def test_missing_file(tmp_path: Path, load: Load) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load(tmp_path / "none.safetensors")


def test_metadata_is_plain_json_not_code(saved: tuple[Trainer, Path]) -> None:
    _, path = saved
    data = path.read_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    assert json.loads(header["__metadata__"]["model_config"])["d_model"] == 16


def test_a_checkpoint_keeps_the_best_weights_and_what_resuming_needs(
    saved: tuple[Trainer, Path],
) -> None:
    trainer, path = saved
    ckpt = load_checkpoint(path)
    assert (ckpt.best_step, ckpt.best_val_loss) == (trainer.best.step, trainer.best.val_loss)
    assert ckpt.best_val_loss == min(h["val_loss"] for h in ckpt.history)
    assert torch.equal(ckpt.rng_state["cpu"], trainer.snapshot().rng_state["cpu"])


def test_a_checkpoint_without_best_weights_or_rng_state_still_loads(
    saved: tuple[Trainer, Path],
) -> None:
    """Checkpoints written before best weights and generator states were kept."""
    _, path = saved
    ckpt = load_checkpoint(path)
    ckpt.best_step = ckpt.best_val_loss = None
    ckpt.rng_state, ckpt.resume_state = {}, None
    save_checkpoint(path, ckpt)
    old = load_checkpoint(path)
    assert old.best_step is None and old.rng_state == {} and old.resume_state is None
    assert Trainer.from_checkpoint(old, TrainConfig(epochs=3, batch_size=8)).run().steps == 18
