"""The app's side of favourites: open the store, keep, remove and export names, and say
what happened in words for the user. Pure Python, like the store it wraps."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from minigpt2.tui.launch import unwritable_reason
from minigpt2.tui.stores.favourites import (
    Favourite,
    FavouritesCorrupt,
    FavouritesError,
    FavouritesStore,
    backup_unreadable,
)

Severity = Literal["information", "warning", "error"]
Said = tuple[Severity, str]  # what to tell the user


class FavouritesKeeper:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = FavouritesStore(path)

    def open(self) -> Said | None:
        """Load the file; a broken one is moved aside, an unwritable one kept in memory."""
        path = self.path
        try:
            self.store = FavouritesStore.load(path)
        except FavouritesCorrupt as exc:
            backup = backup_unreadable(path)
            kept = f" It was moved to {backup.name}." if backup else ""
            return "error", f"{exc}.{kept} Starting with no favourites."
        except FavouritesError as exc:
            self.store.unsaved = True
            return "error", f"{exc}. Names you keep now stay in memory only."
        problem = unwritable_reason(path)
        if problem:
            self.store.unsaved = True
            return "warning", (f"Favourites cannot be saved to {path} ({problem}). Names you "
                               "keep stay in memory for this session; choose another file with "
                               "--favourites or export them.")
        return None

    def keep(self, name: str, prompt: str, settings: Mapping[str, Any]) -> Said:
        if not self.store.add(Favourite.now(name, prompt, settings)):
            return "information", f"“{name}” is already a favourite."
        return self._save() or ("information", f"♥ Kept “{name}”.")

    def remove(self, name: str) -> Said | None:
        if not self.store.remove(name):
            return None
        return self._save() or ("information", f"Removed “{name}”.")

    def export(self, target: str) -> Said:
        path = Path(target).expanduser()
        try:
            count = self.store.export(path)
        except FavouritesError as exc:
            return "error", str(exc)
        return "information", f"Exported {count} names to {path}."

    def _save(self) -> Said | None:
        try:
            self.store.save()
        except FavouritesError as exc:
            return "error", (f"{exc}. Your names are kept in memory; export them (ctrl+e in "
                             "Favourites) to keep them.")
        return None
