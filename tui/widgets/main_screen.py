"""The app's screen: Textual's, less one whole-screen repaint on every focus change; the
class its width gives it (`width_class`), for the app to make it with; and a tab switch done
in one frame."""

from __future__ import annotations

from collections.abc import Sequence

from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import TabbedContent, Tabs


class MainScreen(Screen[None]):
    """Textual's Screen repaints every widget on it whenever the focus moves (its `focused`
    is a repainting reactive). The widgets whose look depends on the focus are restyled
    and repainted on their own (`:focus`, `:focus-within`), so that repaint only adds a
    second full-screen render to each tab switch (about 15 ms on a busy core, and when a
    layout pass is due in the same frame, the screen is rendered twice)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


def width_class(width: int, breakpoints: Sequence[tuple[int, str]]) -> str:
    """The class Textual's horizontal breakpoints give a screen this wide: that of the
    widest breakpoint it reaches ("" for none)."""
    return max(((at, name) for at, name in breakpoints if width >= at), default=(0, ""))[1]


def show_pane(tabs: TabbedContent, pane: str, focus: Widget) -> None:
    """Show `pane` and focus `focus` (the tab bar if it cannot take the focus, as Tab would
    give), in the same frame: one layout pass and one render, not a second for the focus."""
    # Unfocus first: hiding a focused widget makes Textual focus one of its (also hidden)
    # siblings, which drags the old tab back.
    screen = tabs.screen
    screen.set_focus(None)
    tabs.active = pane
    # At once, not as Widget.focus does (later, through the app's queue): keys typed right
    # after the tab key are in that queue before it, and went to no widget at all.
    screen.set_focus(focus if focus.focusable else tabs.query_one(Tabs))
