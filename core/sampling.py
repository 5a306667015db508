"""What a sampler is asked for and what it gives back: plain, torch-free types.

The app imports these before torch is loaded (its first frame must not wait a second and
more); the sampler itself lives in sample.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

Source = Literal["novel", "train", "val"]


@dataclass(frozen=True)
class SampleConfig:
    prompt: str = ""
    n: int = 20
    temperature: float = 1.0  # 0 = greedy
    top_k: int | None = None
    top_p: float | None = None
    max_len: int | None = None  # characters, prompt included; None = the model's limit
    seed: int | None = None
    novel_only: bool = False
    unique: bool = False
    sort_by_likelihood: bool = False
    # Keep names that reach the length limit without ending, marked `cut`: a young model
    # rarely ends its names, and the app shows what it writes rather than nothing.
    keep_cut: bool = False

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("count must be at least 1")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError("top-k must be at least 1")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError("top-p must be in (0, 1]")


@dataclass(frozen=True)
class Sample:
    name: str
    logprob: float  # natural log-probability of the whole name, end token included
    source: Source
    cut: bool = False  # reached the length limit without ending (only with `keep_cut`)

    @property
    def logprob_per_token(self) -> float:
        return self.logprob / (len(self.name) + 1)


@dataclass(frozen=True)
class WordScore:
    word: str
    logprob: float
    logprob_per_token: float  # per character and end token: comparable across lengths
    source: Source


@dataclass(frozen=True, eq=False)  # identity: comparing numpy arrays is ambiguous
class AttentionMap:
    tokens: list[str]  # the query/key positions: "<bos>" then the word's characters
    weights: np.ndarray  # (n_layer, n_head, T, T); row i = how position i attends to 0..i

    @property
    def n_layer(self) -> int:
        return int(self.weights.shape[0])

    @property
    def n_head(self) -> int:
        return int(self.weights.shape[1])
