"""One safe checkpoint format: a safetensors file whose JSON metadata holds the config,
vocabulary, word split and training state. Loading it never executes code."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import torch
from minigpt2.core.checkpoint_header import check_shapes, read_header
from minigpt2.core.checkpoint_header import model_config as checked_model_config
from minigpt2.core.config import ModelConfig, TrainConfig
from minigpt2.core.data.dataset import WordData
from minigpt2.core.data.vocab import Vocab, in_parts
from minigpt2.core.files import atomic_write_bytes
from minigpt2.core.model import MiniGPT2
from minigpt2.core.train.best import BestWeights
from minigpt2.core.train.optim import Optimizer
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor

FORMAT = "minigpt2/1"
MODEL_PREFIX = "model."
OPTIM_PREFIX = "optim."
RESUME_PREFIX = "resume."  # the live weights, where the model saved is an earlier best
RNG_PREFIX = "rng."  # random generator states (uint8 tensors), so dropout resumes exactly
T = TypeVar("T")
V = TypeVar("V")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and the reason."""


@dataclass
class Checkpoint:
    model_config: ModelConfig
    vocab: Vocab
    train_words: list[str]
    val_words: list[str]
    model_state: dict[str, Tensor]
    train_config: TrainConfig = field(default_factory=TrainConfig)
    step: int = 0
    source: str = ""
    preset: str = ""
    history: list[dict[str, float]] = field(default_factory=list)  # evaluations so far
    optimizer_state: dict[str, Any] | None = None
    # With categories (vocab.categories), each word's category, None = no category.
    train_categories: list[str | None] | None = None
    val_categories: list[str | None] | None = None
    # `model_state` holds the best weights (lowest validation loss, from step `best_step`);
    # a run that went on past them continues from `resume_state`, its last weights.
    resume_state: dict[str, Tensor] | None = None
    rng_state: dict[str, Tensor] = field(default_factory=dict)  # "cpu", "cuda"
    best_step: int | None = None
    best_val_loss: float | None = None

    def build_model(self, device: torch.device | str = "cpu") -> MiniGPT2:
        model = MiniGPT2(self.model_config)
        try:
            model.load_state_dict(self.model_state)
        except RuntimeError as exc:
            first = str(exc).splitlines()[1:2] or [str(exc)]
            raise CheckpointError(f"weights do not match the config: {first[0].strip()}") from None
        return model.to(device)

    def word_data(self) -> WordData:
        """The words the run trained and validated on, with their categories. Raises
        CheckpointError if they do not give back the checkpoint's vocabulary and length."""
        data = WordData.from_words(
            self.train_words,
            self.val_words,
            self.source,
            train_categories=self.train_categories,
            val_categories=self.val_categories,
            categories=self.vocab.categories,
        )
        if data.vocab != self.vocab or data.max_len != self.model_config.block_size:
            raise CheckpointError("its words do not match its vocabulary")
        return data


def cpu_weights(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A copy on the CPU that later training steps cannot change."""
    return {k: v.detach().cpu().clone() for k, v in state.items()}


def cpu_optimizer_state(state: dict) -> dict:
    """An optimizer's state_dict copied to the CPU, with tensor rates (CUDA graphs) as floats."""
    return {
        "state": {
            k: {
                n: t.detach().cpu().clone() if isinstance(t, Tensor) else t
                for n, t in slots.items()
            }
            for k, slots in state["state"].items()
        },
        "param_groups": [
            {k: float(v) if isinstance(v, Tensor) else v for k, v in g.items()}
            for g in state["param_groups"]
        ],
    }


def capture(
    model: torch.nn.Module,
    optimizer: Optimizer,
    best: BestWeights,
    rng: dict[str, Tensor],
    **run: Any,
) -> Checkpoint:
    """A copy of a run that training cannot change: its best weights as the model, and what
    resuming needs (the live weights when they differ, optimizer, RNG); `run` gives the
    other Checkpoint fields."""
    step = run["step"]
    return Checkpoint(
        model_state=cpu_weights(best.weights(model)),
        optimizer_state=cpu_optimizer_state(optimizer.state_dict()),
        resume_state=cpu_weights(best.live(model)) if best.behind(step) else None,
        rng_state={k: v.clone() for k, v in rng.items()},
        best_step=best.step,
        best_val_loss=best.val_loss,
        **run,
    )


def save_checkpoint(path: Path | str, ckpt: Checkpoint) -> None:
    tensors = {MODEL_PREFIX + k: v.detach().cpu().contiguous() for k, v in ckpt.model_state.items()}
    for prefix, extra in ((RESUME_PREFIX, ckpt.resume_state or {}), (RNG_PREFIX, ckpt.rng_state)):
        tensors.update({prefix + k: v.detach().cpu().contiguous() for k, v in extra.items()})
    metadata = {
        "format": FORMAT,
        "model_config": json.dumps(asdict(ckpt.model_config)),
        "train_config": json.dumps(asdict(ckpt.train_config)),
        "vocab": json.dumps(ckpt.vocab.chars),
        "train_words": json_list(ckpt.train_words),
        "val_words": json_list(ckpt.val_words),
        "step": str(ckpt.step),
        "source": ckpt.source,
        "preset": ckpt.preset,
        "history": json.dumps(ckpt.history),
        "best": json.dumps({"step": ckpt.best_step, "val_loss": ckpt.best_val_loss}),
    }
    if ckpt.vocab.categories:
        metadata["categories"] = json.dumps(ckpt.vocab.categories)
        metadata["train_categories"] = json.dumps(ckpt.train_categories)
        metadata["val_categories"] = json.dumps(ckpt.val_categories)
    if ckpt.optimizer_state is not None:
        state = ckpt.optimizer_state["state"]
        for param_id, slots in state.items():
            for slot, value in slots.items():
                tensors[f"{OPTIM_PREFIX}{param_id}.{slot}"] = value.detach().cpu().contiguous()
        metadata["optimizer_groups"] = json.dumps(ckpt.optimizer_state["param_groups"])
    atomic_write_bytes(path, save_safetensors(tensors, metadata))


def json_list(words: list[str]) -> str:
    """json.dumps(words), a part at a time: one call holds the interpreter, and a million
    words kept the app's event loop waiting for a second (an autosave while training)."""
    return "[" + ", ".join(json.dumps(part)[1:-1] for part in in_parts(words)) + "]"


@dataclass(frozen=True)
class Weights:
    """A checkpoint's model alone: its shape, vocabulary and weights (`load_weights`)."""

    model_config: ModelConfig
    vocab: Vocab
    model_state: dict[str, Tensor]


def load_checkpoint(path: Path | str) -> Checkpoint:
    return _load(path, _parse)


def load_weights(path: Path | str) -> Weights:
    """The model in the checkpoint at `path`, checked as `load_checkpoint` checks it, without
    its words and training state (the prior's 28,495 words are 4.6 MB of strings)."""
    return _load(path, lambda data: _parse_model(data)[1])


def _load(path: Path | str, parse: Callable[[bytes], T]) -> T:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return parse(data)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None


def _parse(data: bytes) -> Checkpoint:
    """The checkpoint in `data`."""
    metadata, weights, tensors = _parse_model(data)
    try:
        train_config = TrainConfig(
            **_only_fields(TrainConfig, json.loads(metadata["train_config"]))
        )
        ckpt = Checkpoint(
            model_config=weights.model_config,
            vocab=weights.vocab,
            train_words=list(json.loads(metadata["train_words"])),
            val_words=list(json.loads(metadata["val_words"])),
            model_state=weights.model_state,
            train_config=train_config,
            step=int(metadata["step"]),
            source=metadata.get("source", ""),
            preset=metadata.get("preset", ""),
            history=list(json.loads(metadata.get("history", "[]"))),
            optimizer_state=_optimizer_state(tensors, metadata.get("optimizer_groups")),
            train_categories=json.loads(metadata.get("train_categories", "null")),
            val_categories=json.loads(metadata.get("val_categories", "null")),
            resume_state=_with_prefix(tensors, RESUME_PREFIX) or None,
            rng_state=_with_prefix(tensors, RNG_PREFIX),
        )
        best = json.loads(metadata.get("best", "{}"))
        if best.get("step") is not None:  # older checkpoints have no best weights
            ckpt.best_step, ckpt.best_val_loss = int(best["step"]), float(best["val_loss"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"damaged metadata ({type(exc).__name__}: {exc})") from None
    return ckpt


def _parse_model(data: bytes) -> tuple[dict[str, str], Weights, dict[str, Tensor]]:
    """The metadata, the model and every tensor in `data`. The config is checked against the
    tensor shapes in the header before any tensor is read or any model built
    (checkpoint_header.py)."""
    try:
        metadata, shapes = read_header(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"not a readable safetensors file, corrupt or truncated ({exc})"
        ) from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"not a minigpt2 checkpoint (format {metadata.get('format')!r})")
    try:
        claimed = _only_fields(ModelConfig, json.loads(metadata["model_config"]))
        vocab = Vocab(json.loads(metadata["vocab"]), json.loads(metadata.get("categories", "[]")))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"damaged metadata ({type(exc).__name__}: {exc})") from None
    try:  # before any tensor is read or any model built: the config may claim terabytes
        model_config = checked_model_config(claimed)
        check_shapes(model_config, _with_prefix(shapes, MODEL_PREFIX))
        if resume_shapes := _with_prefix(shapes, RESUME_PREFIX):
            check_shapes(model_config, resume_shapes, "last weights")
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None
    if vocab.size != model_config.vocab_size:
        raise CheckpointError(
            f"vocabulary of {vocab.size} tokens does not match "
            f"the model's {model_config.vocab_size}"
        )
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, OSError) as exc:
        raise CheckpointError(
            f"not a readable safetensors file, corrupt or truncated ({exc})"
        ) from None
    return metadata, Weights(model_config, vocab, _with_prefix(tensors, MODEL_PREFIX)), tensors


def _only_fields(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """Reject unknown keys with a clear error instead of a TypeError deep in a constructor."""
    known = {f.name for f in fields(cls)}
    if unknown := set(values) - known:
        raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}")
    return values


def _with_prefix(tensors: dict[str, V], prefix: str) -> dict[str, V]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _optimizer_state(tensors: dict[str, Tensor], groups_json: str | None) -> dict[str, Any] | None:
    if groups_json is None:
        return None
    state: dict[int, dict[str, Tensor]] = {}
    for key, value in _with_prefix(tensors, OPTIM_PREFIX).items():
        param_id, slot = key.split(".", 1)
        state.setdefault(int(param_id), {})[slot] = value
    return {"state": state, "param_groups": json.loads(groups_json)}
