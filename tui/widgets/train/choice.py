"""One line over the run: what the `auto` preset will choose for the data and bound in the
form, worked out before Start. Reading a big word list takes a while, so the engine reads
it on a worker thread (and keeps it for the next change of bound)."""

from __future__ import annotations

from dataclasses import dataclass

from minigpt2.core.train.plan import TrainPlan
from minigpt2.tui.engine.engine import Engine
from rich.text import Text
from textual import on, work
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

AUTO = "auto"


class PresetChoice(Static):
    """Empty for any preset but `auto`; else e.g. "auto for 9,254 training tokens, 30 s:
    1 GPT-2 block 64 wide, …". The full text is in the tooltip too."""

    @dataclass
    class Described(Message):
        """The worker's line for `plan`."""

        plan: TrainPlan
        text: str

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, classes="hint")
        self.engine = engine
        self.plan: TrainPlan | None = None  # the plan the text describes, once shown
        self._asked: TrainPlan | None = None  # the latest plan to describe

    def show_plan(self, plan: TrainPlan | None) -> None:
        """Describe what `plan` trains; None: the form is not a valid plan yet."""
        self._asked = plan
        if plan is None or (plan.preset or AUTO) != AUTO:
            self.plan = plan
            self._show("")
            return
        self._describe(plan)

    @work(thread=True, exclusive=True, group="preset-choice", exit_on_error=False)
    def _describe(self, plan: TrainPlan) -> None:
        worker = get_current_worker()
        text = self.engine.describe_auto(plan)
        if not worker.is_cancelled:
            self.post_message(self.Described(plan, text))

    @on(Described)
    def _shown(self, message: Described) -> None:
        message.stop()
        if message.plan != self._asked:  # the form changed since: a newer line is coming
            return
        self.plan = message.plan
        self._show(message.text)

    def _show(self, text: str) -> None:
        self.update(Text(text))  # plain: a path may hold [brackets]
        self.tooltip = text or None
        self.set_class(not text, "-empty")  # hidden then, and while a run is on (app.tcss)
