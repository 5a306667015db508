"""A checkpoint whose metadata lies about its model is refused in one line, before any
tensor is read or any model built. The lies are the shipped model's file with its metadata
rewritten, as a damaged or crafted file would be."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from minigpt2.core import checkpoint
from minigpt2.core.checkpoint import CheckpointError, load_checkpoint
from minigpt2.core.checkpoint_header import parameter_shapes, read_header
from minigpt2.core.config import ModelConfig
from minigpt2.core.data.words import default_checkpoint_path
from minigpt2.core.model import MiniGPT2
from minigpt2.core.sample.numpy_model import load_numpy_checkpoint

SHIPPED = default_checkpoint_path()

LIES: dict[str, tuple[dict[str, Any], str]] = {  # config changes, and what the refusal says
    "a million wide, a thousand layers": ({"d_model": 1_000_000, "n_layer": 1000},
                                          "claims 1,000 layers"),
    "a block of 10^9 positions": ({"block_size": 10**9}, "block size 1,000,000,000"),
    "4096 wide, 24 layers": ({"d_model": 4096, "n_layer": 24}, "claims 24 layers"),
    "4096 wide": ({"d_model": 4096, "n_head": 4}, "tok_emb.weight: 31×4,096 by the config"),
    "zero heads": ({"n_head": 0}, "n_head is 0"),
    "a fractional width": ({"d_model": 64.5}, "d_model is 64.5"),
    "an unknown position kind": ({"positions": "rotary"}, "positions is 'rotary'"),
}


def lying_copy(tmp_path: Path, config: dict[str, Any] | None = None,
               **metadata: str) -> Path:
    """The shipped model with `config` merged into its model config and `metadata` set."""
    data = SHIPPED.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    meta = header["__metadata__"]
    meta["model_config"] = json.dumps(json.loads(meta["model_config"]) | (config or {}))
    meta |= metadata
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)  # safetensors aligns the data to 8 bytes
    path = tmp_path / "lying.safetensors"
    path.write_bytes(len(encoded).to_bytes(8, "little") + encoded + data[8 + length :])
    return path


def shipped_vocab() -> tuple[list[str], int]:
    """The shipped model's characters and its vocabulary size (with the special tokens)."""
    meta = read_header(SHIPPED.read_bytes())[0]
    return json.loads(meta["vocab"]), json.loads(meta["model_config"])["vocab_size"]


@pytest.fixture
def nothing_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a lying file gets as far as reading tensors or building a model."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("read tensors or built a model from a lying config")

    monkeypatch.setattr(checkpoint, "load_safetensors", refuse)
    monkeypatch.setattr(MiniGPT2, "__init__", refuse)


def test_the_unaltered_copy_loads(tmp_path: Path) -> None:
    """The rewriting itself keeps the file good: the refusals below are the lies'."""
    ckpt = load_checkpoint(lying_copy(tmp_path))
    assert ckpt.build_model().num_params() > 0


@pytest.mark.parametrize("lie", LIES)
def test_a_config_its_tensors_contradict_is_refused_before_anything_is_built(
    tmp_path: Path, lie: str, nothing_built: None
) -> None:
    config, said = LIES[lie]
    with pytest.raises(CheckpointError, match="lying.safetensors") as refused:
        load_checkpoint(lying_copy(tmp_path, config))
    assert said in str(refused.value) and "\n" not in str(refused.value)


def test_a_vocabulary_size_its_embedding_contradicts_is_refused(tmp_path: Path,
                                                               nothing_built: None) -> None:
    """Metadata vocabulary and config agree with each other (one more character), not with
    the embedding's rows."""
    chars, size = shipped_vocab()
    path = lying_copy(tmp_path, {"vocab_size": size + 1}, vocab=json.dumps([*chars, "\u00e9"]))
    with pytest.raises(CheckpointError,
                       match=r"tok_emb\.weight: 32×64 by the config, 31×64 in the file"):
        load_checkpoint(path)


def test_a_vocabulary_the_config_contradicts_is_refused(tmp_path: Path,
                                                        nothing_built: None) -> None:
    chars, _ = shipped_vocab()
    with pytest.raises(CheckpointError, match="vocabulary of 32 tokens does not match the "
                                              "model's 31"):
        load_checkpoint(lying_copy(tmp_path, vocab=json.dumps([*chars, "\u00e9"])))


@pytest.mark.cli
def test_the_cli_refuses_a_lying_file_in_one_line(tmp_path: Path) -> None:
    path = lying_copy(tmp_path, {"d_model": 1_000_000, "n_layer": 1000})
    result = subprocess.run(
        [sys.executable, "-m", "minigpt2.core.cli", "sample", "--checkpoint", str(path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "claims 1,000 layers" in result.stderr


@pytest.mark.parametrize("config", [
    ModelConfig(vocab_size=7, block_size=5),
    ModelConfig(vocab_size=31, block_size=16, n_layer=3, n_head=4, d_model=24,
                positions="learned", mlp_ratio=4, bias=True, final_norm=True, init="gpt2"),
])
def test_the_shapes_listed_are_the_models_own(config: ModelConfig) -> None:
    model = MiniGPT2(config)
    assert parameter_shapes(config) == {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("lie", LIES)
def test_the_torch_free_loader_refuses_the_same_lies(tmp_path: Path, lie: str) -> None:
    """The app's first names come from numpy (core/sample/numpy_model.py) before torch has loaded:
    its loader must refuse a lying file as load_checkpoint does, before reading a tensor."""
    config, said = LIES[lie]
    with pytest.raises(ValueError, match=re.escape(said)):
        load_numpy_checkpoint(lying_copy(tmp_path, config))
