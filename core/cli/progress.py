"""The progress bars `minigpt2 train` draws on stderr: loading the words, then training (fed
by the trainer's events)."""

from __future__ import annotations

from minigpt2.core.train.plan import TrainEvent


class ProgressBar:
    """A rich progress bar on stderr fed by trainer events (steps or time)."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
            transient=False,
        )
        self.task = self.progress.add_task("train", total=1.0, status="")

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, event: TrainEvent) -> None:
        status = f"step {event.step}  epoch {event.epoch:.1f}"
        if event.train_loss is not None:
            status += f"  train {event.train_loss:.3f}"
        if event.val_loss is not None:
            on = f" ({event.val_subset_words:,} words)" if event.val_subset_words else ""
            status += f"  val{on} {event.val_loss:.3f}"
        self.progress.update(self.task, completed=event.progress or 0.0, status=status)


class LoadingBar:
    """How far loading the words is, on stderr while it lasts: a list of a million words
    takes seconds to read, split and encode. Drawn only on a terminal, and gone once done."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("[bold]loading"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[status]}"),
            console=Console(stderr=True),
            disable=not enabled,
            transient=True,
        )
        self.task = self.progress.add_task("load", total=1.0, status="")

    def __enter__(self) -> LoadingBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, what: str, done: float) -> None:
        self.progress.update(self.task, completed=done, status=what)
