"""The keys that work now, along the bottom: one widget, one line of text.

Textual's Footer is a widget per key, and it rebuilds them all (mounted and styled afresh)
whenever the bindings may have changed: on every tab switch, as each tab has its own keys.
On 2 busy cores that rebuild took 50-80 ms of each tab switch. This footer looks the same,
repaints one line when the keys shown change, and a click on a key presses it.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

Shown = tuple[tuple[str, str, str, bool], ...]  # (key, shown as, description, enabled)
PALETTE_ACTION = "app.command_palette"


class KeyFooter(Widget):
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown = ()
        self._spans: list[tuple[int, int, str, bool]] = []  # columns of each key, for clicks

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        shown = self._read(screen)
        if shown != self._shown:  # mostly they are the same: a focus change within a tab
            self._shown = shown
            self.refresh()

    def _read(self, screen: Screen) -> Shown:
        """One key per action, as Textual's Footer shows them; the palette's key last."""
        keys: dict[str, tuple[str, str, str, bool]] = {}
        palette = None
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            item = (binding.key, self.app.get_key_display(binding), binding.description,
                    enabled)
            if binding.action in ("command_palette", PALETTE_ACTION):
                palette = palette or item
            elif binding.show:
                keys.setdefault(binding.action, item)
        return (*keys.values(), *([palette] if palette else []))

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        text, spans = Text(no_wrap=True, overflow="crop"), []
        *keys, palette = self._shown or (None,)
        palette_text = "" if palette is None else f"▏{palette[1]} {palette[2]} "
        room = self.size.width - cell_len(palette_text)
        for key, display, description, enabled in keys:  # type: ignore[misc]
            if text.cell_len + cell_len(f" {display} {description} ") > room:
                break  # whole keys only: the ones that do not fit are in help (F1)
            start = len(text)
            dim = Style(dim=not enabled)
            text.append(f" {display} ", style=key_style + dim)
            text.append(f"{description} ", style=description_style + dim)
            spans.append((start, len(text), key, enabled))
        if palette is not None:  # docked right
            key, display, description, enabled = palette
            start = self.size.width - cell_len(palette_text)
            text.pad_right(max(0, start - text.cell_len))
            text.append("▏", style="dim")
            text.append(display, style=key_style)
            text.append(f" {description} ", style=description_style)
            spans.append((start, len(text), key, enabled))
        self._spans = spans
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key) if enabled else self.app.bell()
                return
