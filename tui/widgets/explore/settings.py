"""Explore's settings: the shape of a name (ends with, contains, characters never used,
length), the kind of name for a model with categories (one, any, or a mix with a weight per
kind), how to sample, and the switches. Each control is built from its option's declaration
in core (request.py: label, id, default, what empty means). It turns them into a core
`SampleConfig`, which alone checks them: its error is what the user reads."""

from __future__ import annotations

import re
from typing import Any

from minigpt2.core.sample.request import (
    DEFAULT_TIME_LIMIT_S,
    Control,
    Mix,
    SampleConfig,
    options,
)
from minigpt2.tui.widgets.fields import number_field, parse_number
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Integer, Number, Validator
from textual.widgets import Checkbox, Input, Label, Select

TIME_LIMIT_S = DEFAULT_TIME_LIMIT_S  # then show the names found ("found 7 of 20")
# The options with a control here, by kind, in the order of SampleConfig's fields (each
# field's Option says which control it has, its label and what an empty field means).
TEXTS = {name: option for name, option in options().items() if option.control.kind == "text"}
NUMBERS = {name: option for name, option in options().items()
           if option.control.kind in ("whole", "number")}
SWITCHES = {name: option for name, option in options().items()
            if option.control.kind == "switch"}
FIXED = {name: option.control.on for name, option in options().items()
         if option.control.kind == "fixed"}
TEXT_SETTINGS = ("prompt", *(o.control.id for o in (*TEXTS.values(), *NUMBERS.values())))
SWITCH_IDS = tuple(option.control.id for option in SWITCHES.values())
ANY_KIND = "Any kind"
MIX = "\tmix"  # the choice "a mix of kinds": a tab, which no kind's name holds
FLAG = re.compile(r"(?<![\w-])--?[a-z][a-z-]*")  # a flag in a core error: "--min-len"


def _shown(value: Any) -> str:  # noqa: ANN401 - a field's value
    """A field's value as typed into its Input: empty for none."""
    return "" if value is None else str(value)


def _validator(control: Control) -> Validator:
    kind = Integer if control.kind == "whole" else Number
    return kind(minimum=control.minimum, maximum=control.maximum)


# Each number's check, made once: its field checks it as the user types, and every request
# (a keystroke's) checks the value again, filled or not.
VALIDATORS = {option.control.id: _validator(option.control) for option in NUMBERS.values()}


# The form's values (`ExploreSettings.values`) as its fields are filled, what a new user
# gets: text fields hold text (numbers too), switches a bool; then the kind chosen (None:
# any, MIX: a mix) and the mix's weights as typed.
FIELD_DEFAULTS: dict[str, str | bool] = {
    **{option.control.id: "" for option in TEXTS.values()},
    **{option.control.id: _shown(SampleConfig.__dataclass_fields__[name].default)
       for name, option in NUMBERS.items()},
    **{option.control.id: False for option in SWITCHES.values()},
}
DEFAULT_VALUES: dict[str, Any] = {**FIELD_DEFAULTS, "category": None, "kind_weights": {}}
WEIGHT = Number(minimum=0)  # a kind's weight in a mix
DEFAULT_WEIGHT = "1"


def offered_choice(wanted: str | None, categories: tuple[str, ...]) -> str | None:
    """`wanted` if a model with `categories` offers it (a kind, or MIX for two or more);
    else None, any kind."""
    offered = (*categories, MIX) if len(categories) > 1 else categories
    return wanted if wanted in offered else None


def request(values: dict[str, Any], categories: tuple[str, ...], prompt: str, seed: int,
            exclude: frozenset[str], like: tuple[str, ...] = ()) -> SampleConfig:
    """The form's values, for a model with `categories`, as a sampling config. Raises
    ValueError naming a bad setting. The one reading of the form: of its fields, and of the
    values it will be filled with (Explore's first names come before its fields)."""
    config: dict[str, Any] = dict(FIXED)
    config |= {name: values[option.control.id] for name, option in TEXTS.items()}
    for name, option in NUMBERS.items():
        control = option.control
        number = parse_number(values[control.id], option.label, [VALIDATORS[control.id]])
        if number is not None:
            config[name] = int(number) if control.kind == "whole" else number
    config |= {name: option.control.on for name, option in SWITCHES.items()
               if option.control.asks and values[option.control.id]}
    try:
        kinds = _kinds(offered_choice(values["category"], categories), categories,
                       values["kind_weights"])
        return SampleConfig.asked(**config, prompt=prompt, seed=seed, exclude=exclude,
                                  like=like, kinds=kinds, time_limit_s=TIME_LIMIT_S)
    except ValueError as exc:  # a range or a combination SampleConfig owns
        raise ValueError(f"Cannot sample: {_as_named_here(str(exc))}.") from None


def _kinds(choice: str | None, categories: tuple[str, ...], weights: dict[str, str]) -> Mix:
    """The kinds chosen and their weights (an empty weight is 0). Raises ValueError."""
    if choice != MIX:
        return Mix.of(choice)
    return Mix({kind: parse_number(weights.get(kind, DEFAULT_WEIGHT), kind, [WEIGHT]) or 0.0
                for kind in categories})


def _as_named_here(error: str) -> str:
    """A core error for the app, which has no flags: "--min-len 8" as "min-len 8"."""
    flags = {option.flag: option.name for option in options().values()}
    return FLAG.sub(lambda match: flags.get(match[0], match[0]), error)


class ExploreSettings(VerticalScroll):
    """The form beside the candidates; scrolls only in a small terminal. Empty until
    `fill`: its 48 widgets cost the first frame as much as the rest of the app, and the
    first names as much again. Until then it answers from the values it will be filled
    with (`values`): the defaults, and what `restore` and `set_categories` gave it."""

    _categories: tuple[str, ...] = ()  # the model's, as offered now
    _weights: dict[str, Input] = {}  # noqa: RUF012 - replaced, never changed: a weight per kind
    filled = False  # the fields are in
    _composes_fields = False

    def __init__(self, *, id: str | None = None, classes: str | None = None  # noqa: A002
                 ) -> None:
        super().__init__(id=id, classes=classes)
        self._unfilled = dict(DEFAULT_VALUES)  # the values the fields are to be filled with

    async def fill(self) -> None:
        """Put the fields in, with the values given until now."""
        self._composes_fields = True
        await self.recompose()
        self.query_one("#category-field").display = False
        self.query_one("#kind-weights").display = False
        self.filled = True
        values = self._unfilled
        self.restore(values)
        if self._categories:  # offered before the fields were in: now into them (cleared
            # first, or set_categories takes them for the same model's and leaves them be)
            categories, self._categories = self._categories, ()
            self.set_categories(categories, values["category"], values["kind_weights"])

    def compose(self) -> ComposeResult:
        if not self._composes_fields:
            return
        texts = list(TEXTS.values())
        for row in range(0, len(texts), 2):  # two to a row: three are cut short at 80 columns
            with Horizontal(classes="field-row"):
                for option in texts[row:row + 2]:
                    field = Input(id=option.control.id, compact=True,
                                  placeholder=option.control.empty)
                    yield Vertical(Label(option.label, classes="field-label"), field,
                                   classes="field")
        numbers = list(NUMBERS.values())
        for row in range(0, len(numbers), 2):
            with Horizontal(classes="field-row"):
                for option in numbers[row:row + 2]:
                    control = option.control
                    default = str(FIELD_DEFAULTS[control.id])
                    yield number_field(option.label, control.id, VALIDATORS[control.id],
                                       default or control.empty, value=default)
        with Vertical(id="category-field", classes="field"):
            yield Label("Kind of name", classes="field-label")
            yield Select[str]([], id="category", prompt=ANY_KIND, compact=True)
            yield Horizontal(id="kind-weights", classes="field-row")  # a weight per kind
        switches = list(SWITCHES.values())
        for row in range(0, len(switches), 2):
            with Horizontal(classes="switch-row"):
                for option in switches[row:row + 2]:
                    yield Checkbox(option.label, id=option.control.id, compact=True,
                                   tooltip=option.control.tip)

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
        choice = offered_choice(self.choice or wanted, categories)
        self._categories = categories
        if not self.filled:
            self._unfilled["category"] = choice
            self._unfilled["kind_weights"] = {kind: typed.get(kind, DEFAULT_WEIGHT)
                                              for kind in categories}
            return
        select = self.query_one("#category", Select)
        mixes = [("Mix of kinds…", MIX)] if len(categories) > 1 else []
        select.set_options([(name, name) for name in categories] + mixes)
        select.value = Select.NULL if choice is None else choice
        self._weights = {kind: Input(typed.get(kind, DEFAULT_WEIGHT), placeholder="0",
                                     compact=True, validators=[WEIGHT], valid_empty=True)
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
        if not self.filled:
            return self._unfilled["category"]
        value = self.query_one("#category", Select).value
        return value if isinstance(value, str) else None

    @property
    def category(self) -> str | None:
        """The one kind chosen; None for any kind, or a mix."""
        return None if self.choice == MIX else self.choice

    def weights_typed(self) -> dict[str, str]:
        if not self.filled:
            return dict(self._unfilled["kind_weights"])
        return {kind: field.value for kind, field in self._weights.items()}

    def weight_field(self, kind: str) -> Input:
        return self._weights[kind]

    # --- reading and restoring --------------------------------------------------------------

    def switch(self, name: str) -> bool:
        if not self.filled:
            return bool(self._unfilled[name])
        return self.query_one(f"#{name}", Checkbox).value

    def text(self, name: str) -> str:
        if not self.filled:
            return str(self._unfilled[name])
        return self.query_one(f"#{name}", Input).value

    def values(self) -> dict[str, Any]:
        """The controls as they are (prompt aside), to restore them on the next launch."""
        values: dict[str, Any] = {name: self.text(name) for name in TEXT_SETTINGS
                                  if name != "prompt"}
        values |= {name: self.switch(name) for name in SWITCH_IDS}
        return values | {"category": self.choice, "kind_weights": self.weights_typed()}

    def restore(self, values: dict[str, Any]) -> None:
        """The text fields and switches as `values` has them (as `values()` gave them),
        where they fit: a settings file may hold anything."""
        fitting = {name: value for name, value in values.items() if name in FIELD_DEFAULTS
                   and isinstance(value, type(FIELD_DEFAULTS[name]))}
        if not self.filled:
            self._unfilled |= fitting
            return
        for name, value in fitting.items():
            if isinstance(value, bool):
                self.query_one(f"#{name}", Checkbox).value = value
            else:
                self.query_one(f"#{name}", Input).value = value

    def config(self, prompt: str, seed: int, exclude: frozenset[str],
               like: tuple[str, ...] = ()) -> SampleConfig:
        """The controls as a sampling config. Raises ValueError naming a bad setting."""
        return request(self.values(), self._categories, prompt, seed, exclude, like)

    def apply(self, config: SampleConfig) -> None:
        """Set the controls to `config` (a favourite's settings): its kinds too, where this
        model has them."""
        for name, option in (TEXTS | NUMBERS).items():
            self.query_one(f"#{option.control.id}", Input).value = _shown(getattr(config, name))
        for name, option in SWITCHES.items():
            checked = getattr(config, name) == option.control.on
            self.query_one(f"#{option.control.id}", Checkbox).value = checked
        kinds = Mix.of(config.kinds)
        choice = config.category if len(kinds) == 1 else (MIX if kinds else None)
        if choice is not None and choice not in (*self._categories, MIX):
            choice = None  # a kind this model lacks: any kind
        for kind, field in self._weights.items():
            field.value = f"{kinds.get(kind, 0):g}" if choice == MIX else field.value
        self.query_one("#category", Select).value = Select.NULL if choice is None else choice
