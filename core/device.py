"""Where and how a run computes: the device, torch's thread count, the random generators.

Process-wide settings are made by train/build.py's build_trainer (which every front end
builds its runs with) and by benchmarks, never by a Trainer, so that building one has no
side effects on the process. A run lends the process's generators to dropout and gives
them back when it ends (Trainer.run).
"""

from __future__ import annotations

import os

import torch
from minigpt2.core.config import TrainConfig
from torch import Tensor


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' requested but MPS is not available")
    if name not in ("cpu", "cuda", "mps") and not name.startswith("cuda:"):
        raise ValueError(f"unknown device {name!r}; choose auto, cpu, cuda or mps")
    return torch.device(name)


def default_threads() -> int:
    """Half the cores, at most 4. These models are too small for many threads to help, and
    OpenMP threads that find their core busy (a UI, a second process) spin: on 2 cores under
    load, one thread trained 20x faster than two."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def configure_cpu(config: TrainConfig) -> None:
    """The process-wide CPU settings a run asks for; build_trainer calls it. Torch's thread
    count; and ATen's own kernels rather than oneDNN's, which at these sizes only add their
    setup and scratch memory: training the built-in lists in the app's engine, 8% more tokens
    a second and 7 MB less peak memory (docs/benchmarks.md)."""
    torch.set_num_threads(config.threads or default_threads())
    torch.backends.mkldnn.set_flags(False)


def rng_state(device: torch.device) -> dict[str, Tensor]:
    """The process's generator states a run on `device` draws from (dropout)."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Tensor], device: torch.device, seed: int) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda":
        if "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"], device)
        else:
            torch.cuda.manual_seed(seed)
