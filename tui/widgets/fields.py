"""A labelled number field, and reading it: one way for every form in the app; an input
that repaints itself alone as the user types."""

from __future__ import annotations

from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.validation import Validator
from textual.widgets import Input, Label


class TypingInput(Input):
    """An Input whose size does not follow its text (its CSS fixes its width and height).
    Textual's Input asks for a layout pass of the whole screen on every keystroke: its
    virtual size follows the text, for scrollbars an Input never shows. That pass (4-10 ms
    of the event loop a key on a busy core) is skipped; scrolling along a long text reads
    the virtual size itself, so it still follows the cursor."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)


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
