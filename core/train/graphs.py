"""The whole training step captured once as a CUDA graph and replayed.

At these sizes a step on a GPU is bound by launching ~100 small kernels from Python, not by
arithmetic: a replay launches them all at once. Shapes must not change between replays, so
every batch is full width and full size; a short last batch is padded with rows of padding
tokens, which the loss ignores, so the arithmetic is the same as the eager step's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from minigpt2.core.data.vocab import PAD
from minigpt2.core.model import MiniGPT2
from minigpt2.core.train.optim import Optimizer
from torch import Tensor

WARMUP_STEPS = 3  # eager steps on a side stream before capture, as CUDA graphs require


class GraphedStep:
    def __init__(
        self,
        model: MiniGPT2,
        optimizer: Optimizer,
        batch_size: int,
        width: int,
        clip: Callable[[], None],
    ) -> None:
        device = next(model.parameters()).device
        self.model, self.optimizer, self.clip = model, optimizer, clip
        self.rows = torch.full((batch_size, width), PAD, dtype=torch.long, device=device)
        # A float lr would be baked into the graph; a tensor lr can follow the schedule.
        for group in optimizer.param_groups:
            group["lr"] = torch.tensor(float(group["lr"]), device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self.loss: Tensor | None = None
        self._eager_steps = 0

    def __call__(self, rows: Tensor) -> Tensor:
        """One training step on `rows` (at most batch_size x width token ids)."""
        self.rows.fill_(PAD)
        self.rows[: rows.size(0), : rows.size(1)].copy_(rows)
        if self.graph is None:
            if self._eager_steps < WARMUP_STEPS:
                return self._warm_up()
            self._capture()
        assert self.graph is not None and self.loss is not None
        self.graph.replay()
        return self.loss

    def _step(self) -> Tensor:
        _, loss = self.model(self.rows[:, :-1], self.rows[:, 1:])
        assert loss is not None
        loss.backward()
        self.clip()
        self.optimizer.step()
        return loss.detach()

    def _warm_up(self) -> Tensor:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.optimizer.zero_grad(set_to_none=True)
            loss = self._step()
        torch.cuda.current_stream().wait_stream(side)
        self._eager_steps += 1
        return loss

    def _capture(self) -> None:
        # Gradients are allocated inside the graph's memory pool; each replay rewrites them.
        self.optimizer.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.loss = self._step()
