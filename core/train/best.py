"""The best weights of a run: those with the lowest validation loss so far.

A run ends on them, so more training time never gives worse names. While `model` shows them,
the live weights (where training goes on from) are kept aside.
"""

from __future__ import annotations

from torch import Tensor, nn


def _copy(state: dict[str, Tensor]) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}


class BestWeights:
    def __init__(self) -> None:
        self.step: int | None = None
        self.val_loss: float | None = None
        self._state: dict[str, Tensor] | None = None  # on the model's device
        self._live: dict[str, Tensor] | None = None  # set while the model shows the best

    def offer(self, model: nn.Module, step: int, val_loss: float) -> bool:
        """Keep the model's weights if they validate best so far; True if they do."""
        if self.val_loss is not None and val_loss >= self.val_loss:
            return False
        self._state, self.step, self.val_loss = _copy(model.state_dict()), step, val_loss
        return True

    def restore(self, state: dict[str, Tensor], step: int, val_loss: float | None) -> None:
        self._state, self.step, self.val_loss = _copy(state), step, val_loss

    def weights(self, model: nn.Module) -> dict[str, Tensor]:
        """The best weights, or the live ones if nothing has been validated yet."""
        return self._state if self._state is not None else self.live(model)

    def live(self, model: nn.Module) -> dict[str, Tensor]:
        return self._live if self._live is not None else model.state_dict()

    def behind(self, step: int) -> bool:
        """Whether the best weights are older than the live ones at `step`."""
        return self._state is not None and self.step != step

    def show_best(self, model: nn.Module, step: int) -> None:
        if self._state is not None and self.behind(step) and self._live is None:
            self._live = _copy(model.state_dict())
            model.load_state_dict(self._state)

    def show_live(self, model: nn.Module) -> None:
        if self._live is not None:
            model.load_state_dict(self._live)
            self._live = None
