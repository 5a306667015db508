"""Favourites: the names kept, where they came from; remove and export; sample again as
one was found (its settings back in Explore); mark some and ask Explore for more like them
(or like all). Below them, the blocked names (blocklist.py),
which Explore never shows; Delete there unblocks one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from minigpt2.core.sample.request import MAX_LIKE_EXAMPLES
from minigpt2.tui.keymap import EXPORT, MORE_LIKE, REMOVE, Where, bindings, tooltip
from minigpt2.tui.messages import (
    FavouriteRemoveRequested,
    FavouriteSettingsRequested,
    FavouritesExportRequested,
    MoreLikeRequested,
    UnblockRequested,
)
from minigpt2.tui.stores.favourites import EXPORT_FORMATS, Favourite
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

DEFAULT_EXPORT = "favourites.txt"
MARK = "✓ "


def local_time(stamp: str) -> str:
    """'2024-01-02T03:04:05+00:00' as local time to the minute; the raw text if unparseable."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


class FavouritesPane(Vertical):
    BINDINGS = bindings(Where.FAVOURITES)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.marked: set[str] = set()  # names for "More like these"; none marked: all
        self._shown: dict[str, Favourite] = {}  # by name, as shown

    def compose(self) -> ComposeResult:
        yield Static("", id="favourites-summary", classes="message")
        table: DataTable[Text] = DataTable(id="favourites", cursor_type="row", zebra_stripes=True)
        table.add_column("Name", key="name", width=18)
        table.add_column("Added", key="added", width=16)
        table.add_column("Prompt", key="prompt", width=10)
        table.add_column("Settings", key="settings")
        yield table
        with Horizontal(classes="buttons"):
            yield Button("Remove", id="remove", tooltip=tooltip(REMOVE))
            yield Button("Export…", id="export", tooltip=tooltip(EXPORT))
            yield Button("More like these", id="more-like", tooltip=tooltip(MORE_LIKE))
        with Vertical(id="blocked-section"):
            yield Static("", id="blocked-summary", classes="message")
            blocked: DataTable[Text] = DataTable(id="blocked", cursor_type="row",
                                                 show_header=False)
            blocked.add_column("Blocked name", key="name")
            yield blocked

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#favourites", DataTable)

    def names(self) -> list[str]:
        return [str(key.value) for key in self.table.rows]

    def show(self, favourites: list[Favourite], *, path: Path, unsaved: bool) -> None:
        table = self.table
        row = table.cursor_row
        table.clear()
        self.marked &= {item.name for item in favourites}
        self._shown = {item.name: item for item in favourites}
        for item in favourites:
            # Text, not str: a str cell is read as markup, and names may hold [brackets].
            table.add_row(self._name_cell(item.name), Text(local_time(item.added_at)),
                          Text(item.prompt or "—"), Text(item.describe_settings()), key=item.name)
        if favourites:
            table.move_cursor(row=min(row, len(favourites) - 1), animate=False)
        summary = self.query_one("#favourites-summary", Static)
        if not favourites:
            text = ("No favourites yet. In Explore, pick a name and press ctrl+f (or Enter) "
                    "to keep it here.")
        else:
            plural = "s" if len(favourites) != 1 else ""
            where = f"not saved: kept in memory only (cannot write {path})" if unsaved \
                else f"saved to {path}"
            text = (f"{len(favourites)} name{plural} · {where} · Delete removes · ctrl+e exports"
                    " · space marks, m finds more like the marked (or all)")
        summary.update(Text(text))  # plain: the path may hold [brackets]
        summary.set_class(unsaved, "error")

    @property
    def blocked_table(self) -> DataTable[Text]:
        return self.query_one("#blocked", DataTable)

    def blocked_names(self) -> list[str]:
        table = self.blocked_table
        return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]

    def show_blocklist(self, names: list[str], *, path: Path, unsaved: bool) -> None:
        table = self.blocked_table
        row = table.cursor_row
        table.clear()
        for name in names:
            table.add_row(Text(name), key=name)
        if names:
            table.move_cursor(row=min(row, len(names) - 1), animate=False)
        where = (f"not saved: kept in memory only (cannot write {path})" if unsaved
                 else f"saved to {path}")
        text = (f"Blocked: {len(names)} name{'s' if len(names) != 1 else ''}, never shown in "
                f"Explore · {where} · Delete here unblocks" if names else
                "No blocked names. In Explore, ctrl+b (or b in the list) blocks a name.")
        summary = self.query_one("#blocked-summary", Static)
        summary.update(Text(text))
        summary.set_class(unsaved, "error")

    def _name_cell(self, name: str) -> Text:
        return Text(MARK + name if name in self.marked else name)

    def selected_name(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return self.names()[table.cursor_row]

    def action_mark(self) -> None:
        """Mark the selected name for "More like these", or unmark it."""
        name = self.selected_name()
        if name is None or not self.table.has_focus:
            self.app.bell()
            return
        self.marked ^= {name}
        self.table.update_cell(name, "name", self._name_cell(name))
        self.table.move_cursor(row=min(self.table.cursor_row + 1, self.table.row_count - 1))

    def action_more_like(self) -> None:
        """Explore names like the marked favourites, or like all of them if none is."""
        names = self.names()
        if not names:
            self.app.bell()
            self.app.notify("No favourites yet to find names like.", severity="warning")
            return
        chosen = tuple(name for name in names if name in self.marked) or tuple(names)
        what = "marked favourite" if self.marked else "favourite"
        label = f"{len(chosen):,} {what}{'s' if len(chosen) != 1 else ''}"
        if len(chosen) > MAX_LIKE_EXAMPLES:
            label += f" (the first {MAX_LIKE_EXAMPLES:,})"
        self.post_message(MoreLikeRequested(chosen, label))

    def action_use_settings(self) -> None:
        """Back to Explore with the settings the selected favourite was found with."""
        name = self.selected_name()
        if name is None or name not in self._shown:
            self.app.bell()
            return
        item = self._shown[name]
        self.post_message(FavouriteSettingsRequested({**item.settings, "prompt": item.prompt}))

    def action_remove(self) -> None:
        blocked = self.blocked_table
        if blocked.has_focus:  # unblock the name
            if not blocked.row_count:
                self.app.bell()
                return
            self.post_message(UnblockRequested(str(blocked.get_row_at(blocked.cursor_row)[0])))
            return
        name = self.selected_name()
        if name is None:
            self.app.bell()
            return
        self.post_message(FavouriteRemoveRequested(name))

    def action_export(self) -> None:
        def export(path: str | None) -> None:
            if path:
                self.post_message(FavouritesExportRequested(path))

        self.app.push_screen(ExportScreen(), export)

    @on(Button.Pressed, "#remove")
    def _remove_pressed(self) -> None:
        self.action_remove()

    @on(Button.Pressed, "#export")
    def _export_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#more-like")
    def _more_like_pressed(self) -> None:
        self.action_more_like()


class ExportScreen(ModalScreen[str | None]):
    """Asks where to export; the suffix chooses the format."""

    BINDINGS = bindings(Where.EXPORT_DIALOG)

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Label("Export favourites", classes="dialog-title")
            yield Label(f"File name; its ending chooses the format ({', '.join(EXPORT_FORMATS)}):")
            yield Input(str(Path.cwd() / DEFAULT_EXPORT), id="export-path")
            with Horizontal(classes="buttons"):
                yield Button("Export", id="do-export", variant="primary")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#do-export")
    def _export(self) -> None:
        self.dismiss(self.query_one(Input).value.strip() or None)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
