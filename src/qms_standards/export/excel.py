"""The framework as a tracker workbook that people fill in: `render_tracker(framework, ...) -> bytes`.

Sheets, in order: Tracker (the only cells people edit), Summary (formulas: compliance by domain and by
service), Risk (5x5 heat map), one sheet per domain, Crosswalk, Orphaned entries (only when a re-export
orphaned something), About (provenance) and a hidden `qms` sheet marking the format.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.properties import CalcProperties
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ..files import canonical_xlsx
from ..models import Framework, Standard
from ..tracker import Carry, FilledTracker, carry_entries, refuse_additions, resolve_services
from . import layout as L
from .content_cells import statement_cell
from .crosswalk import domains_with_standards, source_summary
from .sheets import write_about, write_crosswalk, write_domain, write_meta, write_risk
from .style import BOLD, PERCENT_FORMAT, TITLE_FONT, WRAP, header, landscape, protect, put, sheet_title, solid
from .style import table as write_table

# Excel serial numbers of 2000-01-01 and 2100-12-31: the range the due-date validation accepts.
_FIRST_DAY, _LAST_DAY = 36526, 73415


def render_tracker(
    framework: Framework, *, services: Sequence[str] | None = None, carried: FilledTracker | None = None
) -> bytes:
    """Render the tracker workbook for a framework.

    Args:
        framework: The consolidated framework.
        services: One block of rows per service; None keeps the services of `carried` (or none).
        carried: A filled tracker (from `tracker.read_tracker`) whose entries are carried across by
            standard id and service; entries with no row left go to the "Orphaned entries" sheet.

    Returns:
        The xlsx bytes, byte-identical for identical inputs (`files.canonical_xlsx`).
    """
    if carried is not None:
        refuse_additions(carried)  # people's own sheets, columns and comments are not dropped silently
    wanted = resolve_services(services, carried)
    carry = carry_entries(framework, carried, wanted) if carried is not None else Carry((), ())
    book = Workbook()
    taken = {
        L.TRACKER_SHEET,
        L.SUMMARY_SHEET,
        L.RISK_SHEET,
        L.CROSSWALK_SHEET,
        L.ORPHANED_SHEET,
        L.ABOUT_SHEET,
        L.META_SHEET,
    }
    tracker = book.active
    tracker.title = L.TRACKER_SHEET
    rows = tracker_rows(framework, wanted)
    _write_tracker(tracker, rows, bool(wanted), carry)
    _write_summary(book.create_sheet(L.SUMMARY_SHEET), framework, wanted, len(rows))
    write_risk(book.create_sheet(L.RISK_SHEET), framework)
    for domain, standards in domains_with_standards(framework):
        write_domain(book.create_sheet(sheet_title(f"{domain.id} {domain.name}", taken)), domain, standards)
    write_crosswalk(book.create_sheet(L.CROSSWALK_SHEET), framework)
    if carry.orphaned:
        _write_orphans(book.create_sheet(L.ORPHANED_SHEET), carry)
    write_about(book.create_sheet(L.ABOUT_SHEET), framework, wanted)
    write_meta(book.create_sheet(L.META_SHEET), framework, wanted)
    # Formulas are written without cached values; this asks Excel and LibreOffice to compute them on open.
    book.calculation = CalcProperties(fullCalcOnLoad=True)
    book.properties.creator = "qms-standards"
    book.properties.title = f"{framework.framework.name} {framework.framework.version} tracker"
    out = io.BytesIO()
    book.save(out)
    return canonical_xlsx(out.getvalue())


def tracker_rows(framework: Framework, services: Sequence[str]) -> list[tuple[Standard, str]]:
    """The Tracker's rows: per service (if any), then per domain, then per standard in framework order."""
    ordered = [s for _, standards in domains_with_standards(framework) for s in standards]
    return [(standard, service) for service in (services or ("",)) for standard in ordered]


def _letters(columns: Sequence[L.Column]) -> dict[str, str]:
    return {c.key: get_column_letter(i) for i, c in enumerate(columns, 1)}


def _write_tracker(
    ws: Worksheet, rows: list[tuple[Standard, str]], with_services: bool, carry: Carry
) -> None:
    columns = L.tracker_columns(with_services)
    values = []
    carried = {e.key: e for e in carry.carried}
    for standard, service in rows:
        entry = carried.get((standard.id, service))
        context = {
            "id": standard.id,
            "service": service,
            "domain": standard.domain,
            "title": standard.title,
            "statement": statement_cell(standard),
            "score": standard.risk.score,
            "rating": standard.risk.rating,
            "weight": standard.risk.weight,
            "sources": source_summary(standard, L.CROSSWALK_SHEET),
        }
        fills = {key: getattr(entry, key) if entry is not None else None for key in L.FILL_KEYS}
        values.append([{**context, **fills}[c.key] for c in columns])
    last = write_table(ws, columns, values)
    at = _letters(columns)
    ws.freeze_panes = f"{get_column_letter(2 + with_services)}2"
    protect(ws)
    if not rows:
        return
    status, rating, due = (f"{at[k]}2:{at[k]}{last}" for k in ("status", "rating", "due"))
    status_list = DataValidation(
        type="list",
        formula1='"' + ",".join(L.STATUSES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Status",
        error="Pick a status from the list.",
        sqref=status,
    )
    due_date = DataValidation(
        type="date",
        operator="between",
        formula1=str(_FIRST_DAY),
        formula2=str(_LAST_DAY),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Due date",
        error="Enter a date, e.g. 31/03/2025.",
        sqref=due,
    )
    ws.add_data_validation(status_list)
    ws.add_data_validation(due_date)
    for value, colour in L.STATUS_COLOURS.items():
        ws.conditional_formatting.add(
            status, CellIsRule(operator="equal", formula=[f'"{value}"'], fill=solid(colour))
        )
    for value, colour in L.RISK_COLOURS.items():
        font = Font(bold=True, color="FFFFFF") if value == "extreme" else None
        ws.conditional_formatting.add(
            rating, CellIsRule(operator="equal", formula=[f'"{value}"'], fill=solid(colour), font=font)
        )
    # An overdue date (before today, not Met or Not applicable) shows in bold red; TODAY() lives only in
    # the conditional format, so the file itself carries no date.
    first_due, first_status = f"{at['due']}2", f"${at['status']}2"
    overdue = (
        f'AND(ISNUMBER({first_due}),{first_due}<TODAY(),{first_status}<>"{L.MET}",'
        f'{first_status}<>"{L.NOT_APPLICABLE}")'
    )
    ws.conditional_formatting.add(due, FormulaRule(formula=[overdue], font=Font(bold=True, color="C00000")))


_SUMMARY_HEADERS = ("Group", "Name", "Rows", *L.STATUSES, "Blank", "Compliance", "Weighted compliance")


def _write_summary(ws: Worksheet, framework: Framework, services: Sequence[str], count: int) -> None:
    """Compliance tables whose formulas read the Tracker sheet, so they update as statuses are filled."""
    at = _letters(L.tracker_columns(bool(services)))
    last = max(count + 1, 2)
    ranges: dict[str, str] = {
        k: f"{L.TRACKER_SHEET}!${at[k]}$2:${at[k]}${last}"
        for k in ("id", "domain", "service", "status", "weight")
        if k in at
    }
    put(ws["A1"], "Compliance").font = TITLE_FONT
    put(ws["A2"], L.COMPLIANCE_RULE).alignment = WRAP
    ws.merge_cells("A2:L2")
    ws.row_dimensions[2].height = 45
    groups = [(d.id, d.name) for d, _ in domains_with_standards(framework)]
    row = _summary_table(ws, 4, "By domain", groups, ranges["domain"], ranges)
    if services:
        _summary_table(ws, row, "By service", [(s, s) for s in services], ranges["service"], ranges)
    for letter, width in zip("ABCDEFGHIJKL", (10, 40, 7, 11, 11, 12, 8, 9, 14, 8, 12, 12), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    landscape(ws, None)
    protect(ws)


def _summary_table(
    ws: Worksheet, row: int, title: str, groups: list[tuple[str, str]], key_range: str, ranges: dict[str, str]
) -> int:
    """One compliance table: a row per group plus a total row; returns the next free row."""
    put(ws.cell(row=row, column=1), title).font = BOLD
    header(ws, row + 1, _SUMMARY_HEADERS)
    for r, (key, name) in enumerate(groups, row + 2):
        put(ws.cell(row=r, column=1), key)
        put(ws.cell(row=r, column=2), name)
        _summary_formulas(ws, r, key_range, ranges)
    total = row + 2 + len(groups)
    put(ws.cell(row=total, column=1), "All")
    put(ws.cell(row=total, column=2), "All rows")
    _summary_formulas(ws, total, None, ranges)
    for c in range(1, len(_SUMMARY_HEADERS) + 1):
        ws.cell(row=total, column=c).font = BOLD
    return total + 2


def _summary_formulas(ws: Worksheet, r: int, key_range: str | None, ranges: dict[str, str]) -> None:
    """Counts and compliance for the rows whose key (domain or service) is in column A; all rows if None."""
    status, weight = ranges["status"], ranges["weight"]
    match = f"({key_range}=$A{r})*" if key_range else ""
    # All rows: those with an id, as `qms tracker status` counts them (a cleared row is not a row).
    rows = f"=COUNTIF({key_range},$A{r})" if key_range else f"=COUNTA({ranges['id']})"
    ws.cell(row=r, column=3).value = rows
    for c, value in enumerate(L.STATUSES, 4):
        ws.cell(row=r, column=c).value = (
            f'=COUNTIFS({key_range},$A{r},{status},"{value}")'
            if key_range
            else f'=COUNTIF({status},"{value}")'
        )
    # Columns: D Not started, E In progress, F Partially met, G Met, H Not met, I Not applicable.
    ws.cell(row=r, column=10).value = f"=C{r}-SUM(D{r}:I{r})"
    ws.cell(row=r, column=11).value = f'=IFERROR((G{r}+0.5*F{r})/(C{r}-I{r}),"")'
    achieved = f'{match}(({status}="{L.MET}")+0.5*({status}="{L.PARTIALLY_MET}"))*{weight}'
    applicable = f'{match}({status}<>"{L.NOT_APPLICABLE}")*{weight}'
    ws.cell(row=r, column=12).value = f'=IFERROR(SUMPRODUCT({achieved})/SUMPRODUCT({applicable}),"")'
    for c in (11, 12):
        ws.cell(row=r, column=c).number_format = PERCENT_FORMAT


def _write_orphans(ws: Worksheet, carry: Carry) -> None:
    """Entries whose row is gone: kept (never dropped) so nobody's work is lost."""
    rows = []
    for entry, why in carry.orphaned:
        values = {
            "id": entry.standard_id,
            "service": entry.service,
            "domain": entry.domain,
            "title": entry.title,
            "reason": why,
            **{k: getattr(entry, k) for k in L.FILL_KEYS},
        }
        rows.append([values[c.key] for c in L.ORPHAN_COLUMNS])
    write_table(ws, L.ORPHAN_COLUMNS, rows, unlock=False)
    ws.sheet_properties.tabColor = "C00000"
    protect(ws)


__all__ = ["render_tracker", "tracker_rows"]
