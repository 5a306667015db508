"""FusedAdamW is torch's fused AdamW without torch.optim's import cost: the same numbers,
the same state_dict, and no torch._dynamo in a process that trains."""

from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest
import torch
from minigpt2.core.config import ModelConfig, TrainConfig
from minigpt2.core.model import MiniGPT2
from minigpt2.core.train.optim import FusedAdamW, load_optimizer_state, make_optimizer


def _model(config: ModelConfig) -> MiniGPT2:
    torch.manual_seed(0)
    return MiniGPT2(replace(config, vocab_size=12, block_size=8))


def _torch_adamw(model: MiniGPT2, decay: float) -> torch.optim.AdamW:
    params = list(model.parameters())
    groups: list[dict[str, Any]] = [
        {"params": [p for p in params if p.dim() >= 2]},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=3e-3, weight_decay=decay, fused=True)


def _train(model: MiniGPT2, optimizer: Any, steps: int, seed: int = 1) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        tokens = torch.randint(1, 12, (4, 8), generator=gen)
        _, loss = model(tokens[:, :-1], tokens[:, 1:])
        assert loss is not None
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def test_its_steps_are_torch_adamw_bit_for_bit(tiny: ModelConfig) -> None:
    ours, theirs = _model(tiny), _model(tiny)
    optimizer = make_optimizer(ours, TrainConfig(lr=3e-3, weight_decay=0.1))
    assert isinstance(optimizer, FusedAdamW)
    _train(ours, optimizer, steps=5)
    _train(theirs, _torch_adamw(theirs, decay=0.1), steps=5)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_rate_change_takes_effect_at_the_next_step(tiny: ModelConfig) -> None:
    ours, theirs = _model(tiny), _model(tiny)
    optimizer, reference = make_optimizer(ours, TrainConfig(lr=3e-3)), _torch_adamw(theirs, 0.0)
    for opt in (optimizer, reference):
        for group in opt.param_groups:
            group["lr"] = 1e-2
    _train(ours, optimizer, steps=2)
    _train(theirs, reference, steps=2)
    assert all(
        torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(), strict=True)
    )


@pytest.mark.parametrize("save_with", ["ours", "torch"])
def test_state_moves_between_it_and_torch_adamw(tiny: ModelConfig, save_with: str) -> None:
    """A checkpoint written by either resumes in the other: the same next steps as going on."""
    config = TrainConfig(lr=3e-3, weight_decay=0.1)
    first = _model(tiny)
    saver = make_optimizer(first, config) if save_with == "ours" else _torch_adamw(first, 0.1)
    _train(first, saver, steps=3)
    saved_weights = {k: v.clone() for k, v in first.state_dict().items()}
    state = copy.deepcopy(saver.state_dict())  # as a checkpoint holds it: a copy

    resumed = _model(tiny)
    resumed.load_state_dict(saved_weights)
    loader = _torch_adamw(resumed, 0.1) if save_with == "ours" else make_optimizer(resumed, config)
    load_optimizer_state(loader, state)
    _train(first, saver, steps=3, seed=2)
    _train(resumed, loader, steps=3, seed=2)
    for a, b in zip(first.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_loading_keeps_the_optimizers_own_mode(tiny: ModelConfig) -> None:
    model = _model(tiny)
    optimizer = _torch_adamw(model, 0.1)
    source = make_optimizer(_model(tiny), TrainConfig(lr=1e-2, weight_decay=0.1))
    load_optimizer_state(optimizer, source.state_dict())
    assert all(g["fused"] is True for g in optimizer.param_groups)  # not the saver's mode
    assert [g["lr"] for g in optimizer.param_groups] == [1e-2, 1e-2]  # the saver's numbers


def test_state_for_other_parameters_is_refused(tiny: ModelConfig) -> None:
    decayed = make_optimizer(_model(tiny), TrainConfig(weight_decay=0.1))  # two groups
    plain = make_optimizer(_model(tiny), TrainConfig(weight_decay=0.0))  # one group
    with pytest.raises(ValueError, match="does not match"):
        plain.load_state_dict(decayed.state_dict())


def test_training_never_imports_torch_dynamo() -> None:
    """torch.optim.Optimizer's constructor imports torch._dynamo and sympy: about 70 MB of
    resident memory for the app. A process that trains and samples on the CPU must not pay
    it. (Training on CUDA does import it: seen with torch 2.11 in issue 20's GPU check.)"""
    script = (
        "import sys\n"
        "from minigpt2.core.train.build import build_trainer\n"
        "from minigpt2.core.train.plan import TrainPlan\n"
        "t = build_trainer(TrainPlan(data='seed', preset='auto', steps=3, device='cpu'))\n"
        "t.run()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False"
