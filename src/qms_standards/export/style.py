"""Small openpyxl helpers shared by the tracker's sheets: header rows, widths, safe values, protection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .layout import Column

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
LEFT_WRAP = Alignment(wrap_text=True, vertical="top", horizontal="left")
TOP = Alignment(vertical="top")
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
UNLOCKED = Protection(locked=False)
# Pale yellow marks the cells people fill in, the usual spreadsheet convention for input cells.
FILL_IN_FILL = PatternFill("solid", fgColor="FFF8DC", bgColor="FFF8DC")
DATE_FORMAT = "dd/mm/yyyy"  # UK: what NHS teams type and read; the cell holds a real date either way
MAX_CELL_TEXT = 32_767
PERCENT_FORMAT = "0.0%"
WEIGHT_FORMAT = "0.00%"


def solid(colour: str) -> PatternFill:
    """A solid fill; fgColor and bgColor both set, so conditional formats look the same everywhere."""
    return PatternFill("solid", fgColor=colour, bgColor=colour)


def put(cell: Cell, value: Any) -> Cell:
    """Set a cell to a literal value: text is never read as a formula and illegal characters are dropped."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if len(value) > MAX_CELL_TEXT:  # Excel refuses to open a file with a longer cell
            value = value[: MAX_CELL_TEXT - 1] + "\u2026"
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # typed text such as "=see notes" stays text on the formula-free sheets
    return cell


def header(ws: Worksheet, row: int, titles: Sequence[str]) -> None:
    """Write a styled header row starting in column A."""
    for i, title in enumerate(titles, 1):
        cell = put(ws.cell(row=row, column=i), title)
        cell.fill, cell.font, cell.alignment = HEADER_FILL, HEADER_FONT, WRAP
    ws.row_dimensions[row].height = 30


def widths(ws: Worksheet, values: Sequence[float]) -> None:
    """Set column widths from column A."""
    for i, width in enumerate(values, 1):
        ws.column_dimensions[get_column_letter(i)].width = width


def table(
    ws: Worksheet,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    top: int = 1,
    unlock: bool = True,
) -> int:
    """Write a header and rows laid out as `columns`, with wrapping, a filter and a frozen header.

    Fill-in columns are unlocked (for the sheet protection) unless `unlock` is False.

    Returns:
        The last row written (the header row when there are no rows).
    """
    header(ws, top, [c.header for c in columns])
    widths(ws, [c.width for c in columns])
    for r, values in enumerate(rows, top + 1):
        for c, (column, value) in enumerate(zip(columns, values, strict=True), 1):
            cell = put(ws.cell(row=r, column=c), value)
            cell.alignment = WRAP if column.wrap else TOP
            if column.fill_in and unlock:
                cell.protection = UNLOCKED
                cell.fill = FILL_IN_FILL
            if column.key == "due":
                cell.number_format = DATE_FORMAT
            elif column.key == "weight":
                cell.number_format = WEIGHT_FORMAT
            elif column.key == "similarity":
                cell.number_format = "0.00"
    for r, values in enumerate(rows, top + 1):
        fit_height(ws, r, [(c.width, v) for c, v in zip(columns, values, strict=True) if c.wrap])
    last = top + len(rows)
    ws.freeze_panes = f"A{top + 1}"
    landscape(ws, top)
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{max(last, top + 1)}"
    return last


def fit_height(ws: Worksheet, row: int, cells: Sequence[tuple[float, Any]]) -> None:
    """Give a row the height its wrapped text needs (estimated from column widths).

    LibreOffice does not grow rows to fit wrapped text when it opens an xlsx, so the height is written.
    """
    lines = 1
    for width, value in cells:
        if isinstance(value, str):
            per_line = max(int(width), 1)  # words wrap early, so assume ~1 character per width unit
            lines = max(lines, sum(max(1, -(-len(part) // per_line)) for part in value.split("\n")))
    if lines > 1:
        ws.row_dimensions[row].height = min(15 * lines, 300)


def protect(ws: Worksheet) -> None:
    """Protect a sheet without a password, still allowing filtering, sorting and resizing.

    Protection guards against typing over generated cells by mistake; Review > Unprotect Sheet lifts it.
    """
    ws.protection.sheet = True
    for option in ("autoFilter", "sort", "formatColumns", "formatRows"):
        setattr(ws.protection, option, False)  # False means "allowed" in the OOXML flags


def landscape(ws: Worksheet, title_row: int | None = 1) -> None:
    """Print landscape, one page wide, repeating the header row (if given) on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: none of the characters Excel forbids, at most 31 characters.

    A long name is cut at the last word that fits ("D7 Resources, information and" rather than
    "D7 Resources, information and p"), with trailing commas and "and" dropped.
    """
    clean = "".join("-" if ch in "[]:*?/\\" else ch for ch in name).strip("' ") or "Sheet"
    title, n = _cut_at_word(clean, 31), 1
    while title.lower() in {t.lower() for t in taken}:
        n += 1
        suffix = f" ({n})"
        title = _cut_at_word(clean, 31 - len(suffix)) + suffix
    taken.add(title)
    return title


def legacy_sheet_title(name: str) -> str:
    """The sheet name trackers written before names were cut at a word gave a domain (31 characters)."""
    return ("".join("-" if ch in "[]:*?/\\" else ch for ch in name).strip("' ") or "Sheet")[:31]


def _cut_at_word(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, without a dangling comma or 'and'."""
    if len(text) <= limit:
        return text
    words = text[: limit + 1].split(" ")
    kept = " ".join(words[:-1]) if len(words) > 1 else text[:limit]
    kept = kept.rstrip(" ,;-&")
    for tail in (" and", " or", " of", " the", " for"):
        if kept.lower().endswith(tail) and len(kept) > len(tail):
            kept = kept[: -len(tail)].rstrip(" ,;-&")
    return kept or text[:limit]
