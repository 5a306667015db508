"""The optimizer every preset uses: AdamW, decaying matrices only (the article's Adam when
weight_decay is 0).

On the CPU and on CUDA without graphs, `FusedAdamW` runs torch's own fused AdamW kernel
without building a `torch.optim.Optimizer`: that class's first constructor imports
torch._dynamo and sympy, about 70 MB the app never uses (docs/benchmarks.md). Same kernel,
same arithmetic, same state_dict format, so checkpoints move freely between the two. CUDA
graphs need torch's capturable AdamW, and other devices its multi-tensor path.
"""

from __future__ import annotations

from typing import Any

import torch
from minigpt2.core.config import TrainConfig
from minigpt2.core.model import MiniGPT2
from torch import Tensor

BETAS = (0.9, 0.999)  # torch's defaults, as the article's Adam used
EPS = 1e-8
HYPERPARAMETERS = ("lr", "betas", "eps", "weight_decay")  # what a state_dict carries over
FUSED_DEVICES = ("cpu", "cuda")  # where torch._fused_adamw_ has a kernel for float32


class FusedAdamW:
    """torch.optim.AdamW(fused=True) for parameters on one device, through the same kernel."""

    def __init__(self, groups: list[dict[str, Any]], lr: float, weight_decay: float) -> None:
        defaults = {"lr": lr, "betas": BETAS, "eps": EPS, "weight_decay": weight_decay}
        self.param_groups = [{**defaults, **group} for group in groups]
        self.state: dict[Tensor, dict[str, Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self._params():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            slots = [self._slots(p) for p in params]
            steps = [s["step"] for s in slots]
            torch._foreach_add_(steps, 1)  # the kernel reads the step count, never bumps it
            beta1, beta2 = group["betas"]
            torch._fused_adamw_(
                params,
                [p.grad for p in params],
                [s["exp_avg"] for s in slots],
                [s["exp_avg_sq"] for s in slots],
                [],  # no amsgrad
                steps,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                amsgrad=False,
                maximize=False,
            )

    def state_dict(self) -> dict[str, Any]:
        """torch.optim's layout: slots keyed by the parameter's index across all groups."""
        index = {p: i for i, p in enumerate(self._params())}
        return {
            "state": {index[p]: dict(slots) for p, slots in self.state.items()},
            "param_groups": [
                {
                    **{k: v for k, v in g.items() if k != "params"},
                    "params": [index[p] for p in g["params"]],
                }
                for g in self.param_groups
            ],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Takes this class's state_dict or torch.optim.AdamW's (other keys are ignored)."""
        saved = state_dict["param_groups"]
        if [len(g["params"]) for g in saved] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError("the optimizer state does not match the model's parameters")
        for group, old in zip(self.param_groups, saved, strict=True):
            group.update({key: old[key] for key in HYPERPARAMETERS})
            group["betas"] = tuple(group["betas"])  # a list, once through JSON
        params = self._params()
        self.state = {}
        for index, slots in state_dict["state"].items():
            p = params[int(index)]
            self.state[p] = {
                "step": torch.as_tensor(slots["step"], dtype=torch.float32).to(p.device).clone(),
                "exp_avg": slots["exp_avg"].to(p).clone(),
                "exp_avg_sq": slots["exp_avg_sq"].to(p).clone(),
            }

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def _slots(self, p: Tensor) -> dict[str, Tensor]:
        if p not in self.state:
            self.state[p] = {
                "step": torch.zeros((), dtype=torch.float32, device=p.device),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
        return self.state[p]


Optimizer = FusedAdamW | torch.optim.Optimizer


def make_optimizer(model: MiniGPT2, config: TrainConfig, capturable: bool = False) -> Optimizer:
    params = list(model.parameters())
    groups: list[dict[str, Any]] = [{"params": params}]  # one group = one kernel call a step
    if config.weight_decay:
        groups = [
            {"params": [p for p in params if p.dim() >= 2]},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
    device = params[0].device.type
    if device in FUSED_DEVICES and not capturable:
        return FusedAdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    if capturable:
        return torch.optim.AdamW(
            groups, lr=config.lr, weight_decay=config.weight_decay, fused=True, capturable=True
        )
    return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay, foreach=True)


def load_optimizer_state(optimizer: Optimizer, state: dict[str, Any]) -> None:
    """The saved numbers (rates, moments, step counts) under this optimizer's own mode (fused,
    capturable...): a run saved on the CPU resumes under CUDA graphs, and the other way."""
    modes = [
        {k: v for k, v in g.items() if k not in HYPERPARAMETERS} for g in optimizer.param_groups
    ]
    optimizer.load_state_dict(state)
    for group, mode in zip(optimizer.param_groups, modes, strict=True):
        group.update(mode)


def set_lr(optimizer: Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        if isinstance(group["lr"], Tensor):  # a CUDA graph reads it on the device
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr
