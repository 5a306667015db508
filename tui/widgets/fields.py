"""A labelled number field, and reading it: one way for every form in the app."""

from __future__ import annotations

from textual.containers import Vertical
from textual.validation import Validator
from textual.widgets import Input, Label


def number_field(label: str, name: str, validator: Validator, placeholder: str = "", *,
                 value: str = "") -> Vertical:
    """A label over a compact input that Textual's `validator` checks as the user types."""
    return Vertical(
        Label(label, classes="field-label"),
        Input(value, id=name, placeholder=placeholder, validators=[validator],
              valid_empty=True, compact=True),
        classes="field",
    )


def read_number(widget: Input, label: str) -> float | None:
    """The field's number; None if empty. Raises ValueError naming the field."""
    text = widget.value.strip()
    if not text:
        return None
    result = widget.validate(text)
    if result is not None and not result.is_valid:
        raise ValueError(f"{label}: {text!r}: {' '.join(result.failure_descriptions)}")
    return float(text)
