"""Model and training configurations, and the named presets that combine them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Positions = Literal["sinusoidal", "learned"]
Activation = Literal["relu", "gelu"]
Init = Literal["torch", "gpt2"]
DEFAULT_PRESET = "auto"
# A model with kinds also adds each kind's offset at every position (ModelConfig.kind_gain):
# through its start token alone a kind barely changed the names (docs/auto.md, "Kinds").
KIND_GAIN = 30.0


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a MiniGPT2. `vocab_size` and `block_size` come from the data."""

    vocab_size: int = 0
    block_size: int = 0  # longest sequence the positions cover: longest word + BOS + EOS
    n_layer: int = 1
    n_head: int = 1
    d_model: int = 32
    positions: Positions = "sinusoidal"
    activation: Activation = "relu"
    mlp_ratio: int = 1  # FFN width = mlp_ratio * d_model (the article: 1, GPT-2: 4)
    bias: bool = False  # biases in the linear layers (LayerNorm always has one)
    final_norm: bool = False  # GPT-2's extra LayerNorm after the last block
    dropout: float = 0.0
    init: Init = (
        "torch"  # "torch": PyTorch defaults, as the article; "gpt2": N(0, 0.02), scaled residuals
    )
    # A model with categories: every position's input also gets kind_gain x (its name's start
    # token's row - BOS's row), so the kind reaches every letter directly, not only through
    # attention to the first position. 0: the start token alone (models saved before).
    kind_gain: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.kind_gain) and self.kind_gain >= 0):
            raise ValueError(f"kind_gain must be 0 or more (got {self.kind_gain})")
        if self.d_model % self.n_head:
            raise ValueError(f"d_model {self.d_model} is not divisible by n_head {self.n_head}")
        if self.positions == "sinusoidal" and self.d_model % 2:
            raise ValueError("sinusoidal positions need an even d_model")


@dataclass(frozen=True)
class TrainConfig:
    """How long and how to train. Exactly one of epochs, steps, time_budget_s bounds the run;
    if several are set, training stops at whichever comes first."""

    epochs: int | None = 100
    steps: int | None = None
    time_budget_s: float | None = None
    batch_size: int = 16
    lr: float = 1e-3
    lr_schedule: Literal["constant", "cosine"] = "constant"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    grad_clip: float | None = None
    seed: int = 42
    device: str = "auto"
    threads: int | None = None  # torch CPU threads; None = device.default_threads
    eval_interval: int | None = None  # steps between validations; None = an epoch, at most 200
    patience: int | None = None  # stop after this many validations without a new best
    # Whatever the bound, end here: on a small list more epochs only overfit (auto sets it).
    epoch_cap: int | None = None
    # Start from the weights in assets/prior.safetensors (core/train/prior.py): auto's small lists.
    prior: bool = False
    sample_interval_s: float = 5.0  # seconds between "samples" events (0 disables them)
    cuda_graphs: bool = True  # on CUDA, replay the step as one graph (core/train/graphs.py)
    event_interval_s: float = 0.1  # least seconds between "progress" events

    def updated(self, **changes: Any) -> TrainConfig:
        """A copy with the given fields changed; None values leave a field as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def bounded(self, **bound: Any) -> TrainConfig:
        """A copy bounded only by the given limit (epochs, steps or time_budget_s), if any. A
        time budget keeps the epoch cap (time is an upper limit, the cap the list's own); an
        explicit step or epoch count replaces it."""
        given = {k for k, v in bound.items() if v is not None}
        if not given:
            return self
        cap = self.epoch_cap if given == {"time_budget_s"} else None
        cleared = {"epochs": None, "steps": None, "time_budget_s": None, "epoch_cap": cap}
        return replace(self, **{**cleared, **bound})


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    model: ModelConfig
    train: TrainConfig = field(default_factory=TrainConfig)


_DEFAULT = Preset(
    "default",
    "Two GPT-2 blocks 64 wide with 4 heads, learned positions, GELU 4x MLP, final "
    "LayerNorm, dropout 0.3; AdamW 3e-3, cosine, batch 32, 40 epochs.",
    ModelConfig(
        n_layer=2,
        n_head=4,
        d_model=64,
        positions="learned",
        activation="gelu",
        mlp_ratio=4,
        final_norm=True,
        dropout=0.3,  # ~1,200 training words: regularisation beats capacity
        init="gpt2",
    ),
    TrainConfig(
        epochs=40,
        batch_size=32,
        lr=3e-3,
        lr_schedule="cosine",
        warmup_steps=100,
        weight_decay=0.1,
    ),
)
_LARGE = replace(
    _DEFAULT,
    name="large",
    description="GPT-2 in miniature: 4 layers, 4 heads, d_model 128, dropout 0.1, otherwise "
    "as `default`; AdamW 1e-3, batch 64, 50 epochs; for large word lists and a GPU.",
    model=replace(_DEFAULT.model, n_layer=4, d_model=128, dropout=0.1),
    train=replace(
        _DEFAULT.train, epochs=50, batch_size=64, lr=1e-3, warmup_steps=200, grad_clip=1.0
    ),
)



# --- auto: a model fitted to the list and the budget --------------------------------------


@dataclass(frozen=True)
class AutoRow:
    """One row of auto's rule: the model and recipe for lists up to `max_tokens`."""

    max_tokens: float  # training tokens (characters + one end token per word)
    n_layer: int
    d_model: int
    dropout: float
    weight_decay: float
    batch_size: int
    epoch_cap: int | None  # past this, validation loss on such a list only rises
    prior: bool = False  # start from assets' prior (then the model has the prior's shape)


# A small list learns most from a head start, the prior (core/train/prior.py), with a gentle
# rate and a few epochs; a large list wants width and little regularisation, from scratch:
# weight decay alone, as dropout's masks slow a CPU step as much as they help (docs/auto.md).
AUTO_RULE: tuple[AutoRow, ...] = (
    AutoRow(6_000, 2, 64, 0.2, 0.1, 32, 10, prior=True),
    AutoRow(15_000, 2, 64, 0.2, 0.1, 32, 30, prior=True),
    AutoRow(60_000, 2, 64, 0.2, 0.1, 32, None, prior=True),
    AutoRow(math.inf, 1, 96, 0.0, 0.3, 64, None),
)
# A large list given AUTO_LONG_STEPS or more affords a second block, which overfits without
# dropout, and then wants less weight decay (docs/auto.md).
AUTO_LONG_ROW = AutoRow(math.inf, 2, 96, 0.1, 0.1, 64, None)
AUTO_LR = 3e-3
AUTO_LR_FROM_PRIOR = 1e-3  # gentler: at AUTO_LR a run forgets what it starts with (docs/auto.md)
AUTO_BUDGET_S = 30.0  # auto's own bound when the user gives none
AUTO_STEP_S = {"cpu": 0.003, "cuda": 0.0005}  # a step's rough cost, to turn seconds into steps
AUTO_BATCH = 32  # the batch that turns an epoch bound into steps, before auto has chosen
AUTO_LONG_STEPS = 30_000  # this many steps or more: a large list affords a second block
AUTO_MODEL = replace(_DEFAULT.model, n_layer=1, d_model=64, dropout=0.0)
PRIOR_MODEL = replace(AUTO_MODEL, n_layer=2, dropout=0.1)  # the shape of assets' prior
# The characters the prior was trained on (makemore's names.txt; a test reads them from
# assets/prior.safetensors). A character it never saw starts from a fresh row, and its other
# weights know nothing of such a character: a list written mostly in other letters (Greek,
# Cyrillic, a mix of alphabets) learns as much or more from scratch, and for longer than the
# prior's cap allows. One block learns it as well as two at equal steps, in half the time
# (docs/auto.md).
PRIOR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz")
AUTO_PRIOR_KNOWN = 0.8  # least share of a list's characters the prior must know to start it
AUTO_NEW_ALPHABET_CAP = 40  # epochs, from scratch: where such lists came out best (docs/auto.md)


def resolve_auto(
    n_train_tokens: int,
    budget_s: float | None = None,
    device: str = "cpu",
    prior_known: float = 1.0,
) -> Preset:
    """The model and recipe auto chooses for this many training tokens and seconds, on a list
    of whose characters (counted with repeats) the prior knows the share `prior_known`.
    Torch-free, so a UI can show the choice before training starts."""
    budget = budget_s or AUTO_BUDGET_S
    steps = budget / AUTO_STEP_S.get(device.split(":")[0], AUTO_STEP_S["cpu"])
    row = next(r for r in AUTO_RULE if n_train_tokens <= r.max_tokens)
    if row.max_tokens == math.inf and steps >= AUTO_LONG_STEPS:
        row = AUTO_LONG_ROW
    new_alphabet = row.prior and prior_known < AUTO_PRIOR_KNOWN
    if new_alphabet:
        longer = row.epoch_cap and max(row.epoch_cap, AUTO_NEW_ALPHABET_CAP)
        row = replace(row, n_layer=1, epoch_cap=longer, prior=False)
    n_layer, dropout = row.n_layer, row.dropout
    model = replace(AUTO_MODEL, n_layer=n_layer, d_model=row.d_model, dropout=dropout)
    # About four epochs (at ~8 tokens a word), whatever the budget: the same start for 10 s
    # and 120 s, as a small list is at its best a few hundred steps in.
    warmup = int(min(200, max(20, n_train_tokens / (2 * row.batch_size))))
    lr = AUTO_LR_FROM_PRIOR if row.prior else AUTO_LR
    train = TrainConfig(
        epochs=None,
        time_budget_s=AUTO_BUDGET_S,
        batch_size=row.batch_size,
        lr=lr,
        lr_schedule="cosine",
        warmup_steps=warmup,
        weight_decay=row.weight_decay,
        epoch_cap=row.epoch_cap,
        prior=row.prior,
    )
    cap = f", at most {row.epoch_cap} epochs" if row.epoch_cap else ""
    start = "; starts from the prior" if row.prior else ""
    if new_alphabet:
        start = f"; from scratch: the prior knows {prior_known:.0%} of the list's characters"
    rate = f"{lr:.0e}".replace("e-0", "e-")  # 1e-3, not 1e-03
    description = (
        f"auto for {n_train_tokens:,} training tokens, {budget:g} s: {n_layer} GPT-2 "
        f"block{'s' * (n_layer > 1)} {row.d_model} wide, 4 heads, dropout {dropout:g}; "
        f"AdamW {rate} (decay {row.weight_decay:g}), batch {row.batch_size}, "
        f"{warmup} warm-up steps, cosine{cap}{start}; best weights kept"
    )
    return Preset("auto", description, model, train)


AUTO = replace(
    resolve_auto(40_000),
    description="Fitted to the word list and the time: model size, dropout, weight decay and "
    "batch size by the number of training tokens; 30 s unless bounded; best weights kept.",
)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        AUTO,
        Preset(
            "seed",
            "The article's MiniGPT2: 1 layer, 1 head, d_model 32, sinusoidal positions, "
            "ReLU FFN of width 32, no biases, no final LayerNorm; Adam 1e-3, batch 16, 100 epochs.",
            ModelConfig(),
            TrainConfig(epochs=100, batch_size=16, lr=1e-3),
        ),
        _DEFAULT,
        _LARGE,
    )
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def with_data_shape(model: ModelConfig, vocab_size: int, block_size: int) -> ModelConfig:
    return replace(model, vocab_size=vocab_size, block_size=block_size)
