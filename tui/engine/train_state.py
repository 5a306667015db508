"""Where training is, as the user sees it: one type, the only table of what each state
allows and how it reads, and the one record of the current state (TrainStatus), which the
engine changes and the UI watches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from minigpt2.core.train.plan import TrainResult
from minigpt2.tui.engine.model_info import ModelInfo


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

    def allows(self, action: str) -> bool | None:
        """For a training key (start, pause, resume, stop, reset, save, load): True when it
        works now, None when it is shown greyed out, False when it is hidden."""
        shown = {"start": not self.active, "pause": self.can_pause, "resume": self.can_resume}
        if action in shown:
            return shown[action]
        enabled = {"stop": self.can_stop, "reset": not self.active, "load": not self.active,
                   "save": self not in (TrainState.STARTING, TrainState.STOPPING)}
        return enabled.get(action, True) or None


_ACTIVE = frozenset({TrainState.STARTING, TrainState.RUNNING, TrainState.PAUSING,
                     TrainState.PAUSED, TrainState.STOPPING})
_LABELS = {
    TrainState.IDLE: "ready", TrainState.STARTING: "starting…", TrainState.RUNNING: "training",
    TrainState.PAUSING: "pausing…", TrainState.PAUSED: "paused",
    TrainState.STOPPING: "stopping…", TrainState.DONE: "done", TrainState.FAILED: "failed",
}


@dataclass(frozen=True)
class RunEnd:
    """How a run ended: with its result and the model it made, with neither (stopped before
    the first step), or with an error to show."""

    result: TrainResult | None = None
    info: ModelInfo | None = None
    error: str | None = None

    @property
    def state(self) -> TrainState:
        if self.error is not None:
            return TrainState.FAILED
        return TrainState.IDLE if self.result is None else TrainState.DONE


Watcher = Callable[[TrainState, RunEnd | None], None]


class TrainStatus:
    """The current TrainState, in one place. Watchers hear every change, and the end of
    every run, on the thread that made it, in the order they happened: a watcher must not
    block (e.g. it posts a message)."""

    def __init__(self) -> None:
        self._state = TrainState.IDLE
        self._lock = threading.RLock()  # one change told at a time, so none overtakes another
        self._watchers: list[Watcher] = []

    @property
    def state(self) -> TrainState:
        return self._state

    def watch(self, watcher: Watcher) -> None:
        with self._lock:
            self._watchers.append(watcher)

    def unwatch(self, watcher: Watcher) -> None:
        with self._lock:
            self._watchers.remove(watcher)

    def set(self, state: TrainState | str, ended: RunEnd | None = None) -> None:
        with self._lock:
            state = TrainState(state)
            if state is self._state and ended is None:
                return
            self._state = state
            for watcher in list(self._watchers):
                watcher(state, ended)
