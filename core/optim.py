"""The optimizer every preset uses."""

from __future__ import annotations

import torch

from .config import TrainConfig
from .model import MiniGPT2


def make_optimizer(
    model: MiniGPT2, config: TrainConfig, capturable: bool = False
) -> torch.optim.Optimizer:
    """AdamW with decay on matrices only (the article's Adam when weight_decay is 0); fused
    kernels where the device has them, else the multi-tensor path."""
    params = list(model.parameters())
    groups: list[dict] = [{"params": params}]  # one group = one fused kernel call per step
    if config.weight_decay:
        groups = [
            {"params": [p for p in params if p.dim() >= 2]},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
    try:
        return torch.optim.AdamW(
            groups,
            lr=config.lr,
            weight_decay=config.weight_decay,
            fused=True,
            capturable=capturable,
        )
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(
            groups, lr=config.lr, weight_decay=config.weight_decay, foreach=True
        )


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):  # a CUDA graph reads it on the device
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr
