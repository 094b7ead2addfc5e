"""Errors a user can fix. The library raises them; the CLI renders them once and exits 2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_MESSAGE = 600


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows."""

    message: str
    file: Path | None = None
    line: int | None = None
    field: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        # A message quotes what the input held; an input can hold megabytes (aliases repeating a long text),
        # and an error line must stay readable.
        for name in ("message", "field", "hint"):
            value = getattr(self, name)
            if isinstance(value, str) and len(value) > MAX_MESSAGE:
                clipped = f"{value[: MAX_MESSAGE - 40]}... ({len(value):,} characters in all)"
                object.__setattr__(self, name, clipped)

    def location(self) -> str:
        """Render `path:line: field` (whichever parts are known)."""
        parts = []
        if self.file is not None:
            parts.append(str(self.file) + (f":{self.line}" if self.line is not None else ""))
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def render(self) -> str:
        """Render `path:line: field: message` without the hint."""
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def sort_key(self) -> tuple[str, int, str, str]:
        """Order problems by file, then line, then field, so reports are stable."""
        return (str(self.file or ""), self.line or 0, self.field or "", self.message)


class QmsError(Exception):
    """An error the user can fix; the CLI prints it and exits 2.

    A `QmsError` holds one or more `Problem`s, so a loader can report every problem in every file at once.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        if problems is None:
            problems = [Problem(message, Path(file) if file is not None else None, line, field, hint)]
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__(message)

    @property
    def file(self) -> Path | None:
        """File of the first problem."""
        return self.problems[0].file

    @property
    def line(self) -> int | None:
        """Line of the first problem."""
        return self.problems[0].line

    @property
    def field(self) -> str | None:
        """Field of the first problem."""
        return self.problems[0].field

    @property
    def hint(self) -> str | None:
        """Hint of the first problem."""
        return self.problems[0].hint

    def __str__(self) -> str:
        return "\n".join(p.render() for p in self.problems)


class StandardSetError(QmsError):
    """A standard set file is malformed."""


class MappingError(QmsError):
    """A file under `mappings/` is malformed or names refs that do not exist."""


class DuplicateIdError(QmsError):
    """Two sets, or two requirements in one set, share an id."""


class FrameworkError(QmsError):
    """A framework YAML file cannot be read."""


class GoldError(QmsError):
    """A gold crosswalk file cannot be read."""


class TrackerError(QmsError):
    """A tracker workbook is not a qms tracker or holds invalid values."""


class OutputError(QmsError):
    """An output cannot be written (missing or read-only folder, filled tracker in the way)."""


def raise_if(problems: list[Problem], cls: type[QmsError] = QmsError) -> None:
    """Raise one `cls` error listing every problem, if there are any."""
    if problems:
        count = len(problems)
        raise cls(f"{count} problem{'s' if count != 1 else ''} found", problems=problems)
