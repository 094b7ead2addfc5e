"""Rich progress bars for long library calls (the library only reports steps and counts to a callback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ..progress import Report
from ._app import err_console


class TransferSpeed(TextColumn):
    """Items per second, once the bar has a rate."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Task) -> Text:  # noqa: D102
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


EMBEDDING_STEP = "Embedding"
LOADING_MODEL = "Loading the model"


def step_label(name: str, done: int, total: int) -> tuple[str, int | None]:
    """The bar's label and total for a report: embedding at 0 done is the model loading.

    The embedder reports 0 of N before it loads the model, which takes seconds (a cold start, longer);
    a bar frozen at "Embedding 0/408" looks hung, so until the first batch is done the bar says the
    model is loading and pulses (no total) instead.
    """
    if name == EMBEDDING_STEP and done == 0 and total > 0:
        return LOADING_MODEL, None
    return name, total


@contextmanager
def progress_bars(*, quiet: bool = False) -> Iterator[Report]:
    """Yield a `(step, done, total)` callback that draws one rich bar per step on stderr.

    A step's bar appears when the step first reports and is filled when the next step begins, so the
    finished steps stay listed above the running one until the work ends; nothing is drawn when quiet.
    """
    if quiet:
        yield lambda name, done, total: None
        return
    columns = (
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TransferSpeed(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(name: str, done: int, total: int) -> None:
            if name not in tasks:
                for task in bar.tasks:
                    if not task.finished and task.total is not None:
                        bar.update(task.id, completed=task.total)
                tasks[name] = bar.add_task(name, total=total)
            label, shown_total = step_label(name, done, total)
            bar.update(tasks[name], description=label, completed=done, total=shown_total)

        yield update
