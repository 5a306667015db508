"""The help screen: what the app does and every key (the keymap's table), on one page."""

from __future__ import annotations

from minigpt2.tui.keymap import Where, bindings, table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

ABOUT = """\
# minigpt2 — invent names with a tiny GPT-2

A small Transformer learns, letter by letter, what the names in a word list look like,
and then invents new ones.

## In a minute

1. **Explore** (F3): type the start of a name. The model proposes names that begin with
   it, each with its *score* (log-probability: closer to 0 is likelier) and where it comes
   from: **novel** (invented), **in train** or **in val** (already in the word list).
2. Press **↓** to move into the list and **ctrl+f** (or **Enter**) to keep a name.
3. **Favourites** (F4): your names, saved automatically. **Delete** removes, **ctrl+e**
   exports to .txt, .csv or .json.
4. **Train** (F2): pick a word list and a preset and press **F5**. Watch the loss fall
   and the names improve; Explore keeps working while it trains.
"""

SETTINGS = """\
## Explore's settings

- **Ends with**, **Contains**, **Min/Max length** (letters, the start included): every
  name shown meets them all. When few names fit, Explore says "found 7 of 20".
- **Kind of name** (a model trained on several lists): names of that list, or **Mix of
  kinds…** with a weight per kind (3 and 1: three parts the first); the table shows the
  kind that likes each name most.
- **Like: 5 favourites** (after **More like these** in Favourites): names that share what
  those favourites share, never one of them; **ctrl+g** goes back to plain names.
- **Most likely**: the likeliest names under the same constraints, not random draws.
  **Rank per char** ranks by score per letter instead of in total (the default, which
  favours short names); **Sort by score** orders the table by it.
- **Temperature**: below 1 plays safe, above 1 takes risks; 0 always picks the likeliest
  letter.
- **Top-k** / **Top-p**: only draw from the k likeliest letters, or from the likeliest
  letters that together hold probability p. Empty means off.
- **Only new names** hides names already in the word list.
- The **attention map** shows, for the selected name, how much each letter (row) looks at
  each earlier letter (column) when it guesses the next one; `^` is the start.

Press **Escape** to close.
"""

HELP = "\n\n".join((ABOUT.rstrip(), "## Keys", table(), SETTINGS))


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings(Where.HELP_DIALOG)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Markdown(HELP)
