"""One line over the run: what the `auto` preset will choose for the data and bound in the
form, worked out before Start. Reading a big word list takes a while, so it is read on a
worker thread and kept for the next change of bound."""

from __future__ import annotations

from minigpt2.core.data.dataset import WordData
from minigpt2.core.train.plan import TrainPlan, chosen_preset, plan_data
from rich.text import Text
from textual import work
from textual.widgets import Static
from textual.worker import get_current_worker

AUTO = "auto"


class PresetChoice(Static):
    """Empty for any preset but `auto`; else e.g. "auto for 9,254 training tokens, 30 s:
    1 GPT-2 block 64 wide, …". The full text is in the tooltip too."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, classes="hint")
        self.plan: TrainPlan | None = None  # the plan the text describes, once shown
        self._words: tuple[object, WordData] | None = None  # the last words read, by key

    def show_plan(self, plan: TrainPlan | None) -> None:
        """Describe what `plan` trains; None: the form is not a valid plan yet."""
        if plan is None or (plan.preset or AUTO) != AUTO:
            self.plan = plan
            self._show("")
            return
        self._describe(plan)

    @work(thread=True, exclusive=True, group="preset-choice", exit_on_error=False)
    def _describe(self, plan: TrainPlan) -> None:
        worker = get_current_worker()
        key = (plan.data, plan.val_data, plan.seed, plan.keep_case)
        try:
            if self._words is None or self._words[0] != key:
                self._words = (key, plan_data(plan))
            text = chosen_preset(plan, self._words[1]).description
        except ValueError as exc:  # an unreadable list: Start says so in full
            text = f"auto: {exc}"
        if not worker.is_cancelled:
            self.app.call_from_thread(self._shown, plan, text)

    def _shown(self, plan: TrainPlan, text: str) -> None:
        self.plan = plan
        self._show(text)

    def _show(self, text: str) -> None:
        self.update(Text(text))  # plain: a path may hold [brackets]
        self.tooltip = text or None
        self.set_class(not text, "-empty")  # hidden then, and while a run is on (app.tcss)
