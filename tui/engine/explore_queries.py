"""The engine's Explore extras: "did you mean" and the category that likes each name most.

A part the engine owns (engine.py stays small), given the engine's one-at-a-time sampler
when it is made: both run on worker threads, through it, so they never race the sampling
or the weights copied from a run.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from minigpt2.core.sample.numpy_sampler import NumpySampler
    from minigpt2.core.sample.repair import Correction, Repairer
    from minigpt2.core.sample.sampler import Sampler

T = TypeVar("T")
MIN_WORD_CHARS = 3  # shorter text is a start being typed, not a word to repair
CORRECTIONS = 5


class RepairCache:
    """One Repairer per category for the sampler in use, built at its first question. While
    a model trains, its weights change under the sampler: the scorers read them live, and
    what a Repairer learnt from the weights it first saw (how likely known words are) is
    forgotten when they change, or a young model's verdicts would outlive the run."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        # The Repairers' clock, which their time budget is measured on; None: theirs. A
        # steady one makes which corrections they find independent of the machine's speed.
        self._options: dict[str, Callable[[], float]] = {} if clock is None else {"clock": clock}
        self._sampler: Sampler | None = None
        self._weights: object = None  # which weights the sampler had at the last question
        self._repairers: dict[str | None, Repairer] = {}
        self._known: list[str] = []  # sorted: is the text the start of a known word?

    def did_you_mean(self, sampler: Sampler, weights: object, text: str, category: str | None
                     ) -> list[Correction]:
        """Corrections of `text` by `sampler`'s model, whose weights are `weights` (any value
        that changes when they do, e.g. the training step they are from)."""
        from minigpt2.core.sample.repair import Repairer

        text = text.strip()
        if self._sampler is not sampler:
            self._sampler, self._repairers = sampler, {}
            self._known = sorted(sampler.train_words | sampler.val_words)
        elif self._weights != weights:
            for repairer in self._repairers.values():
                repairer.weights_changed()
        self._weights = weights
        if len(text) < MIN_WORD_CHARS or self._starts_known_word(text):
            return []  # a known word, or the start of one: the user is still typing
        if category not in self._repairers:
            self._repairers[category] = Repairer.from_sampler(sampler, category,
                                                              **self._options)
        return self._repairers[category].did_you_mean(text, n=CORRECTIONS)

    def _starts_known_word(self, text: str) -> bool:
        at = bisect.bisect_left(self._known, text)
        return at < len(self._known) and self._known[at].startswith(text)


class UseSampler(Protocol):
    """The engine's one-at-a-time sampler: `use(sampler)` once it is free, or None if
    `cancelled()` turned true while waiting; a ValueError said as `what` failed."""

    def __call__(self, what: str, cancelled: Callable[[], bool],
                 use: Callable[[Sampler], T]) -> T | None: ...


class ExploreQueries:
    """Explore's questions beyond sampling. Blocking: call them on worker threads."""

    def __init__(self, use_sampler: UseSampler, quick: Callable[[], NumpySampler | None],
                 weights: Callable[[], object], repair_clock: Callable[[], float] | None = None
                 ) -> None:
        self._use_sampler = use_sampler
        self._quick = quick  # the model opened with numpy while torch loads, if any
        self._weights = weights  # changes when the sampler's weights do, e.g. (preset, step)
        self._repairs = RepairCache(repair_clock)

    def did_you_mean(self, text: str, category: str | None = None,
                     cancelled: Callable[[], bool] = lambda: False) -> list[Correction]:
        """Corrections for `text` typed as a whole word that the model finds unlikely and the
        list does not hold; [] when there are none to offer. Raises EngineError."""
        if len(text.strip()) < MIN_WORD_CHARS:  # a start being typed: not worth a turn at the
            return []  # sampler, which the candidates for the same keystroke are waiting for
        corrections = self._use_sampler(
            "No corrections", cancelled,
            lambda sampler: self._repairs.did_you_mean(sampler, self._weights(), text,
                                                       category))
        return corrections or []

    def best_categories(self, names: list[str]) -> list[str | None]:
        """Per name, the category whose model likes it most (all None without categories)."""
        if (quick := self._quick()) is not None:  # opened quickly: numpy scores them as torch
            return quick.best_categories(names)
        # Imported only here: logprobs imports torch, which the quick model is there to
        # spare the first names from waiting for.
        from minigpt2.core.sample.logprobs import best_categories

        found = self._use_sampler("No categories", lambda: False,
                                  lambda sampler: best_categories(sampler, names))
        return found or [None] * len(names)
