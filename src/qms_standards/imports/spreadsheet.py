"""Read a standard set from a spreadsheet (xlsx or csv): one requirement per row, columns chosen by header.

Every problem is named by sheet, row and column (`Clauses!A7 (Ref)`), and all of them are reported
together. Spreadsheets mangle references in ways a person does not see: a clause typed 1.10 is stored as
the number 1.1, 1.2 may become a date, and a merged cell holds its value in its first row only. Each is
reported rather than guessed at, unless the cell's number format says how the number was meant.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from ..errors import Problem
from ..models import StandardSet
from .common import Draft, ImportSourceError, build_set, clean_text

FIELDS = ("id", "title", "text", "section", "tags", "severity", "url")
REQUIRED_FIELDS = ("id", "text")
MAX_ROWS = 50_000
_FIXED_DECIMALS = re.compile(r"^[#,]*0(?:\.(0+))?$")  # 0, 0.0, 0.00, #,##0.00 ...


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula: the file keeps the formula, and its result only if Excel last saved it."""

    text: str


@dataclass(frozen=True)
class Sheet:
    """A table read from a workbook sheet or a CSV file, with where each cell sits.

    Attributes:
        name: Sheet name (xlsx) or file name (csv), used in every location.
        header_row: 1-based row of the column headers.
        rows: Each row's cells from the header row down, as raw values (strings for CSV).
        formats: Number format of each cell (xlsx only), parallel to `rows`.
        merged: Merged ranges as (first row, first column, last row, last column), 1-based.
        is_csv: Locations read `row 7, column C` instead of `Sheet!C7`.
    """

    name: str
    header_row: int
    rows: list[list[Any]]
    formats: list[list[str]]
    merged: list[tuple[int, int, int, int]]
    is_csv: bool = False

    def cell(self, row: int, column: int) -> str:
        """Where a cell is, as a user finds it: `Sheet1!C7`, or `row 7, column C` in a CSV."""
        letter = get_column_letter(column)
        return f"row {row}, column {letter}" if self.is_csv else f"{self.name}!{letter}{row}"


def read_xlsx(path: Path, sheet: str | None, header_row: int) -> Sheet:
    """Read one sheet of a workbook: its cells' values and number formats and its merged ranges.

    Raises:
        ImportSourceError: the file is not a workbook, or has no such sheet.
    """
    from ..export.cells import open_workbook

    hint = "Give an .xlsx workbook (save other formats as Excel Workbook or CSV UTF-8 first)."
    book = open_workbook(path, ImportSourceError, hint)
    if sheet is not None and sheet not in book.sheetnames:
        raise ImportSourceError(
            f"no sheet named '{sheet}'",
            file=path,
            field="--sheet",
            hint=f"The workbook's sheets are: {', '.join(book.sheetnames)}.",
        )
    ws = book[sheet] if sheet is not None else book.worksheets[0]
    rows: list[list[Any]] = []
    formats: list[list[str]] = []
    for cells in ws.iter_rows(min_row=header_row, max_row=ws.max_row):
        rows.append([Formula(str(c.value)) if c.data_type == "f" else c.value for c in cells])
        formats.append([c.number_format or "General" for c in cells])
    while len(rows) > 1 and all(v in (None, "") for v in rows[-1]):  # formatted but empty rows at the end
        rows.pop()
        formats.pop()
    _check_size(len(rows) - 1, path)
    merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
    return Sheet(ws.title, header_row, rows, formats, sorted(merged))


def read_csv(path: Path, header_row: int) -> Sheet:
    """Read a CSV file (UTF-8, with or without a byte-order mark; comma, semicolon or tab separated).

    Raises:
        ImportSourceError: the file is missing or not UTF-8 text.
    """
    if not path.is_file():
        raise ImportSourceError("no such file", file=path, hint="Check the path to the spreadsheet.")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportSourceError(
            f"not UTF-8 text (byte {exc.start})",
            file=path,
            hint="Save it from your spreadsheet program as 'CSV UTF-8 (comma delimited)'.",
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    _check_size(len(table) - header_row, path)
    rows = table[header_row - 1 :]
    return Sheet(path.name, header_row, rows, [], [], is_csv=True)


def _check_size(rows: int, path: Path) -> None:
    """Refuse a sheet too long to be one standard, rather than read part of it."""
    if rows > MAX_ROWS:
        raise ImportSourceError(
            f"{rows:,} rows below the header: more than the {MAX_ROWS:,} a standard set may hold",
            file=path,
            hint="Is this the right sheet (--sheet)? Split a very large standard into several sets.",
        )


def resolve_columns(sheet: Sheet, chosen: dict[str, str | None], source: Path) -> dict[str, int]:
    """Map each field to a 1-based column: by header name (any case), else by column letter.

    A field not chosen is looked for under a header of its own name (`Id`, `Title`, `Text` ...).

    Raises:
        ImportSourceError: a chosen column is not a header or letter, or id/text have no column.
    """
    headers = [str(v).strip() if v is not None else "" for v in (sheet.rows[0] if sheet.rows else [])]
    by_name = {h.casefold(): i + 1 for i, h in reversed(list(enumerate(headers))) if h}
    shown = ", ".join(f"{get_column_letter(i + 1)} '{h}'" for i, h in enumerate(headers) if h) or "none"
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    for name in FIELDS:
        wanted = chosen.get(name)
        option = f"--{name}-column"
        if wanted is None:
            if name in by_name:
                columns[name] = by_name[name]
            elif name in REQUIRED_FIELDS:
                problems.append(
                    Problem(
                        f"no column for the requirement {name}",
                        source,
                        field=option,
                        hint=f"Name it by header or letter, e.g. {option} B. Headers in row "
                        f"{sheet.header_row}: {shown}.",
                    )
                )
        elif wanted.strip().casefold() in by_name:
            columns[name] = by_name[wanted.strip().casefold()]
        elif re.fullmatch(r"[A-Za-z]{1,3}", wanted.strip()):
            columns[name] = column_index_from_string(wanted.strip().upper())
        else:
            problems.append(
                Problem(
                    f"'{wanted}' is neither a header in row {sheet.header_row} nor a column letter",
                    source,
                    field=option,
                    hint=f"Headers in row {sheet.header_row}: {shown}.",
                )
            )
    if problems:
        raise ImportSourceError(f"{len(problems)} problem(s) found", problems=problems)
    return columns


def read_drafts(sheet: Sheet, columns: dict[str, int], source: Path) -> tuple[list[Draft], list[Problem]]:
    """One draft per non-empty row below the header, and every cell-level problem found.

    Empty rows are skipped. Merged ranges touching a chosen column below the header are problems.
    """
    problems = _merged_problems(sheet, columns, source)
    drafts: list[Draft] = []
    header = sheet.rows[0] if sheet.rows else []
    for offset, row in enumerate(sheet.rows[1:], start=1):
        number = sheet.header_row + offset
        values: dict[str, Any] = {}
        where: dict[str, str] = {}
        reported: set[str] = set()
        for name, column in columns.items():
            raw = row[column - 1] if column - 1 < len(row) else None
            label = header[column - 1] if column - 1 < len(header) and header[column - 1] else None
            where[name] = sheet.cell(number, column) + (f" ({label})" if label else "")
            fmt = sheet.formats[offset][column - 1] if sheet.formats and column - 1 < len(row) else "General"
            value, problem = _cell_value(name, raw, fmt)
            if problem is not None:
                problems.append(Problem(problem[0], source, field=where[name], hint=problem[1]))
                reported.add(name)
            values[name] = value
        if all(v in (None, "", ()) for v in values.values()):
            continue
        drafts.append(Draft(values, origin=f"row {number}", where=where, reported=reported))
    return drafts, problems


_ID_NUMBER_HINT = (
    "Format the column as Text and retype the ids (or type each with a leading apostrophe, '1.10), "
    "then import again; or save the sheet as CSV, which keeps what you typed."
)


def _cell_value(name: str, raw: Any, fmt: str) -> tuple[Any, tuple[str, str] | None]:
    """A cell's value as the field wants it, or a (message, hint) saying why it cannot be read safely."""
    if raw is None:
        return None, None
    if isinstance(raw, Formula):
        return None, (
            f"{name} is a formula ({raw.text[:40]}), not a value",
            "Copy the column and paste it back as values only (Paste Special > Values), then import again.",
        )
    if isinstance(raw, datetime | date | time):
        if name == "id":
            shown = raw.date() if isinstance(raw, datetime) and raw.time() == time() else raw
            return None, (
                f"id is a date ({shown}): the spreadsheet read a reference such as 1.2 as a date",
                _ID_NUMBER_HINT,
            )
        raw = raw.isoformat()
    if isinstance(raw, bool):
        raw = str(raw).upper()
    if isinstance(raw, int | float):
        if name == "severity":
            return (int(raw) if float(raw).is_integer() else raw), None
        text = _format_number(raw, fmt)
        if text is None:
            if name == "id":
                return None, (
                    f"id is the number {raw}: a reference such as {raw}0 is stored the same way",
                    _ID_NUMBER_HINT,
                )
            text = repr(raw)
        raw = text
    value = clean_text(str(raw)) if name in ("text",) else " ".join(str(raw).split())
    if name == "tags":
        return tuple(
            t for t in (re.sub(r"\s+", "-", t.strip().lower()) for t in re.split(r"[,;]", value)) if t
        ), None
    if name == "severity" and value:
        return (int(value) if value.isdigit() else value), None
    return value, None


def _format_number(value: int | float, fmt: str) -> str | None:
    """A number as its cell shows it, where the format says so unambiguously; None where it does not."""
    if isinstance(value, int) or (fmt == "General" and float(value).is_integer()):
        return str(int(value))
    match = _FIXED_DECIMALS.match(fmt.strip())
    if match is None:
        return None
    decimals = len(match.group(1) or "")
    return f"{value:.{decimals}f}"


def _merged_problems(sheet: Sheet, columns: dict[str, int], source: Path) -> list[Problem]:
    chosen = set(columns.values())
    out = []
    for first_row, first_col, last_row, last_col in sheet.merged:
        if last_row <= sheet.header_row or not any(first_col <= c <= last_col for c in chosen):
            continue
        span = f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"
        out.append(
            Problem(
                f"cells {span} are merged: only the first holds a value, the other rows would read as empty",
                source,
                field=f"{sheet.name}!{span}",
                hint="Unmerge them and fill the value into every row it applies to.",
            )
        )
    return out


def import_spreadsheet(
    path: Path,
    provenance: dict[str, Any],
    columns: dict[str, str | None],
    *,
    sheet: str | None = None,
    header_row: int = 1,
) -> StandardSet:
    """Read a spreadsheet into a validated standard set.

    Args:
        path: An .xlsx workbook or a .csv file.
        provenance: Set-level fields (see `common.PROVENANCE_OPTIONS`).
        columns: Field -> header name or column letter; None looks for a header named after the field.
        sheet: Workbook sheet (default: the first); ignored for CSV.
        header_row: 1-based row holding the headers; requirements are the rows below it.

    Raises:
        ImportSourceError: every problem, each named by sheet, row and column; nothing is returned.
    """
    if path.suffix.lower() == ".csv":
        table = read_csv(path, header_row)
    else:
        table = read_xlsx(path, sheet, header_row)
    chosen = resolve_columns(table, columns, path)
    drafts, problems = read_drafts(table, chosen, path)
    return build_set(provenance, drafts, path, problems)
