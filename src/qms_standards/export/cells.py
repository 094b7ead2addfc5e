"""Reading a tracker's cells back: the format marker, header rows and every fill-in cell, validated.

Each problem names its sheet and cell (`Tracker!J7`); problems are collected, not raised, so that
`tracker.read_tracker` can report all of them at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ..errors import Problem, QmsError, TrackerError
from ..textcheck import TEXT_HINT, text_problem
from ..workbook import last_filled_row
from . import layout as L
from .layout import Entry

HINT_EXPORT = "Export a tracker with `qms export tracker FRAMEWORK.yaml -o tracker.xlsx`."


def open_workbook(path: Path, error: type[QmsError], hint: str) -> Any:
    """Open a workbook people have edited, or raise `error` saying it is not one.

    The file is checked against the limits in `workbook` first (size, zip bombs, encryption, broken
    XML); openpyxl signals a file it cannot read in several ways, and to the user they all mean the same. Its
    warnings (a date cell holding a serial out of range, say) are silenced: the readers report each bad
    cell themselves, with its sheet and cell and a hint.
    """
    from ..workbook import load_checked_workbook

    return load_checked_workbook(path, error, hint)


def read_meta(book: Any, path: Path) -> dict[str, Any]:
    """Check the format marker and read what the hidden sheet records (ids, services, domains).

    Raises:
        TrackerError: the workbook is not a qms tracker of this format.
    """
    marker = book[L.META_SHEET][L.META_MARKER_CELL].value if L.META_SHEET in book.sheetnames else None
    if marker != L.FORMAT_MARKER:
        found = f"'{marker}'" if marker else "no format marker"
        raise TrackerError(
            f"not a qms tracker ({found}; expected '{L.FORMAT_MARKER}')",
            file=path,
            field=f"{L.META_SHEET}!{L.META_MARKER_CELL}",
            hint=HINT_EXPORT,
        )
    meta = book[L.META_SHEET]

    def column(letter: str) -> list[str]:
        return [str(c.value) for c in meta[letter][1:] if c.value not in (None, "")]

    id_col, name_col = L.META_DOMAIN_COLUMNS
    return {
        "framework": str(meta[L.META_FRAMEWORK_CELL].value or ""),
        "version": str(meta[L.META_VERSION_CELL].value or ""),
        "ids": set(column(L.META_ID_COLUMN)),
        "services": column(L.META_SERVICE_COLUMN),
        "domains": dict(zip(column(id_col), column(name_col), strict=False)),
    }


class SheetReader:
    """Reads the rows of one sheet laid out as `columns` into entries, collecting located problems."""

    def __init__(self, path: Path, sheet: str, columns: tuple[L.Column, ...], problems: list[Problem]):
        self.path, self.sheet, self.columns, self.problems = path, sheet, columns, problems
        self.letters = {c.key: column_letter(i) for i, c in enumerate(columns)}

    def problem(self, row: int, letter: str, message: str, hint: str) -> Problem:
        """A problem located at `Sheet!<letter><row>`."""
        return Problem(message, self.path, None, f"{self.sheet}!{letter}{row}", hint)

    def check_header(self, sheet: Any) -> bool:
        """True when row 1 holds the expected headers; otherwise records a problem per wrong header."""
        ok = True
        for i, column in enumerate(self.columns):
            value = sheet.cell(row=1, column=i + 1).value
            if value != column.header:
                ok = False
                self.problems.append(
                    Problem(
                        f"header is {value!r}, expected '{column.header}'",
                        self.path,
                        None,
                        f"{self.sheet}!{column_letter(i)}1",
                        "Restore the header row; the columns must stay in order.",
                    )
                )
        return ok

    def entries(self, sheet: Any, ids: set[str] | None, services: list[str] | None) -> Iterable[Entry]:
        """The sheet's non-empty rows as entries; `ids` and `services`, when given, are the allowed keys."""
        last = last_filled_row(sheet)  # a formatted row 1,048,576 is not a million rows to read
        for number, cells in enumerate(
            sheet.iter_rows(min_row=2, max_row=last, max_col=len(self.columns), values_only=True), 2
        ):
            values = dict(zip((c.key for c in self.columns), cells, strict=False))
            if all(v in (None, "") for v in values.values()):
                continue  # a cleared or deleted row: nothing to carry
            entry = self._entry(number, values, ids, services)
            if entry is not None:
                yield entry

    def _entry(
        self, row: int, v: dict[str, Any], ids: set[str] | None, services: list[str] | None
    ) -> Entry | None:
        sid = v.get("id")
        if not isinstance(sid, str) or not sid.strip() or (ids is not None and sid not in ids):
            shown = "empty" if sid in (None, "") else repr(sid)
            self.problems.append(
                self.problem(
                    row,
                    "A",
                    f"standard id is {shown}, not an id of this tracker",
                    "The ID column is locked: restore the id (the domain sheets list "
                    "them), or clear the whole row.",
                )
            )
            return None
        service = v.get("service") or ""
        if services is not None and service not in services:
            self.problems.append(
                self.problem(
                    row,
                    self.letters["service"],
                    f"service {service!r} is not one of this tracker's ({', '.join(services)})",
                    "Restore the service name, or re-export with --services.",
                )
            )
            return None
        return Entry(
            standard_id=sid,
            service=str(service),
            status=self._status(row, v.get("status")),
            owner=self._text(row, "owner", v.get("owner")),
            due=self._due(row, v.get("due")),
            evidence=self._text(row, "evidence", v.get("evidence")),
            actions=self._text(row, "actions", v.get("actions")),
            notes=self._text(row, "notes", v.get("notes")),
            domain=str(v.get("domain") or ""),
            title=str(v.get("title") or ""),
            rating=str(v.get("rating") or ""),
            weight=self._weight(row, v.get("weight")),
            sheet=self.sheet,
            row=row,
        )

    def _text(self, row: int, key: str, value: Any) -> str | None:
        """A fill-in text cell; a control character in it (it would reach terminals and reports) is named."""
        text = cell_text(value)
        problem = text_problem(text) if text is not None else None
        if problem is not None:
            self.problems.append(self.problem(row, self.letters[key], f"{key} {problem}", TEXT_HINT))
        return text

    def _status(self, row: int, value: Any) -> str | None:
        if value in (None, ""):
            return None
        canonical = {s.lower(): s for s in L.STATUSES}.get(str(value).strip().lower())
        if canonical is None:
            self.problems.append(
                self.problem(
                    row,
                    self.letters["status"],
                    f"status {value!r} is not allowed",
                    f"Pick one from the list: {', '.join(L.STATUSES)}.",
                )
            )
        return canonical

    def _due(self, row: int, value: Any) -> date | None:
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            if isinstance(value, time):
                shown = f"a time of day ({value.isoformat()}), not a date"
            elif isinstance(value, str) and value.startswith("#"):  # how openpyxl reads an error cell
                shown = f"an error ({value}): a formula error, or a number too large to be a date"
            else:
                shown = f"{value!r}, not a date"
            self.problems.append(
                self.problem(
                    row,
                    self.letters["due"],
                    f"due date is {shown}",
                    "Enter a date such as 2025-03-31, or clear the cell.",
                )
            )
            return None

    def _weight(self, row: int, value: Any) -> float:
        if "weight" not in self.letters or value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.append(
                self.problem(
                    row,
                    self.letters["weight"],
                    f"weight {value!r} is not a number",
                    "The Weight column is locked: re-export the tracker with --from.",
                )
            )
            return 0.0
        return float(value)


def column_letter(index: int) -> str:
    """Letter of a 0-based column index."""
    return get_column_letter(index + 1)


def cell_text(value: Any) -> str | None:
    """A fill-in cell as text; spreadsheets turn some typing into numbers or dates, which is undone here."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
