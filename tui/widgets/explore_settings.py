"""Explore's settings: the shape of a name (ends with, contains, length), the kind of name
for a model with categories, how to sample, and the switches. It turns them into a core
`SampleConfig`, which alone checks them: its error is what the user reads."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Integer, Number
from textual.widgets import Checkbox, Input, Label, Select

from ...core.categories import DEFAULT_GUIDANCE
from ...core.sampling import DEFAULT_TIME_LIMIT_S, SampleConfig
from .fields import number_field, read_number

MAX_COUNT = 500
TIME_LIMIT_S = DEFAULT_TIME_LIMIT_S  # then show the names found ("found 7 of 20")
# (label, id, what is typed, what empty means); SampleConfig checks the ranges it owns.
NUMBERS = (
    ("Min length", "min-len", Integer(), "any"),
    ("Max length", "max-len", Integer(), "any"),
    ("Temperature", "temperature", Number(minimum=0), "1.0"),
    ("How many", "count", Integer(minimum=1, maximum=MAX_COUNT), "20"),
    ("Top-k", "top-k", Integer(minimum=1), "off"),
    ("Top-p", "top-p", Number(), "off"),
)
TEXTS = (("Ends with", "ends-with"), ("Contains", "contains"))
# (label, id, tooltip) of each switch, two to a row
SWITCHES = (
    ("Only new names", "novel-only", "Hide names that are in the word list"),
    ("Sort by score", "sort", "Most likely first, by the ranking below"),
    ("Most likely", "most-likely",
     "The most likely names (an exact search under the same constraints), not random draws"),
    ("Rank per char", "per-char",
     "Rank by log-probability per character, not in total: favours longer names"),
)
TEXT_SETTINGS = ("prompt", *(name for _, name in TEXTS), *(name for _, name, _, _ in NUMBERS))
SWITCH_IDS = tuple(name for _, name, _ in SWITCHES)
ANY_KIND = "Any kind"


class ExploreSettings(VerticalScroll):
    """The form beside the candidates; scrolls only in a small terminal."""

    _categories: tuple[str, ...] = ()  # the model's, as offered now

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            for label, name in TEXTS:
                yield Vertical(Label(label, classes="field-label"),
                               Input(id=name, compact=True, placeholder="any"), classes="field")
        for row in range(0, len(NUMBERS), 2):
            with Horizontal(classes="field-row"):
                for label, name, validator, placeholder in NUMBERS[row:row + 2]:
                    value = {"temperature": "1.0", "count": "20"}.get(name, "")
                    yield number_field(label, name, validator, placeholder, value=value)
        with Vertical(id="category-field", classes="field"):
            yield Label("Kind of name", classes="field-label")
            yield Select[str]([], id="category", prompt=ANY_KIND, compact=True)
        for row in range(0, len(SWITCHES), 2):
            with Horizontal(classes="switch-row"):
                for label, name, tip in SWITCHES[row:row + 2]:
                    yield Checkbox(label, id=name, compact=True, tooltip=tip)

    def on_mount(self) -> None:
        self.query_one("#category-field").display = False

    # --- the kinds of name -----------------------------------------------------------------

    def set_categories(self, categories: tuple[str, ...], wanted: str | None = None) -> None:
        """Offer the model's categories (hidden for a single-list model); keep the chosen
        one if the model has it, else choose `wanted` if it has that."""
        if categories == self._categories and wanted is None:
            return  # the same model, or its weights in training: leave the choice alone
        self._categories = categories
        select = self.query_one("#category", Select)
        current = self.category or wanted
        select.set_options([(name, name) for name in categories])
        select.value = current if current in categories else Select.NULL
        self.query_one("#category-field").display = bool(categories)

    @property
    def category(self) -> str | None:
        value = self.query_one("#category", Select).value
        return value if isinstance(value, str) else None

    @property
    def categories_shown(self) -> bool:
        return bool(self.query_one("#category-field").display)

    # --- reading and restoring --------------------------------------------------------------

    def switch(self, name: str) -> bool:
        return self.query_one(f"#{name}", Checkbox).value

    def text(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value

    def values(self) -> dict[str, Any]:
        """The controls as they are (prompt aside), to restore them on the next launch."""
        values: dict[str, Any] = {n: self.text(n) for n in TEXT_SETTINGS if n != "prompt"}
        values |= {n: self.switch(n) for n in SWITCH_IDS}
        return values | {"category": self.category}

    def restore(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in TEXT_SETTINGS and name != "prompt" and isinstance(value, str):
                self.query_one(f"#{name}", Input).value = value
            elif name in SWITCH_IDS and isinstance(value, bool):
                self.query_one(f"#{name}", Checkbox).value = value

    def config(self, prompt: str, seed: int, exclude: frozenset[str]) -> SampleConfig:
        """The controls as a sampling config. Raises ValueError naming a bad setting."""
        numbers = {name: read_number(self.query_one(f"#{name}", Input), label)
                   for label, name, _, _ in NUMBERS}

        def whole(name: str) -> int | None:
            value = numbers[name]
            return None if value is None else int(value)

        category = self.category if self.categories_shown else None
        try:
            return SampleConfig(
                prompt=prompt, n=whole("count") or 20,
                temperature=1.0 if numbers["temperature"] is None else numbers["temperature"],
                top_k=whole("top-k"), top_p=numbers["top-p"], seed=seed, unique=True,
                novel_only=self.switch("novel-only"),
                ends_with=self.text("ends-with"), contains=self.text("contains"),
                min_len=whole("min-len"), max_len=whole("max-len"),
                most_likely=self.switch("most-likely"),
                rank="per_char" if self.switch("per-char") else "total",
                category=category, guidance=DEFAULT_GUIDANCE if category else 0.0,
                exclude=exclude, time_limit_s=TIME_LIMIT_S,
            )
        except ValueError as exc:  # a range or a combination SampleConfig owns
            raise ValueError(f"Cannot sample: {exc}.") from None
