"""The names a person keeps: a small store saved as JSON, atomically, after every change.

Pure Python (no Textual, no torch) so that it is easy to test and cheap to import.
A failed write never loses a name: the store keeps everything in memory, remembers that it
is unsaved, and the caller shows the error.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs
from minigpt2.core.files import atomic_write_text
from minigpt2.core.sample.request import SampleConfig, options

APP_NAME = "minigpt2-tui"
FILE_VERSION = 1
EXPORT_FORMATS = (".txt", ".csv", ".json")
# What a favourite does not keep of its request: the blocklist is the app's own list, kept
# apart (blocklist.py), and may hold thousands of names.
NOT_KEPT = frozenset({"exclude"})


def default_favourites_path() -> Path:
    """favourites.json in the user's data directory (e.g. ~/.local/share/minigpt2-tui)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "favourites.json"


class FavouritesError(Exception):
    """A favourites file that cannot be read, written or exported; the message names it."""


class FavouritesCorrupt(FavouritesError):
    """The file exists and reads, but is not a favourites file."""


@dataclass(frozen=True)
class Favourite:
    """One kept name and where it came from."""

    name: str
    added_at: str  # ISO 8601, UTC, to the second
    prompt: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # favourite_settings, model, step

    @classmethod
    def now(cls, name: str, prompt: str = "", settings: Mapping[str, Any] | None = None
            ) -> Favourite:
        stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        return cls(name, stamp, prompt, dict(settings or {}))

    @classmethod
    def from_json(cls, item: Any) -> Favourite:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"expected an object with a name, got {item!r:.60}")
        settings = item.get("settings") or {}
        return cls(
            name=item["name"],
            added_at=str(item.get("added_at", "")),
            prompt=str(item.get("prompt", "")),
            settings=dict(settings) if isinstance(settings, dict) else {},
        )

    def describe_settings(self) -> str:
        """A short human summary, e.g. 'T 0.8 · top-k 5 · seed 0 · default model, step 3000':
        the options that are always summed up, and the others where they are not at their
        defaults, each by its Option's short label."""
        settings = {k: v for k, v in self.settings.items() if v is not None}
        defaults = SampleConfig().as_dict()
        parts = []
        for name, option in options().items():
            if name not in settings:
                continue
            value = settings.pop(name)
            if option.summary == "always" or (option.summary == "changed"
                                              and value != defaults[name]):
                parts.append(_summed_up(option.summary_label, value))
        model, step = settings.pop("model", None), settings.pop("step", None)
        if isinstance(like := self.settings.get("like"), list) and like:
            more = f" +{len(like) - 2}" if len(like) > 2 else ""
            parts.append(f"like {', '.join(map(str, like[:2]))}{more}")
        parts += [f"{key} {value}" for key, value in settings.items()]
        if model is not None:
            parts.append(f"{model} model" + (f", step {step}" if step is not None else ""))
        return " · ".join(parts)


def favourite_settings(request: SampleConfig) -> dict[str, Any]:
    """What a favourite keeps of the request it was found with: every setting (constraints,
    kinds and examples included) but those in NOT_KEPT, as JSON-able values."""
    return {k: v for k, v in request.as_dict().items() if k not in NOT_KEPT}


def _summed_up(label: str, value: Any) -> str:  # noqa: ANN401 - a setting's JSON value
    if value is True:
        return label
    if isinstance(value, dict):  # kinds and their weights
        return f"{label} " + " + ".join(f"{kind} {share:g}" for kind, share in value.items())
    return f"{label} {value}"


def _key(name: str) -> str:
    # "Emma" and "emma " are the same name to a person choosing names.
    return name.strip().casefold()


class FavouritesStore:
    """An ordered, duplicate-free list of favourites bound to one JSON file."""

    def __init__(self, path: Path, items: list[Favourite] | None = None) -> None:
        self.path = path
        self._items: dict[str, Favourite] = {}
        for item in items or []:
            self._items.setdefault(_key(item.name), item)
        self.unsaved = False  # True after a failed save: the memory holds more than the file

    @classmethod
    def load(cls, path: Path) -> FavouritesStore:
        """Read `path`; a missing file is an empty store. Raises FavouritesError if the file
        cannot be read, FavouritesCorrupt if it is not a favourites file."""
        if not path.exists():
            return cls(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FavouritesError(f"cannot read favourites from {path}: {_reason(exc)}") from None
        try:
            data = json.loads(text) if text.strip() else {"favourites": []}
            items = data["favourites"] if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise ValueError("'favourites' is not a list")
            return cls(path, [Favourite.from_json(item) for item in items])
        except (ValueError, KeyError, TypeError) as exc:
            raise FavouritesCorrupt(f"{path} is not a favourites file ({exc})") from None

    # --- reading --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Favourite]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._items

    @property
    def names(self) -> list[str]:
        return [item.name for item in self._items.values()]

    # --- changing (the caller saves) ------------------------------------------------------

    def add(self, favourite: Favourite) -> bool:
        """Keep `favourite` unless the name is already kept; True if it was added."""
        key = _key(favourite.name)
        if not key or key in self._items:
            return False
        self._items[key] = favourite
        self.unsaved = True
        return True

    def remove(self, name: str) -> bool:
        """Forget `name`; True if it was kept."""
        if self._items.pop(_key(name), None) is None:
            return False
        self.unsaved = True
        return True

    # --- files ----------------------------------------------------------------------------

    def to_json(self) -> str:
        items = [asdict(item) for item in self._items.values()]
        return json.dumps({"version": FILE_VERSION, "favourites": items}, indent=2,
                          ensure_ascii=False) + "\n"

    def save(self) -> None:
        """Write the whole store atomically. Raises FavouritesError; names stay in memory."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, self.to_json())
        except OSError as exc:
            self.unsaved = True
            raise FavouritesError(f"cannot save favourites to {self.path}: {_reason(exc)}"
                                  ) from None
        self.unsaved = False

    def export(self, path: Path) -> int:
        """Write the names to `path` as .txt (one per line), .csv or .json, chosen by the
        suffix. Returns how many names were written. Raises FavouritesError."""
        suffix = path.suffix.lower()
        if suffix not in EXPORT_FORMATS:
            raise FavouritesError(
                f"cannot export to {path.name}: use a name ending in {', '.join(EXPORT_FORMATS)}")
        if suffix == ".json":
            text = self.to_json()
        elif suffix == ".csv":
            text = self._to_csv()
        else:
            text = "".join(f"{name}\n" for name in self.names)
        try:
            atomic_write_text(path.expanduser(), text)
        except OSError as exc:
            raise FavouritesError(f"cannot export to {path}: {_reason(exc)}") from None
        return len(self)

    def _to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "added_at", "prompt", "settings"])
        for item in self._items.values():
            writer.writerow([item.name, item.added_at, item.prompt, item.describe_settings()])
        return out.getvalue()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def backup_unreadable(path: Path) -> Path | None:
    """Move an unreadable favourites file aside so that saving never overwrites it.
    Returns the backup's path, or None if it could not be moved."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.unreadable-{stamp}")
    try:
        path.rename(backup)
    except OSError:
        return None
    return backup
