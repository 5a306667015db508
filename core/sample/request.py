"""What a sampler is asked for and what it gives back: plain, torch-free types.

The app imports these before torch is loaded (its first frame must not wait a second and
more); the sampler itself lives in sampler.py. `SampleConfig` is the one place that checks
sampling settings: the CLI and the Explore pane build one and show its error.

Each SampleConfig field declares, in an `Option`, how a person gives it: its flag, label,
help, default, whether its text is case-folded, and when it applies. The CLI's arguments,
Explore's controls, case folding and a favourite's summary are built from these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
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

# Names like examples (like.py): the guidance weight towards what the examples share, and
# how many examples a request keeps (more say nothing new). 0 samples from the model as
# adapted to the examples; more shares their trait more often, but the names lose more of
# their look (docs/benchmarks.md).
DEFAULT_LIKE_STRENGTH = 0.0
MAX_LIKE_EXAMPLES = 1000
MAX_SHOWN = 500  # Explore's "How many" at most: a list to choose from, not a word list


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


# --- one declaration per sampling option ----------------------------------------------------


@dataclass(frozen=True)
class Applies:
    """When an option has any effect: in words for a person, and as a test of a request."""

    when: str  # e.g. "with --category"
    test: Callable[[SampleConfig], bool]


ALWAYS = Applies("always", lambda _: True)
WITH_A_KIND = Applies("with --category", lambda config: bool(config.kinds))
WITH_EXAMPLES = Applies("with --like", lambda config: bool(config.like))
# What shapes random draws: the search of --most-likely draws none.
DRAWN = Applies("without --most-likely", lambda config: not config.most_likely)
RANKED = Applies("with --most-likely or --sort",
                 lambda config: config.most_likely or config.sort_by_likelihood)

ControlKind = Literal["text", "whole", "number", "switch", "given", "default", "fixed"]


@dataclass(frozen=True)
class Control:
    """How Explore sets an option. A widget ("text", "whole", "number", "switch") with an id;
    "given": the pane passes it (the prompt line, the seed, the blocklist, the kinds chosen,
    the examples, the time limit); "default": the Option's default where it applies, else
    the field's; "fixed": always `on`."""

    kind: ControlKind
    id: str = ""
    empty: str = ""  # what an empty field means ("any", "off"); a field with a default shows it
    tip: str = ""  # a switch's tooltip
    minimum: float | None = None  # a number field's own check, as the user types
    maximum: float | None = None
    on: Any = True  # a switch's value when checked (else the field's default); a fixed value
    asks: bool = True  # False: Explore applies it to the names shown, and needs none new


Summary = Literal["always", "changed", "never"]  # when a favourite's one-line summary shows it


@dataclass(frozen=True)
class Option:
    """One SampleConfig field as a person gives it: the CLI's flag, Explore's control, case
    folding, a favourite's summary, and when it applies. The field's own default is the
    core's; `default`, where given, is what a person gets who leaves the option out, where
    it applies (`SampleConfig.asked`)."""

    flag: str  # e.g. "--ends-with"
    label: str  # the app's name for it, e.g. "Ends with"
    help: str  # the CLI's help
    control: Control
    applies: Applies = ALWAYS
    folds: bool = False  # text written as the training words were (lower-cased, composed)
    constraint: bool = False  # every returned name meets it; reported in --json records
    default: Any = None
    short: str = ""  # in a favourite's summary (e.g. "T"); "" = the flag's name
    summary: Summary = "changed"
    metavar: str | None = None
    # "custom": the CLI builds the argument itself (--category, shared with eval and score)
    cli: Literal["argument", "custom"] = "argument"

    @property
    def name(self) -> str:
        """The flag without its dashes: "ends-with"."""
        return self.flag.lstrip("-")

    @property
    def summary_label(self) -> str:
        return self.short or self.name


def _option(default: Any, option: Option) -> Any:  # noqa: ANN401 - a dataclass field
    return field(default=default, metadata={OPTION: option})


OPTION = "option"  # the metadata key of a field's Option
GIVEN = Control("given")
AS_DEFAULT = Control("default")


@dataclass(frozen=True)
class SampleConfig:
    """A request for names. Every constraint is exact: each returned name meets all of them.
    Each field declares, in its Option, how a person gives it; Explore shows its controls
    in the order of the fields."""

    prompt: str = _option("", Option(
        "--prompt", "Start of the name", "every name starts with this", GIVEN,
        folds=True, constraint=True, summary="never"))
    min_len: int | None = _option(None, Option(  # characters, prompt included
        "--min-len", "Min length", "shortest name in characters",
        Control("whole", "min-len", "any"), constraint=True))
    max_len: int | None = _option(None, Option(  # None = the model's limit
        "--max-len", "Max length", "longest name in characters",
        Control("whole", "max-len", "any"), constraint=True))
    temperature: float = _option(1.0, Option(  # 0 = greedy
        "--temperature", "Temperature", "0 = greedy", Control("number", "temperature", minimum=0),
        applies=DRAWN, short="T", summary="always"))
    n: int = _option(20, Option(
        "-n", "How many", "how many names",
        Control("whole", "count", minimum=1, maximum=MAX_SHOWN),
        summary="never"))
    top_k: int | None = _option(None, Option(
        "--top-k", "Top-k", "draw from the k likeliest next characters",
        Control("whole", "top-k", "off", minimum=1), applies=DRAWN, summary="always"))
    top_p: float | None = _option(None, Option(
        "--top-p", "Top-p", "draw from the likeliest next characters that make up this share",
        Control("number", "top-p", "off"), applies=DRAWN, summary="always"))
    ends_with: str = _option("", Option(
        "--ends-with", "Ends with", "every name ends with S", Control("text", "ends-with", "any"),
        folds=True, constraint=True, metavar="S"))
    contains: str = _option("", Option(
        "--contains", "Contains", "every name contains S", Control("text", "contains", "any"),
        folds=True, constraint=True, metavar="S"))
    exclude_chars: str = _option("", Option(
        "--exclude-chars", "Never these", "no name holds any of these characters",
        Control("text", "exclude-chars", "none"), folds=True, constraint=True, metavar="CHARS"))
    exclude: frozenset[str] = _option(frozenset(), Option(  # these words are never returned
        "--exclude", "Blocked names", "blocklist: one word per line", GIVEN, folds=True,
        constraint=True, summary="never", metavar="FILE"))
    seed: int | None = _option(None, Option(
        "--seed", "Seed", "the same seed, the same names", GIVEN, summary="always"))
    novel_only: bool = _option(False, Option(
        "--novel-only", "Only new names", "skip names in the data",
        Control("switch", "novel-only", tip="Hide names that are in the word list"),
        constraint=True))
    unique: bool = _option(False, Option(
        "--unique", "No repeats", "no repeated names", Control("fixed"), summary="never"))
    sort_by_likelihood: bool = _option(False, Option(
        "--sort", "Sort by score", "most likely first",
        Control("switch", "sort", tip="Most likely first, by the ranking below", asks=False),
        summary="never"))
    most_likely: bool = _option(False, Option(  # a search instead of random draws
        "--most-likely", "Most likely", "the likeliest names (an exact search)",
        Control("switch", "most-likely", tip="The most likely names (an exact search under the"
                " same constraints), not random draws")))
    rank: Rank = _option("total", Option(  # how most_likely (and sorting) ranks
        "--rank", "Rank per char",
        "by total log-probability (the likeliest names) or per character",
        Control("switch", "per-char", on="per_char",
                tip="Rank by log-probability per character, not in total: favours longer names"),
        applies=RANKED))
    include_cut: bool = _option(False, Option(
        "--include-cut", "Cut names", "also names cut at the model's length limit",
        Control("fixed"), summary="never"))
    time_limit_s: float | None = _option(DEFAULT_TIME_LIMIT_S, Option(  # then return what was found
        "--time-limit", "Time limit", "return what was found after S seconds", GIVEN,
        summary="never", metavar="S"))
    category: str | None = _option(None, Option(  # one kind of name; None = any
        "--category", "Kind of name", "names of this kind", AS_DEFAULT, summary="never",
        cli="custom"))
    # Kinds mixed by weight (a Mix: shares summing to 1). One kind is `category` alone, and
    # either field may give it: the other follows. Empty: `category` says.
    kinds: Mapping[str, float] = _option(Mix(), Option(
        "--category", "Kind of name", "names of these kinds: KIND or KIND=WEIGHT, repeated",
        GIVEN, short="kind", cli="custom"))
    guidance: float = _option(0.0, Option(  # lean towards what sets the kind apart (guidance.py)
        "--guidance", "Guidance", "lean towards names typical of the kind (0 = none)",
        AS_DEFAULT, applies=WITH_A_KIND, default=DEFAULT_GUIDANCE,
        metavar="W"))
    like: tuple[str, ...] = _option((), Option(  # never returned themselves (like.py)
        "--like", "Like", "names like this one; give it again", GIVEN, folds=True,
        summary="never", metavar="NAME"))
    like_strength: float = _option(DEFAULT_LIKE_STRENGTH, Option(
        "--like-strength", "Like strength", "how far to lean towards the examples (0 = least)",
        AS_DEFAULT, applies=WITH_EXAMPLES, metavar="W"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "exclude", frozenset(self.exclude))
        self._settle_kinds()
        self._settle_like()
        _at_least(1, n=self.n, top_k=self.top_k, min_len=self.min_len, max_len=self.max_len)
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise _invalid("temperature", f"must be 0 or more (got {self.temperature})")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise _invalid("top_p", f"must be in (0, 1] (got {self.top_p})")
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise _invalid("seed", f"must be between 0 and {MAX_SEED} (got {self.seed})")
        if self.time_limit_s is not None and not (
            math.isfinite(self.time_limit_s) and self.time_limit_s > 0
        ):
            raise _invalid("time_limit_s", f"must be a positive number (got {self.time_limit_s})")
        if self.rank not in ("total", "per_char"):
            raise _invalid("rank", f"must be 'total' or 'per-char' (got {self.rank!r})")
        if not (math.isfinite(self.guidance) and 0 <= self.guidance <= 10):
            raise _invalid("guidance", f"must be between 0 and 10 (got {self.guidance})")
        self._check_possible()

    @classmethod
    def asked(cls, **given: Any) -> SampleConfig:  # noqa: ANN401
        """A request as a person gives it (the CLI, Explore): the options given, and each
        other one at its Option's default where that applies (guidance, with a kind)."""
        config = cls(**given)
        defaults = {name: option.default for name, option in options().items()
                    if name not in given and option.default is not None
                    and option.applies.test(config)}
        return replace(config, **defaults) if defaults else config

    def not_applying(self, given: Iterable[str]) -> list[Option]:
        """The options among `given` (field names) that have no effect on this request."""
        declared = options()
        return [declared[name] for name in given if not declared[name].applies.test(self)]

    def folded_with(self, fold: Callable[[str], str]) -> SampleConfig:
        """The request with the text of each folding option passed through `fold`."""
        changed: dict[str, Any] = {}
        for name, option in options().items():
            if option.folds:
                value = getattr(self, name)
                changed[name] = (fold(value) if isinstance(value, str)
                                 else type(value)(fold(item) for item in value))
        return replace(self, **changed)

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
            raise _invalid("like", "expected a list of names", ":")
        examples = tuple(dict.fromkeys(name.strip() for name in self.like))
        if "" in examples:
            raise _invalid("like", "an empty example name", ":")
        object.__setattr__(self, "like", examples[:MAX_LIKE_EXAMPLES])
        if not (math.isfinite(self.like_strength) and self.like_strength >= 0):
            raise _invalid("like_strength",
                           f"like strength must be 0 or more (got {self.like_strength})", ":")

    def _check_possible(self) -> None:
        """Refuse, before any sampling, what no name can meet (the model's own limits are
        the sampler's to check). The option at fault leads, by its flag."""
        if self.min_len is not None and self.max_len is not None and self.min_len > self.max_len:
            raise _invalid("min_len", f"{self.min_len} is above max-len {self.max_len}")
        texts = {name: getattr(self, name) for name in ("prompt", "ends_with", "contains")}
        if self.max_len is not None:
            for name, text in texts.items():
                if len(text) > self.max_len:
                    raise _invalid(name, f"{text!r} is longer than max-len {self.max_len}")
        for name, text in texts.items():
            if banned := sorted(set(text) & set(self.exclude_chars)):
                raise _invalid(name, f"{text!r} holds {''.join(banned)!r}, excluded by "
                                     f"{options()['exclude_chars'].flag}")

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
        applied = {f.name: getattr(self, f.name) for f in fields(self)
                   if f.metadata[OPTION].constraint and getattr(self, f.name) != f.default}
        if "exclude" in applied:
            applied["exclude"] = len(self.exclude)
        return applied

    def describe_constraints(self) -> str:
        """The constraints that apply by their flags, e.g. "--ends-with 'a', --max-len 3"."""
        declared = options()
        return ", ".join(declared[name].flag + ("" if value is True else f" {value!r}")
                         for name, value in self.constraints().items())

    def as_dict(self) -> dict[str, Any]:
        """Every field as JSON-able values (the blocklist as a sorted list)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["exclude"] = sorted(self.exclude)
        values["kinds"] = dict(self.kinds)
        values["like"] = list(self.like)
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> SampleConfig:
        """The inverse of `as_dict`; unknown keys (from a newer version) are ignored.
        Raises ValueError, as the constructor does, for values out of range."""
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in values.items() if k in known})
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"sampling settings: {exc}") from None


def options() -> dict[str, Option]:
    """Each SampleConfig field's Option, in the order of the fields."""
    return {f.name: f.metadata[OPTION] for f in fields(SampleConfig)}


def _invalid(name: str, problem: str, joint: str = "") -> ValueError:
    """An error that names the option by the flag a person types."""
    return ValueError(f"{options()[name].flag}{joint} {problem}")


def _at_least(low: int, **values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < low:
            raise _invalid(name, f"must be at least {low} (got {value})")


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
