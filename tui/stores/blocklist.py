"""Blocked names: words Explore never shows again (real words, brands, names taken).

Kept as a plain text file, one name per line, in the user data directory beside the
favourites: the same file works with `minigpt2 sample --exclude FILE`. Every write is atomic
(core/files.py). Pure Python (no Textual, no torch). As with favourites, a failed write loses no
name: the list stays in memory, marked unsaved, and the caller shows the error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from minigpt2.core.files import atomic_write_text
from minigpt2.tui.launch import unwritable_reason

BLOCKLIST_FILE = "blocklist.txt"
Severity = Literal["information", "warning", "error"]
Said = tuple[Severity, str]  # what to tell the user


class Blocklist:
    """An ordered, duplicate-free list of names bound to one text file. Listeners (the app,
    which shows the list in the panes, as it does the favourites) are called after every
    change, on the caller's thread. The panes never hold it: they ask the app by message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._names: dict[str, None] = {}  # insertion-ordered set
        self.unsaved = False  # the memory holds more (or less) than the file
        self._listeners: list[Callable[[], None]] = []

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __len__(self) -> int:
        return len(self._names)

    def frozen(self) -> frozenset[str]:
        """The names as a sampling config's `exclude`."""
        return frozenset(self._names)

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    # --- the file ---------------------------------------------------------------------------

    def open(self) -> Said | None:
        """Read the file (a missing one is an empty list); say why it cannot be kept."""
        try:
            text = self.path.read_text("utf-8") if self.path.exists() else ""
        except (OSError, UnicodeDecodeError) as exc:
            self.unsaved = True
            return "error", (f"Cannot read blocked names from {self.path}: {_reason(exc)}. "
                             "Names you block now stay in memory only.")
        self._names = dict.fromkeys(line.strip() for line in text.splitlines() if line.strip())
        problem = unwritable_reason(self.path)
        self.unsaved = problem is not None
        self._changed()
        if problem:
            return "warning", (f"Blocked names cannot be saved to {self.path} ({problem}); "
                               "they stay in memory for this session.")
        return None

    def _save(self) -> Said | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, "".join(f"{name}\n" for name in self._names))
        except OSError as exc:
            self.unsaved = True
            return "error", (f"Cannot save blocked names to {self.path}: {_reason(exc)}. "
                             "They stay blocked in memory for this session.")
        self.unsaved = False
        return None

    # --- changing: saved at once -----------------------------------------------------------

    def block(self, name: str) -> Said:
        name = name.strip()
        if not name or name in self._names:
            return "information", f"“{name}” is already blocked."
        self._names[name] = None
        said = self._save() or ("information", f"Blocked “{name}”: it will not be shown again.")
        self._changed()
        return said

    def unblock(self, name: str) -> Said | None:
        if name not in self._names:
            return None
        del self._names[name]
        said = self._save() or ("information", f"Unblocked “{name}”.")
        self._changed()
        return said

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
