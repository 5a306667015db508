"""App-wide messages: small dataclasses the panes and workers send each other.

Worker threads `post_message` these (thread-safe, and it never blocks the worker, unlike
`call_from_thread`); the UI thread handles them. Training progress travels in batches so
that no point is lost: merging queued messages with `can_replace` would drop points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from minigpt2.core.sample.request import AttentionMap, Sample, SampleConfig
from minigpt2.core.train.plan import TrainPlan
from minigpt2.tui.engine.model_info import ModelInfo
from minigpt2.tui.engine.train_state import RunEnd, TrainState
from textual.message import Message

if TYPE_CHECKING:
    from minigpt2.core.train.plan import TrainEvent


# --- start-up ----------------------------------------------------------------------------


@dataclass
class Notice(Message):
    """Something the user should read (a bad argument, a fallback), from any thread."""

    text: str
    severity: Literal["information", "warning", "error"] = "information"


@dataclass
class AutoTrain(Message):
    """There is no model to explore: start training one at once."""

    plan: TrainPlan
    reason: str = ""


# --- training ----------------------------------------------------------------------------


@dataclass
class TrainingProgress(Message):
    """Events from the trainer since the previous batch, oldest first."""

    events: list[TrainEvent]


@dataclass
class TrainingLoading(Message):
    """How far loading the words of a run about to start is: a large list takes seconds."""

    what: str
    done: float  # 0..1


@dataclass
class TrainingStateChanged(Message):
    """The engine's training state changed (and, with `ended`, a run ended: how). Posted to
    the Train pane, which shows it, then bubbles up to the app: the status line, the footer's
    keys and a quit waiting for the run to stop."""

    state: TrainState
    ended: RunEnd | None = None


@dataclass
class ModelChanged(Message):
    """A different model (or newer weights) is ready to sample from."""

    info: ModelInfo | None  # None while training: the weights change, the model is the same
    reason: Literal["loaded", "training", "finished", "stopped"]
    source: str = ""  # the file, for "loaded"


# --- exploring ---------------------------------------------------------------------------


@dataclass
class CandidatesReady(Message):
    request: SampleConfig
    candidates: list[Sample]
    elapsed_ms: float = 0.0
    kinds: tuple[str | None, ...] = ()  # per candidate, the category that likes it most


@dataclass
class CandidatesFailed(Message):
    request: SampleConfig
    error: str


@dataclass
class AttentionReady(Message):
    word: str
    attention: AttentionMap | None
    error: str = ""


@dataclass
class Said(Message):
    """A worker's result for the user (e.g. "Saved the model"), shown where it was asked."""

    text: str
    error: bool = False


# --- favourites and blocked names: asked by the panes, kept by the app's stores -------------


@dataclass
class FavouriteRequested(Message):
    name: str
    prompt: str
    settings: dict[str, Any]


@dataclass
class FavouriteRemoveRequested(Message):
    name: str


@dataclass
class FavouritesExportRequested(Message):
    path: str


@dataclass
class BlockRequested(Message):
    """Never show this name again (Explore)."""

    name: str


@dataclass
class UnblockRequested(Message):
    name: str


@dataclass
class MoreLikeRequested(Message):
    """Explore should sample names like these favourites (`label`: "5 favourites")."""

    names: tuple[str, ...]
    label: str


@dataclass
class FavouriteSettingsRequested(Message):
    """Explore should sample as a favourite was found: `settings` as a favourite keeps them
    (tui/stores/favourites.py), its prompt included."""

    settings: dict[str, Any]
