"""What a sampler is asked for and what it gives back: plain, torch-free types.

The app imports these before torch is loaded (its first frame must not wait a second and
more); the sampler itself lives in sampler.py. `SampleConfig` is the one place that checks
sampling settings: the CLI and the Explore pane build one and show its error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

Source = Literal["novel", "train", "val"]
Rank = Literal["total", "per_char"]
MAX_SEED = 2**63 - 1
DEFAULT_TIME_LIMIT_S = 0.5
# Guidance for sampling with a kind; the share of names sampled for a kind that the model
# itself finds likelier under it, on the shipped model, is in docs/auto.md, "Kinds"
# (bench/category_bench.py --checkpoint).
DEFAULT_GUIDANCE = 2.0

# Constraints a name must meet, as reported in --json records (`SampleConfig.constraints`).
CONSTRAINTS = ("prompt", "ends_with", "contains", "min_len", "max_len", "exclude_chars", "exclude")
# Names like examples (like.py): the guidance weight towards what the examples share, and
# how many examples a request keeps (more say nothing new). 0 samples from the model as
# adapted to the examples; more shares their trait more often, but the names lose more of
# their look (docs/benchmarks.md).
DEFAULT_LIKE_STRENGTH = 0.0
MAX_LIKE_EXAMPLES = 1000


class Mix(Mapping[str, float]):
    """Kinds of name and their shares, which sum to 1, in the order given; a kind of weight
    0 is left out. Immutable and hashable, so that a SampleConfig holding one stays so.
    Raises ValueError for a weight that is negative, NaN or infinite, or all weights 0."""

    def __init__(self, weights: Mapping[str, float] | Iterable[tuple[str, float]] = ()) -> None:
        pairs = list(weights.items() if isinstance(weights, Mapping) else weights)
        seen: set[str] = set()
        for kind, weight in pairs:
            if not isinstance(kind, str) or not kind:
                raise ValueError(f"a kind of name must be a name (got {kind!r})")
            if kind in seen:
                raise ValueError(f"the kind {kind!r} is given twice")
            seen.add(kind)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise ValueError(f"the weight of {kind!r} must be a number (got {weight!r})")
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"the weight of {kind!r} must be 0 or more (got {weight})")
        total = sum(weight for _, weight in pairs)
        if pairs and total == 0:
            raise ValueError("the weights of the kinds are all 0: give one a weight above 0")
        self._shares = tuple((kind, weight / total) for kind, weight in pairs if weight > 0)

    @classmethod
    def of(cls, kinds: Kinds) -> Mix:
        """None (any kind), one kind, or kinds with weights, as a mix."""
        if kinds is None:
            return cls()
        if isinstance(kinds, str):
            return cls({kinds: 1.0})
        return kinds if isinstance(kinds, Mix) else cls(kinds)

    def __getitem__(self, kind: str) -> float:
        return dict(self._shares)[kind]

    def __iter__(self) -> Iterator[str]:
        return (kind for kind, _ in self._shares)

    def __len__(self) -> int:
        return len(self._shares)

    def __hash__(self) -> int:  # equal mixes (Mapping's ==, whatever the order) hash alike
        return hash(frozenset(self._shares))

    def __repr__(self) -> str:
        return f"Mix({dict(self._shares)!r})"

    def rounded(self, digits: int = 4) -> dict[str, float]:
        """As a JSON object: {"animals": 0.7, "fruits-vegetables": 0.3}."""
        return {kind: round(share, digits) for kind, share in self._shares}


Kinds = str | Mapping[str, float] | None  # one kind, kinds with weights, or None: any kind


def parse_kinds(values: Sequence[str]) -> Mix:
    """`--category` values: KIND (weight 1) or KIND=WEIGHT, e.g. ["animals=0.7",
    "fruits-vegetables=0.3"]. Raises ValueError naming a malformed one."""
    pairs = []
    for value in values:
        kind, equals, weight = value.partition("=")
        if not equals:
            pairs.append((kind.strip(), 1.0))
            continue
        try:
            pairs.append((kind.strip(), float(weight)))
        except ValueError:
            raise ValueError(f"--category {value!r}: expected KIND or KIND=WEIGHT") from None
        if not kind.strip():
            raise ValueError(f"--category {value!r}: expected KIND or KIND=WEIGHT")
    return Mix(pairs)


@dataclass(frozen=True)
class SampleConfig:
    """A request for names. Every constraint is exact: each returned name meets all of them."""

    prompt: str = ""  # every name starts with it
    n: int = 20
    temperature: float = 1.0  # 0 = greedy
    top_k: int | None = None
    top_p: float | None = None
    min_len: int | None = None  # characters, prompt included
    max_len: int | None = None  # characters, prompt included; None = the model's limit
    ends_with: str = ""
    contains: str = ""
    exclude_chars: str = ""  # characters no name may hold
    exclude: frozenset[str] = frozenset()  # a blocklist: these words are never returned
    seed: int | None = None
    novel_only: bool = False
    unique: bool = False
    sort_by_likelihood: bool = False
    most_likely: bool = False  # a search for the most likely names instead of random draws
    rank: Rank = "total"  # how most_likely (and sorting) ranks: total or per-char logprob
    include_cut: bool = False  # also return names cut at the model's length limit
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S  # then return what was found
    category: str | None = None  # a model with categories: names of this kind; None = any
    # Kinds mixed by weight (a Mix: shares summing to 1). One kind is `category` alone, and
    # either field may give it: the other follows. Empty: `category` says.
    kinds: Mapping[str, float] = Mix()
    guidance: float = 0.0  # with a kind: lean towards what sets it apart (guidance.py)
    like: tuple[str, ...] = ()  # names like these (like.py); never returned themselves
    like_strength: float = DEFAULT_LIKE_STRENGTH  # with `like`: how far to lean towards them

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude", frozenset(self.exclude))
        self._settle_kinds()
        self._settle_like()
        _at_least(1, n=self.n, top_k=self.top_k, min_len=self.min_len, max_len=self.max_len)
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise ValueError(f"temperature must be 0 or more (got {self.temperature})")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"top-p must be in (0, 1] (got {self.top_p})")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED} (got {self.seed})")
        if self.time_limit_s is not None and not (
            math.isfinite(self.time_limit_s) and self.time_limit_s > 0
        ):
            raise ValueError(f"time limit must be a positive number (got {self.time_limit_s})")
        if self.rank not in ("total", "per_char"):
            raise ValueError(f"rank must be 'total' or 'per_char' (got {self.rank!r})")
        if not (math.isfinite(self.guidance) and 0 <= self.guidance <= 10):
            raise ValueError(f"guidance must be between 0 and 10 (got {self.guidance})")
        self._check_possible()

    def _settle_kinds(self) -> None:
        """`category` and `kinds` say the same: one kind is both a category and a mix of one."""
        kinds = Mix.of(self.kinds)
        if self.category is not None:
            if kinds and kinds != Mix.of(self.category):
                raise ValueError(f"give one category or a mix of kinds, not both ({self.category!r}"
                                 f" and {dict(kinds)})")
            kinds = Mix.of(self.category)
        elif len(kinds) == 1:
            object.__setattr__(self, "category", next(iter(kinds)))
        object.__setattr__(self, "kinds", kinds)

    def _settle_like(self) -> None:
        if isinstance(self.like, str):  # a name is not a list of one-letter names
            raise ValueError("like: expected a list of names")
        examples = tuple(dict.fromkeys(name.strip() for name in self.like))
        if "" in examples:
            raise ValueError("an empty example name")
        object.__setattr__(self, "like", examples[:MAX_LIKE_EXAMPLES])
        if not (math.isfinite(self.like_strength) and self.like_strength >= 0):
            raise ValueError(f"like strength must be 0 or more (got {self.like_strength})")

    def _check_possible(self) -> None:
        """Refuse, before any sampling, what no name can meet (the model's own limits are
        the sampler's to check)."""
        if self.min_len is not None and self.max_len is not None and self.min_len > self.max_len:
            raise ValueError(f"min-len {self.min_len} is above max-len {self.max_len}")
        if self.max_len is not None:
            for label, text in (("prompt", self.prompt), ("ends-with", self.ends_with)):
                if len(text) > self.max_len:
                    raise ValueError(f"{label} {text!r} is longer than max-len {self.max_len}")
            if len(self.contains) > self.max_len:
                raise ValueError(f"contains {self.contains!r} is longer than max-len")
        for label, text in (
            ("prompt", self.prompt),
            ("ends-with", self.ends_with),
            ("contains", self.contains),
        ):
            if banned := sorted(set(text) & set(self.exclude_chars)):
                raise ValueError(f"{label} {text!r} holds excluded characters {''.join(banned)!r}")

    @property
    def min_chars(self) -> int:
        """The shortest name allowed: an empty name is no name."""
        return max(1, self.min_len or 1, len(self.prompt))

    def accepts(self, name: str, source: Source = "novel") -> bool:
        """The one test every returned name passes (uniqueness aside, which is about the set)."""
        return (
            name.startswith(self.prompt)
            and name.endswith(self.ends_with)
            and self.contains in name
            and self.min_chars <= len(name) <= (self.max_len or len(name))
            and not set(name) & set(self.exclude_chars)
            and name not in self.exclude
            and (source == "novel" or not self.novel_only)
        )

    def rank_key(self, sample: Sample) -> float:
        return sample.logprob if self.rank == "total" else sample.logprob_per_token

    def constraints(self) -> dict[str, Any]:
        """The constraints that apply, as a JSON-able dict (the blocklist by its size)."""
        defaults = {f.name: f.default for f in fields(self)}
        applied = {k: getattr(self, k) for k in CONSTRAINTS if getattr(self, k) != defaults[k]}
        if "exclude" in applied:
            applied["exclude"] = len(self.exclude)
        if self.novel_only:
            applied["novel_only"] = True
        return applied

    def as_dict(self) -> dict[str, Any]:
        """Every field as JSON-able values (the blocklist as a sorted list): what a favourite
        stores to say where a name came from."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["exclude"] = sorted(self.exclude)
        values["kinds"] = dict(self.kinds)
        values["like"] = list(self.like)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SampleConfig:
        """The inverse of `as_dict`; unknown keys (from a newer version) are ignored.
        Raises ValueError, as the constructor does, for values out of range."""
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in values.items() if k in known})
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"sampling settings: {exc}") from None


def _at_least(low: int, **values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < low:
            raise ValueError(f"{name.replace('_', '-')} must be at least {low} (got {value})")


@dataclass(frozen=True)
class Sample:
    name: str
    logprob: float  # natural log-probability under the model: characters, then the end token
    source: Source
    cut: bool = False  # ran into the model's length limit unfinished; logprob has no end token
    proven: bool = False  # most likely: no name the search left unexplored ranks above it

    @property
    def logprob_per_token(self) -> float:
        """Per predicted token (each character, and the end token unless cut)."""
        return self.logprob / (len(self.name) + (not self.cut))

    @property
    def shown(self) -> str:
        """The name as a person reads it: a cut name ends with an ellipsis."""
        return self.name + "…" if self.cut else self.name



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
