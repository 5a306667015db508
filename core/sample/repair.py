"""Spelling repair ("did you mean"): a noisy channel over a trained name model.

A candidate is any string within two edits of the typed word (insert, delete, substitute,
transpose two adjacent letters), and any known word of the list within two edits. Its score
is the model's log-probability of the candidate, minus a cost per edit, plus a bonus for a
known word. The typed word itself is a candidate with no edits: a rare but real name stays.

Distance 1 is scored in full (hundreds of candidates, one batched pass). Distance 2 has tens
of thousands, too many for the time budget, so only the neighbours of the best distance-1
candidates are scored, as many as the budget affords; with no budget left, distance 1 is the
answer. Torch-free at import: the scorer is a function given to the Repairer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from minigpt2.core.sample.request import Kinds, Source

if TYPE_CHECKING:
    from minigpt2.core.sample.sampler import Sampler

Scorer = Callable[[Sequence[str]], list[float]]  # log-probabilities of whole words

# Tuned on corrupted training words of the shipped model's data (bench/repair_bench.py).
DEFAULT_EDIT_COST = 8.0
DEFAULT_KNOWN_BONUS = 24.0  # the grid's largest: a known word within reach beats any new one
DEFAULT_BUDGET_S = 0.08  # of a 100 ms answer; the rest is margin for the pace estimate
MAX_EDITS = 2
STEPPING_STONES = 24  # distance-1 candidates whose neighbours make the distance-2 ones
LIKELY_QUANTILE = 0.1  # a word likelier per letter than 90% of known words needs no repair
# ...unless it has SLIP_LETTERS or more and a known word in reach beats it: a slip of one or
# two letters keeps most of a known word's likely letters, so "elefant" looked likely on its
# own to a model trained in the app, and half of all one-edit typos of known words went
# without a correction. Shorter words are left to the quantile: they are mostly starts being
# typed (Explore's prompt), and two edits from some known word (docs/benchmarks.md).
SLIP_LETTERS = 6
SAFETY = 0.85  # of the time left, the share planned for scoring (the pace is an estimate)


@dataclass(frozen=True)
class Correction:
    name: str
    score: float  # log-probability - edit cost * edits (+ the known-word bonus)
    edits: int  # edit distance from the typed word
    source: Source  # "train", "val" (a known word of the list) or "novel"


class Repairer:
    """Ranks likely intended words for a typed one. `clock` and `budget_s` are injectable so
    that tests decide when the budget runs out."""

    def __init__(
        self,
        scorer: Scorer,
        alphabet: Iterable[str],
        known: Iterable[str] = (),
        *,
        source_of: Callable[[str], Source] | None = None,
        edit_cost: float = DEFAULT_EDIT_COST,
        known_bonus: float = DEFAULT_KNOWN_BONUS,
        budget_s: float = DEFAULT_BUDGET_S,
        clock: Callable[[], float] = time.perf_counter,
        fold: Callable[[str], str] = str,
    ) -> None:
        self.scorer = scorer
        self.fold = fold  # typed text as the model's words are written (Sampler.fold)
        self.alphabet = "".join(sorted(set(alphabet)))
        self.known = frozenset(known)
        self.source_of = source_of or (lambda w: "train" if w in self.known else "novel")
        self.edit_cost = edit_cost
        self.known_bonus = known_bonus
        self.budget_s = budget_s
        self.clock = clock
        self._index = _DeletionIndex(self.known)
        self._likely_floor: float | None = None  # computed at the first is_likely()
        self.last_distance = 0  # the edit distance the last suggest() searched in full or part

    @classmethod
    def from_sampler(
        cls,
        sampler: Sampler,
        category: Kinds = None,
        known: Iterable[str] | None = None,
        **options: float | Callable[[], float],
    ) -> Repairer:
        """A repairer over a sampler's model; known words default to its train and
        validation words. `category` may be a mix of kinds. Raises UnknownCategoryError."""
        from minigpt2.core.sample.logprobs import word_logprobs  # torch

        sampler.check_kinds(category)  # fail now on an unknown kind

        def scorer(words: Sequence[str]) -> list[float]:
            return word_logprobs(sampler.model, sampler.vocab, words, category)

        words = known if known is not None else sampler.train_words | sampler.val_words
        return cls(
            scorer,
            sampler.vocab.chars,
            words,
            source_of=sampler.source_of,
            fold=sampler.fold,
            **options,  # type: ignore[arg-type]
        )

    def suggest(self, word: str, n: int = 5) -> list[Correction]:
        """The `n` most likely intended words, best first (the typed word may be one)."""
        start = self.clock()
        word = self.fold(word.strip())
        if not word:
            return []
        edits: dict[str, int] = {word: 0}
        for candidate in edits1(word, self.alphabet):
            edits.setdefault(candidate, 1)
        for candidate, distance in self._index.near(word):
            edits[candidate] = min(distance, edits.get(candidate, distance))
        before = self.clock()
        scored = self._score(list(edits), edits)
        pace = (self.clock() - before) / len(edits)  # seconds per scored candidate
        second = self._second_edits(scored, edits)
        affordable = self._affordable(self.clock() - start, pace)
        self.last_distance = 1
        if affordable > 0 and second:
            scored.update(self._score(second[:affordable], edits))
            self.last_distance = 2
        best = sorted(scored.items(), key=lambda item: item[1], reverse=True)[:n]
        return [
            Correction(name, score, edits[name], self.source_of(name))
            for name, score in best
            if score > float("-inf")
        ]

    def did_you_mean(self, word: str, n: int = 5) -> list[Correction]:
        """Corrections worth offering: none when the word is known, or when the model finds
        the word as typed likelier than any correction, or when it is likely (see is_likely)
        and not a slip of the known word that beats it (see SLIP_LETTERS)."""
        word = self.fold(word.strip())
        if not word or word in self.known:
            return []
        ranked = self.suggest(word, n + 1)
        if not ranked or ranked[0].name == word:
            return []
        corrections = [c for c in ranked if c.name != word][:n]
        a_slip = len(word) >= SLIP_LETTERS and corrections[0].name in self.known
        if not a_slip and self.is_likely(word):
            return []
        return corrections

    def weights_changed(self) -> None:
        """The scorer's model has new weights (a run in training): how likely the known words
        are is measured again at the next question."""
        self._likely_floor = None

    def is_likely(self, word: str) -> bool:
        """As likely per letter as most known words: at least the LIKELY_QUANTILE-th of
        their log-probabilities per token (characters and end)."""
        if self._likely_floor is None:
            known = sorted(self.known)
            per_token = [lp / (len(w) + 1) for w, lp in zip(known, self.scorer(known), strict=True)]
            per_token.sort()
            index = int(LIKELY_QUANTILE * (len(per_token) - 1))
            self._likely_floor = per_token[index] if per_token else float("inf")
        return self.scorer([word])[0] / (len(word) + 1) >= self._likely_floor

    def _score(self, names: list[str], edits: dict[str, int]) -> dict[str, float]:
        logprobs = self.scorer(names)
        return {
            name: lp - self.edit_cost * edits[name] + self.known_bonus * (name in self.known)
            for name, lp in zip(names, logprobs, strict=True)
        }

    def _affordable(self, elapsed: float, pace: float) -> int:
        """How many more candidates the rest of the budget can score at `pace`."""
        left = self.budget_s - elapsed
        if left <= 0:
            return 0
        return int(SAFETY * left / pace) if pace > 0 else 1 << 30

    def _second_edits(self, scored: dict[str, float], edits: dict[str, int]) -> list[str]:
        """Distance-2 candidates, likeliest first: one edit from the best distance-1
        candidates. A word two edits away has two one-edit stepping stones (either edit
        first); one reached from two good stepping stones comes before one reached from one."""
        bases = sorted(
            (name for name, distance in edits.items() if distance == 1),
            key=lambda name: scored[name],
            reverse=True,
        )[:STEPPING_STONES]
        reached: dict[str, list[float]] = {}
        for base in bases:
            for candidate in edits1(base, self.alphabet):
                if candidate not in edits:  # neither the word nor one edit away: two edits
                    reached.setdefault(candidate, []).append(scored[base])
        for candidate in reached:
            edits[candidate] = 2
        return sorted(reached, key=lambda c: (len(reached[c]) > 1, max(reached[c])), reverse=True)


def edits1(word: str, alphabet: str) -> set[str]:
    """Every non-empty string one insert, delete, substitution or adjacent swap away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1 and b[0] != b[1]}
    out |= {a + c + b[1:] for a, b in splits if b for c in alphabet if c != b[0]}
    out |= {a + c + b for a, b in splits for c in alphabet}
    out.discard("")
    out.discard(word)
    return out


def osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: inserts, deletes, substitutions and swaps of two
    adjacent letters, each 1, no substring edited twice."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class _DeletionIndex:
    """Known words within two edits of a query without comparing against every word: two
    words within distance 2 share a string reachable by at most two deletions from each."""

    def __init__(self, words: Iterable[str]) -> None:
        self._keys: dict[str, set[str]] = {}
        for word in words:
            for key in _deletes(word, MAX_EDITS):
                self._keys.setdefault(key, set()).add(word)

    def near(self, word: str) -> list[tuple[str, int]]:
        found = {w for key in _deletes(word, MAX_EDITS) for w in self._keys.get(key, ())}
        pairs = [(w, osa_distance(word, w)) for w in found]
        return [(w, d) for w, d in pairs if d <= MAX_EDITS]
