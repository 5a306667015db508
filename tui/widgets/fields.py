"""A labelled number field, and reading it: one way for every form in the app; an input
that repaints itself alone as the user types."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.validation import Validator
from textual.widgets import Input, Label

# Input's own keys, not those it inherits (↓ scrolls a widget; in the prompt it goes on to
# the candidates): key -> action.
EDITING_KEYS = {key.strip(): binding.action for binding in Input.BINDINGS
                if isinstance(binding, Binding) for key in binding.key.split(",")}


class TypingInput(Input):
    """An Input whose size does not follow its text (its CSS fixes its width and height).
    Textual's Input asks for a layout pass of the whole screen on every keystroke: its
    virtual size follows the text, for scrollbars an Input never shows. That pass (4-10 ms
    of the event loop a key on a busy core) is skipped; scrolling along a long text reads
    the virtual size itself, so it still follows the cursor."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    async def _on_key(self, event: events.Key) -> None:
        """Its own editing keys (ctrl+a home, ctrl+k delete to the end, ...) at once, in the
        order typed. Textual runs a widget's binding only once the key has bubbled up to the
        app, while a letter goes in as it arrives: with keys queued behind ctrl+a ctrl+k (a
        quick typist, a busy event loop) the word typed after them went in first and was
        then deleted."""
        action = next((EDITING_KEYS[key] for key in event.aliases if key in EDITING_KEYS), None)
        if action is None:  # a letter, or a key for the widgets around (↓: the candidates)
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)

    def _on_hide(self, event: events.Hide) -> None:
        """Keep the focus through a Hide that comes late: a layout pass from before the
        field's tab was shown again can post it once F3 has focused it, and Textual's own
        handler would then hand the focus to a sibling (keys typed next went there). A field
        that is hidden for real has a hidden ancestor; only then is it blurred."""
        if self.has_focus and all(node.display for node in self.ancestors_with_self):
            event.prevent_default()


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
    return parse_number(widget.value, label, widget.validators)


def parse_number(text: str, label: str, validators: Sequence[Validator]) -> float | None:
    """A number field's text as a number, checked as its field checks it; None if empty.
    Raises ValueError naming the field."""
    text = text.strip()
    if not text:
        return None
    failures = [failure for validator in validators
                for failure in validator.validate(text).failure_descriptions]
    if failures:
        raise ValueError(f"{label}: {text!r}: {' '.join(failures)}")
    return float(text)
