"""Progress of long library calls: named steps with (done, total) counts, reported through a callback.

The library never draws anything; the CLI turns the reports into rich progress bars (or ignores them under
`--quiet`), and tests record them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

Progress = Callable[[int, int], None]  # (done, total) within one step
Report = Callable[[str, int, int], None]  # (step, done, total); a new step name starts a new bar


def step(report: Report | None, name: str) -> Progress | None:
    """The `(done, total)` callback for one named step of `report` (None when nothing listens)."""
    return None if report is None else partial(report, name)


def tick(progress: Progress | None, done: int, total: int, every: int = 1) -> None:
    """Report `done` of `total` every `every` units and at the end (cheap enough for tight loops)."""
    if progress is not None and (done % every == 0 or done == total):
        progress(done, total)
