"""Explore's settings: the shape of a name (ends with, contains, length), the kind of name
for a model with categories (one, any, or a mix with a weight per kind), how to sample, and
the switches. It turns them into a core `SampleConfig`, which alone checks them: its error
is what the user reads."""

from __future__ import annotations

from typing import Any

from minigpt2.core.sample.request import DEFAULT_GUIDANCE, DEFAULT_TIME_LIMIT_S, Mix, SampleConfig
from minigpt2.tui.widgets.fields import number_field, read_number
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Integer, Number
from textual.widgets import Checkbox, Input, Label, Select

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
MIX = "\tmix"  # the choice "a mix of kinds": a tab, which no kind's name holds


class ExploreSettings(VerticalScroll):
    """The form beside the candidates; scrolls only in a small terminal."""

    _categories: tuple[str, ...] = ()  # the model's, as offered now
    _weights: dict[str, Input] = {}  # noqa: RUF012 - replaced, never changed: a weight per kind

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
            yield Horizontal(id="kind-weights", classes="field-row")  # a weight per kind
        for row in range(0, len(SWITCHES), 2):
            with Horizontal(classes="switch-row"):
                for label, name, tip in SWITCHES[row:row + 2]:
                    yield Checkbox(label, id=name, compact=True, tooltip=tip)

    def on_mount(self) -> None:
        self.query_one("#category-field").display = False
        self.query_one("#kind-weights").display = False

    # --- the kinds of name -----------------------------------------------------------------

    def set_categories(self, categories: tuple[str, ...], wanted: str | None = None,
                       weights: dict[str, str] | None = None) -> None:
        """Offer the model's categories, and a mix of two or more (hidden for a single-list
        model); keep the chosen one if the model has it, else choose `wanted` if it has
        that. `weights`: the mix's weights as typed, by kind."""
        if categories == self._categories and wanted is None:
            return  # the same model, or its weights in training: leave the choice alone
        typed = {**self.weights_typed(),
                 **{k: v for k, v in (weights or {}).items() if isinstance(v, str)}}
        self._categories = categories
        select = self.query_one("#category", Select)
        current = self.choice or wanted
        mixes = [("Mix of kinds…", MIX)] if len(categories) > 1 else []
        select.set_options([(name, name) for name in categories] + mixes)
        offered = (*categories, *(value for _, value in mixes))
        select.value = current if current in offered else Select.NULL
        self._weights = {kind: Input(typed.get(kind, "1"), placeholder="0", compact=True,
                                     validators=[Number(minimum=0)], valid_empty=True)
                         for kind in categories}
        row = self.query_one("#kind-weights", Horizontal)
        row.remove_children()  # no ids: the old fields may linger until the next frame
        row.mount_all(Vertical(Label(kind, classes="field-label"), field, classes="field")
                      for kind, field in self._weights.items())
        self.query_one("#category-field").display = bool(categories)
        self._show_weights()

    @on(Select.Changed, "#category")
    def _show_weights(self) -> None:  # the message goes on to Explore, which samples anew
        self.query_one("#kind-weights").display = self.choice == MIX

    @property
    def choice(self) -> str | None:
        """A kind, MIX, or None for any kind."""
        value = self.query_one("#category", Select).value
        return value if isinstance(value, str) else None

    @property
    def category(self) -> str | None:
        """The one kind chosen; None for any kind, or a mix."""
        return None if self.choice == MIX else self.choice

    def weights_typed(self) -> dict[str, str]:
        return {kind: field.value for kind, field in self._weights.items()}

    def weight_field(self, kind: str) -> Input:
        return self._weights[kind]

    def kinds(self) -> Mix:
        """The kinds chosen and their weights (an empty weight is 0). Raises ValueError."""
        if self.choice != MIX:
            return Mix.of(self.category)
        return Mix({kind: read_number(field, kind) or 0.0 for kind, field in self._weights.items()})

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
        return values | {"category": self.choice, "kind_weights": self.weights_typed()}

    def restore(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in TEXT_SETTINGS and name != "prompt" and isinstance(value, str):
                self.query_one(f"#{name}", Input).value = value
            elif name in SWITCH_IDS and isinstance(value, bool):
                self.query_one(f"#{name}", Checkbox).value = value

    def config(self, prompt: str, seed: int, exclude: frozenset[str],
               like: tuple[str, ...] = ()) -> SampleConfig:
        """The controls as a sampling config. Raises ValueError naming a bad setting."""
        numbers = {name: read_number(self.query_one(f"#{name}", Input), label)
                   for label, name, _, _ in NUMBERS}

        def whole(name: str) -> int | None:
            value = numbers[name]
            return None if value is None else int(value)

        try:
            kinds = self.kinds() if self.categories_shown else Mix()
            return SampleConfig(
                prompt=prompt, n=whole("count") or 20,
                temperature=1.0 if numbers["temperature"] is None else numbers["temperature"],
                top_k=whole("top-k"), top_p=numbers["top-p"], seed=seed, unique=True,
                novel_only=self.switch("novel-only"),
                ends_with=self.text("ends-with"), contains=self.text("contains"),
                min_len=whole("min-len"), max_len=whole("max-len"),
                most_likely=self.switch("most-likely"),
                rank="per_char" if self.switch("per-char") else "total",
                kinds=kinds, guidance=DEFAULT_GUIDANCE if kinds else 0.0,
                exclude=exclude, time_limit_s=TIME_LIMIT_S, like=like,
            )
        except ValueError as exc:  # a range or a combination SampleConfig owns
            raise ValueError(f"Cannot sample: {exc}.") from None
