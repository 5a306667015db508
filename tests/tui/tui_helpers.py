"""Helpers for the TUI tests (a module of its own: test modules cannot import a conftest)."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from minigpt2.tui.app import MiniGPT2App
from textual import events
from textual.pilot import Pilot

if TYPE_CHECKING:
    import pytest

SIZE = (110, 34)  # big enough for every pane without scrolling
AppFactory = Callable[..., MiniGPT2App]
Notices = list[tuple[str, str]]  # (severity, text), in the order the user was told
_NOTICES: weakref.WeakKeyDictionary[MiniGPT2App, Notices] = weakref.WeakKeyDictionary()


def record_notices(app: MiniGPT2App) -> Notices:
    """Record every notification `app` shows (this instance only: its class stays as it
    is), for `notices(app)`. Toasts expire, so Textual's own list of them would lose some."""
    told: Notices = []
    notify = app.notify

    def recording(message: str, **options: Any) -> None:
        told.append((str(options.get("severity", "information")), message))
        notify(message, **options)

    app.notify = recording  # type: ignore[method-assign]
    _NOTICES[app] = told
    return told


def notices(app: MiniGPT2App) -> Notices:
    """What `app` (made by the make_app fixture) has told the user so far."""
    return _NOTICES[app]


async def wait_for(
    pilot: Pilot, condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition"
) -> None:
    """Let the app run until `condition()` holds; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.02)


async def press(pilot: Pilot, *keys: str) -> None:
    """Press keys as a terminal delivers them. Unlike `pilot.press`, do not wait for the
    process to go idle: it never does while the trainer runs, so that costs 1 s a key.
    A key bound on the app reaches it after bubbling up: wait for its effect, not for this."""
    for key in keys:
        pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause(0.01)


def slow_trainer(monkeypatch: pytest.MonkeyPatch, seconds: float = 0.005) -> None:
    """Make every training step take `seconds` longer, as on a much slower machine."""
    from minigpt2.core.train.trainer import Trainer

    step = Trainer._train_step

    def slow_step(self: Trainer, *args: object) -> object:
        time.sleep(seconds)
        return step(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Trainer, "_train_step", slow_step)
