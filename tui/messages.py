"""App-wide messages: small dataclasses the panes and workers send each other.

Worker threads `post_message` these (thread-safe, and it never blocks the worker, unlike
`call_from_thread`); the UI thread handles them. Training progress travels in batches so
that no point is lost: merging queued messages with `can_replace` would drop points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from textual.message import Message

from ..core.training import TrainPlan
from .engine import Attention, Candidate, ModelInfo, SampleRequest, TrainOutcome

if TYPE_CHECKING:
    from ..core.training import TrainEvent

TrainState = Literal["idle", "starting", "running", "pausing", "paused", "stopping", "done",
                     "failed"]


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
class TrainingEnded(Message):
    """The training worker returned: with an outcome, or with an error to show."""

    outcome: TrainOutcome | None
    error: str | None = None


@dataclass
class TrainingStateChanged(Message):
    """Bubbles up from the Train pane so the app can update the status line."""

    state: TrainState


@dataclass
class ModelChanged(Message):
    """A different model (or newer weights) is ready to sample from."""

    info: ModelInfo | None  # None while training: the weights change, the model is the same
    reason: Literal["loaded", "training", "finished", "stopped"]
    source: str = ""  # the file, for "loaded"


# --- exploring ---------------------------------------------------------------------------


@dataclass
class CandidatesReady(Message):
    request: SampleRequest
    candidates: list[Candidate]
    elapsed_ms: float = 0.0


@dataclass
class CandidatesFailed(Message):
    request: SampleRequest
    error: str
    unknown_chars: list[str] = field(default_factory=list)
    known_chars: str = ""


@dataclass
class AttentionReady(Message):
    word: str
    attention: Attention | None
    error: str = ""


# --- favourites --------------------------------------------------------------------------


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
