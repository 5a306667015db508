"""What the app keeps between launches, in the user data directory: the last model trained
here (autosaved) and the last settings (data, preset, sampling, tab).

Pure Python (no Textual, no torch). Every write is atomic (core/files.py): a crash or a kill
at any moment leaves each file as it was or complete. A file that cannot be read is
ignored: the app opens on its defaults and says nothing is lost but the settings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs
from minigpt2.core.files import atomic_write_text
from minigpt2.core.train.plan import TrainEvent

APP_NAME = "minigpt2-tui"
MODEL_FILE = "last-model.safetensors"
SETTINGS_FILE = "session.json"
AUTOSAVE_INTERVAL_S = 180.0  # during a long run, keep the model every few minutes


def default_data_dir() -> Path:
    """The user's data directory, e.g. ~/.local/share/minigpt2-tui (honours XDG_DATA_HOME)."""
    return Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True)
class Settings:
    """The choices a user made last time; None or empty means the app's default."""

    data: str | list[str] | None = None  # several lists: one category each
    preset: str | None = None
    tab: str | None = None
    sampling: dict[str, Any] = field(default_factory=dict)  # Explore's controls, by id

    @classmethod
    def from_json(cls, text: str) -> Settings:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        data = values.get("data")
        if isinstance(data, list) and not all(isinstance(d, str) for d in data):
            raise ValueError("data is not a list of names")
        if not isinstance(values.get("sampling", {}), dict):
            raise ValueError("sampling is not an object")
        return cls(**values)


class Session:
    """The files of one data directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.model_path = directory / MODEL_FILE
        self.settings_path = directory / SETTINGS_FILE

    def last_model(self) -> Path | None:
        return self.model_path if self.model_path.is_file() else None

    def load_settings(self) -> Settings:
        """The saved settings; the defaults if there are none or they cannot be read."""
        try:
            return Settings.from_json(self.settings_path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, TypeError):
            return Settings()

    def save_settings(self, settings: Settings) -> None:
        """Raises OSError if the directory cannot be written."""
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.settings_path, json.dumps(asdict(settings), indent=2) + "\n")


@dataclass
class Autosave:
    """When to keep the model in training: every `interval_s` of training time (pauses
    excluded, read from the trainer's events), and when the run ends or is stopped."""

    path: Path
    interval_s: float = AUTOSAVE_INTERVAL_S
    _last_s: float = 0.0

    def due(self, event: TrainEvent) -> bool:
        if event.kind == "done" or event.elapsed_s - self._last_s < self.interval_s:
            return False  # the end of a run is saved once the run has returned
        self._last_s = event.elapsed_s
        return True
