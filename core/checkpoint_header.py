"""What a checkpoint file claims, checked against itself before anything is built.

A safetensors file opens with an 8-byte little-endian length and a JSON header that gives
every tensor's shape and the metadata (here: the model's config). A damaged or crafted file
can claim a config its tensors do not have: a million-wide model, a block of 10^9 positions.
Building the model from such a config would allocate terabytes, so the config is checked
against the shapes in the header, and against sane bounds, before any tensor is read.

Torch-free: parameter_shapes() restates the model's layout in plain numbers
(tests/core/test_checkpoint_header.py holds it to core/model.py's real state_dict).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from minigpt2.core.config import ModelConfig
from minigpt2.core.data.vocab import MAX_WORD_LENGTH, framed_length

Shape = tuple[int, ...]
HEADER_LENGTH_BYTES = 8
MAX_BLOCK_SIZE = framed_length(MAX_WORD_LENGTH)  # no list holds a longer word
INT_FIELDS = ("vocab_size", "block_size", "n_layer", "n_head", "d_model", "mlp_ratio")
CHOICES = {"positions": ("sinusoidal", "learned"), "activation": ("relu", "gelu"),
           "init": ("torch", "gpt2")}


def read_header(data: bytes) -> tuple[dict[str, str], dict[str, Shape]]:
    """The metadata and each tensor's shape, from the header alone. Raises ValueError."""
    length = int.from_bytes(data[:HEADER_LENGTH_BYTES], "little")
    if len(data) < HEADER_LENGTH_BYTES or HEADER_LENGTH_BYTES + length > len(data):
        raise ValueError("the header runs past the end of the file")
    header = json.loads(data[HEADER_LENGTH_BYTES : HEADER_LENGTH_BYTES + length])
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    shapes = {name: tuple(entry["shape"]) for name, entry in header.items()}
    return dict(metadata), shapes


def model_config(claimed: dict[str, Any]) -> ModelConfig:
    """A ModelConfig from a file's claims (absent fields: their defaults), within sane bounds.
    Raises ValueError."""
    values = asdict(ModelConfig()) | claimed
    for name in INT_FIELDS:
        value = values.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"the config's {name} is {value!r}, not a whole number above 0")
    for name, choices in CHOICES.items():
        if name in values and values[name] not in choices:
            raise ValueError(f"the config's {name} is {values[name]!r}, not one of {choices}")
    if not isinstance(values["dropout"], (int, float)) or not 0 <= values["dropout"] < 1:
        raise ValueError(f"the config's dropout is {values['dropout']!r}, not in [0, 1)")
    if values["block_size"] > MAX_BLOCK_SIZE:
        raise ValueError(f"the config's block size {values['block_size']:,} is over the "
                         f"{MAX_BLOCK_SIZE} positions of the longest word a list may hold")
    if values["d_model"] % values["n_head"]:
        raise ValueError(f"the config's width {values['d_model']} does not split into "
                         f"{values['n_head']} heads")
    return ModelConfig(**values)


def check_shapes(config: ModelConfig, shapes: dict[str, Shape], what: str = "weights") -> None:
    """Raise ValueError unless `shapes` are exactly those of a model built from `config`."""
    layers = len({name.split(".")[1] for name in shapes if name.startswith("blocks.")})
    if config.n_layer != layers:  # first: listing a million layers' shapes would take long
        raise ValueError(f"its config claims {config.n_layer:,} layers, its {what} hold {layers}")
    expected = parameter_shapes(config)
    for name in [*expected, *sorted(shapes.keys() - expected.keys())]:  # the model's order
        claimed, found = expected.get(name), shapes.get(name)
        if claimed != found:
            raise ValueError(
                f"its config does not match its {what} ({name}: "
                f"{_shape(claimed, 'none')} by the config, {_shape(found, 'none')} in the file)")


def parameter_shapes(config: ModelConfig) -> dict[str, Shape]:
    """The state_dict shapes of MiniGPT2(config), computed without building it."""
    d, hidden = config.d_model, config.mlp_ratio * config.d_model
    shapes: dict[str, Shape] = {"tok_emb.weight": (config.vocab_size, d)}
    if config.positions == "learned":
        shapes["pos_emb.weight"] = (config.block_size, d)
    layer = {"ln_1.weight": (d,), "ln_1.bias": (d,), "ln_2.weight": (d,), "ln_2.bias": (d,),
             "attn.qkv.weight": (3 * d, d), "attn.proj.weight": (d, d),
             "mlp.fc.weight": (hidden, d), "mlp.proj.weight": (d, hidden)}
    if config.bias:
        layer |= {"attn.qkv.bias": (3 * d,), "attn.proj.bias": (d,),
                  "mlp.fc.bias": (hidden,), "mlp.proj.bias": (d,)}
    for i in range(config.n_layer):
        shapes |= {f"blocks.{i}.{name}": shape for name, shape in layer.items()}
    if config.final_norm:
        shapes |= {"ln_f.weight": (d,), "ln_f.bias": (d,)}
    return shapes


def _shape(shape: Shape | None, absent: str) -> str:
    return absent if shape is None else "×".join(f"{n:,}" for n in shape) or "scalar"
