"""Where training is, as the user sees it: one type, the only table of what each state
allows and how it reads. The Train pane owns the current value; the app reads it there."""

from __future__ import annotations

from enum import Enum


class TrainState(str, Enum):  # str: compares equal to its value, e.g. "running"
    IDLE = "idle"
    STARTING = "starting"  # the trainer is being built
    RUNNING = "running"
    PAUSING = "pausing"  # asked; the loop pauses after its current step
    PAUSED = "paused"
    STOPPING = "stopping"
    DONE = "done"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """A run is in progress: the form is locked, quitting asks first."""
        return self in _ACTIVE

    @property
    def can_pause(self) -> bool:
        return self in (TrainState.STARTING, TrainState.RUNNING)

    @property
    def can_resume(self) -> bool:
        return self in (TrainState.PAUSING, TrainState.PAUSED)

    @property
    def can_stop(self) -> bool:
        return self.active and self is not TrainState.STOPPING

    @property
    def label(self) -> str:
        return _LABELS[self]


_ACTIVE = frozenset({TrainState.STARTING, TrainState.RUNNING, TrainState.PAUSING,
                     TrainState.PAUSED, TrainState.STOPPING})
_LABELS = {
    TrainState.IDLE: "ready", TrainState.STARTING: "starting…", TrainState.RUNNING: "training",
    TrainState.PAUSING: "pausing…", TrainState.PAUSED: "paused",
    TrainState.STOPPING: "stopping…", TrainState.DONE: "done", TrainState.FAILED: "failed",
}
