"""Read a filled tracker back, carry its entries into a re-export, and summarise its status.

The workbook's layout is defined once in `export.layout`; `export.excel` writes it and this module reads
it. Every problem in a workbook is reported at once, each naming its sheet and cell (`Tracker!J7`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from .errors import OutputError, Problem, TrackerError, raise_if
from .export import layout as L
from .export.cells import HINT_EXPORT, SheetReader, open_workbook, read_meta
from .export.layout import Entry
from .export.style import legacy_sheet_title, sheet_title
from .files import refuse_folder
from .models import Framework, Model, Standard, make_ref
from .workbook import last_filled_row


@dataclass(frozen=True)
class FilledTracker:
    """A tracker workbook read back: its rows keyed by (standard id, service), and its orphans."""

    path: Path | None
    framework: str
    version: str
    services: tuple[str, ...]
    domains: Mapping[str, str]  # domain id -> name
    entries: Mapping[tuple[str, str], Entry]  # Tracker sheet rows, in sheet order
    orphaned: tuple[Entry, ...] = ()  # rows of the "Orphaned entries" sheet
    additions: tuple[str, ...] = ()  # what people added that a re-export would not keep (sheets ...)

    def filled_entries(self) -> list[Entry]:
        """Every entry holding a value: Tracker rows first, then earlier orphans."""
        return [e for e in (*self.entries.values(), *self.orphaned) if e.filled]


@dataclass(frozen=True)
class Carry:
    """What a re-export does with a filled tracker's entries."""

    carried: tuple[Entry, ...]  # filled entries whose (standard, service) row still exists
    new: tuple[tuple[str, str], ...]  # rows of the new tracker with nothing carried into them
    orphaned: tuple[tuple[Entry, str], ...] = ()  # (entry, why) for filled entries with no row
    moved: tuple[tuple[str, Entry], ...] = ()  # (old id, entry now under the id holding its sources)


def resolve_services(services: Iterable[str] | None, previous: FilledTracker | None) -> tuple[str, ...]:
    """The services of an export: those asked for, else those of the tracker being carried, else none."""
    if services is not None:
        return tuple(dict.fromkeys(s.strip() for s in services if s.strip()))
    return previous.services if previous is not None else ()


def carry_entries(
    framework: Framework, previous: FilledTracker, services: Iterable[str] | None = None
) -> Carry:
    """Match a filled tracker's entries to the rows of a new export, by standard id and service.

    An id is trusted only while it still names the same standard: the requirements the id held when the
    tracker was exported (its Crosswalk sheet) must share one with the standard's sources now, or, for an
    entry with none recorded (an earlier orphan), its title must be the standard's title. Otherwise (a lock
    restored from an old copy, ids handed out again) the entry moves to the standard that now holds its
    requirements, or is orphaned with the reason; it never lands on another standard.

    Args:
        framework: The framework being exported.
        previous: The filled tracker read with `read_tracker`.
        services: The services of the new export; None keeps those of `previous`.

    Returns:
        The carried entries (moved ones included), the rows that start blank, the orphaned entries
        (never dropped) and the moves.
    """
    standards = {s.id: s for s in framework.standards}
    home = {link.ref: s.id for s in framework.standards for link in s.sources}
    wanted = resolve_services(services, previous)
    keys = [(i, s) for s in (wanted or ("",)) for i in standards]
    open_keys = set(keys)
    carried: list[Entry] = []
    orphaned: list[tuple[Entry, str]] = []
    moved: list[tuple[str, Entry]] = []
    for entry in _spread_over_services(previous, wanted):
        if entry.service not in (wanted or ("",)):
            gone = entry.standard_id not in standards
            orphaned.append(
                (entry, "standard no longer in the framework" if gone else "service not in this export")
            )
            continue
        target, why = _target(entry, standards, home)
        if target is None:
            orphaned.append((entry, why))
            continue
        placed = replace(entry, standard_id=target) if target != entry.standard_id else entry
        if placed.key not in open_keys:
            orphaned.append((entry, f"another entry for {placed.label} was carried into the Tracker"))
            continue
        open_keys.discard(placed.key)
        carried.append(placed)
        if placed is not entry:
            moved.append((entry.standard_id, placed))
    return Carry(tuple(carried), tuple(k for k in keys if k in open_keys), tuple(orphaned), tuple(moved))


def _spread_over_services(previous: FilledTracker, wanted: tuple[str, ...]) -> list[Entry]:
    """The filled entries, each one of a tracker without services copied into every wanted service.

    A tracker started for the whole organisation that gains services keeps every entry: each service's
    rows start from what was filled in for all, and each team changes what differs for it. Sending them
    to Orphaned instead (as before) left 30 filled rows off the Tracker of a trust that added services.
    """
    filled = previous.filled_entries()
    if previous.services or not wanted:
        return filled
    out: list[Entry] = []
    for entry in filled:
        out.extend([replace(entry, service=s) for s in wanted] if not entry.service else [entry])
    return out


def _target(
    entry: Entry, standards: Mapping[str, Standard], home: Mapping[str, str]
) -> tuple[str | None, str]:
    """The standard an entry belongs to now, or None and why it has none."""
    standard = standards.get(entry.standard_id)
    if entry.sources:
        if standard is not None and set(entry.sources) & {link.ref for link in standard.sources}:
            return entry.standard_id, ""
        held = Counter(home[ref] for ref in entry.sources if ref in home)
        if held:
            best = min(held, key=lambda i: (-held[i], i))
            return best, ""
        if standard is None:
            return None, "standard no longer in the framework"
        return None, (
            f"{entry.standard_id} now holds other requirements than this row's Sources, and none of those "
            "is in the framework any more: check which standard the entry belongs to"
        )
    if standard is None:
        return None, "standard no longer in the framework"
    if entry.title and entry.title != standard.title:
        return None, (
            f"{entry.standard_id} is now titled '{standard.title}', not '{entry.title}': check it is the "
            "same standard before copying the entry back"
        )
    return entry.standard_id, ""


# --- Reading --------------------------------------------------------------------------------------


def read_tracker(path: Path) -> FilledTracker:
    """Read a tracker workbook written by `qms export tracker` and filled in by people.

    Raises:
        TrackerError: the file is not a qms tracker, or cells hold invalid values; every problem is
            listed, each with its sheet and cell (for example `Tracker!J7`).
    """
    path = Path(path)
    book = open_workbook(path, TrackerError, HINT_EXPORT)
    meta = read_meta(book, path)
    problems: list[Problem] = []
    if L.TRACKER_SHEET not in book.sheetnames:
        raise TrackerError(
            f"sheet '{L.TRACKER_SHEET}' is missing (sheets: {', '.join(book.sheetnames)})",
            file=path,
            field=L.TRACKER_SHEET,
            hint=f"Rename the tracking sheet back to '{L.TRACKER_SHEET}'.",
        )
    sheet = book[L.TRACKER_SHEET]
    with_services = sheet["B1"].value == "Service"
    columns = L.tracker_columns(with_services)
    reader = SheetReader(path, L.TRACKER_SHEET, columns, problems)
    entries: dict[tuple[str, str], Entry] = {}
    if reader.check_header(sheet):
        for entry in reader.entries(sheet, meta["ids"], meta["services"] if with_services else None):
            first = entries.setdefault(entry.key, entry)
            if first is not entry:
                problems.append(
                    reader.problem(
                        entry.row,
                        "A",
                        f"second row for {entry.label} (first at {first.where})",
                        "Delete one of the two rows.",
                    )
                )
    orphaned: list[Entry] = []
    if L.ORPHANED_SHEET in book.sheetnames:
        orphans = SheetReader(path, L.ORPHANED_SHEET, L.ORPHAN_COLUMNS, problems)
        if orphans.check_header(book[L.ORPHANED_SHEET]):
            orphaned = list(orphans.entries(book[L.ORPHANED_SHEET], None, None))
    raise_if(problems, TrackerError)
    held = _crosswalk_refs(book)  # what each id stood for when exported: carried only while it still does
    entries = {key: replace(e, sources=held.get(e.standard_id, ())) for key, e in entries.items()}
    return FilledTracker(
        path,
        meta["framework"],
        meta["version"],
        tuple(meta["services"]),
        meta["domains"],
        entries,
        tuple(orphaned),
        _additions(book, meta["domains"], len(columns)),
    )


def _crosswalk_refs(book: Any) -> dict[str, tuple[str, ...]]:
    """Standard id -> the source refs it held, from the (protected) Crosswalk sheet of the export."""
    if L.CROSSWALK_SHEET not in book.sheetnames:
        return {}
    held: dict[str, list[str]] = {}
    sheet = book[L.CROSSWALK_SHEET]
    # Column G says `related` on a row for a standard that only partly covers the ref (not what it held);
    # trackers exported before the Link column have a relationship there, never `related`.
    for row in sheet.iter_rows(min_row=2, max_row=last_filled_row(sheet), max_col=7, values_only=True):
        set_id, requirement_id, _, standard_id, _, _, link = (*row, *[None] * 7)[:7]
        if set_id and requirement_id and isinstance(standard_id, str) and link != "related":
            held.setdefault(standard_id, []).append(make_ref(str(set_id), str(requirement_id)))
    return {standard_id: tuple(refs) for standard_id, refs in held.items()}


def _additions(book: Any, domains: Mapping[str, str], tracker_width: int) -> tuple[str, ...]:
    """What people added to the workbook that a re-export, written from the framework, would not keep."""
    ours = {
        L.TRACKER_SHEET,
        L.SUMMARY_SHEET,
        L.RISK_SHEET,
        L.CROSSWALK_SHEET,
        L.ORPHANED_SHEET,
        L.ABOUT_SHEET,
        L.META_SHEET,
    }
    taken = set(ours)
    ours |= {sheet_title(f"{domain_id} {name}", taken) for domain_id, name in domains.items()}
    # A tracker exported before domain sheet names were cut at a word has them cut at 31 characters.
    ours |= {legacy_sheet_title(f"{domain_id} {name}") for domain_id, name in domains.items()}
    found = [f"sheet '{name}'" for name in book.sheetnames if name not in ours]
    widths = {L.TRACKER_SHEET: tracker_width, L.ORPHANED_SHEET: len(L.ORPHAN_COLUMNS)}
    for name in book.sheetnames:
        if name not in ours:
            continue
        sheet = book[name]
        extra: set[int] = set()
        for (_, column), cell in sorted(sheet._cells.items()):  # openpyxl's store of the cells read
            if cell.comment is not None:
                found.append(f"a comment on {name}!{cell.coordinate}")
            if (
                name in widths
                and column > widths[name]
                and cell.value not in (None, "")
                and column not in extra
            ):
                extra.add(column)
                found.append(f"column {cell.column_letter} on {name} (first value at {cell.coordinate})")
    return tuple(found)


def refuse_additions(filled: FilledTracker) -> None:
    """Stop a re-export that would drop what people added to the tracker: sheets, columns, comments.

    Raises:
        OutputError: naming each addition.
    """
    if not filled.additions:
        return
    shown = filled.additions[:8] + (
        (f"and {len(filled.additions) - 8} more",) if len(filled.additions) > 8 else ()
    )
    raise OutputError(
        "holds what people added that a re-export would not keep: " + "; ".join(shown),
        file=filled.path,
        hint="Copy those sheets, columns or comments to another workbook (or into the Notes column), "
        "remove them from the tracker, then run again: qms rewrites the tracker from the framework.",
    )


def check_overwrite(path: Path) -> None:
    """Refuse to overwrite a tracker that holds filled entries (or a file that is not a tracker).

    Raises:
        OutputError: `path` exists and holds entries someone filled in, or is not a qms tracker.
    """
    path = Path(path)
    refuse_folder(path)
    if not path.exists():
        return
    hint = (
        f"Carry the entries across with `--from {path}`, write to another file, "
        "or pass --force to overwrite them."
    )
    try:
        filled = read_tracker(path)
    except TrackerError as exc:
        raise OutputError(
            f"exists and is not a clean qms tracker ({exc.problems[0].render()})", file=path, hint=hint
        ) from exc
    count = len(filled.filled_entries())
    if count:
        raise OutputError(
            f"holds {count} filled entr{'y' if count == 1 else 'ies'}; refusing to overwrite "
            f"{'it' if count == 1 else 'them'}",
            file=path,
            hint=hint,
        )


# --- Status ---------------------------------------------------------------------------------------


class Compliance(Model):
    """Compliance of one group of rows (a domain, a service, or all)."""

    group: str
    name: str
    rows: int
    counts: dict[str, int]  # per status, plus "Blank"
    applicable: int
    compliance: float | None  # None when every row is Not applicable
    weighted: float | None


class RowRef(Model):
    """A tracker row named in a status report."""

    standard_id: str
    service: str
    title: str
    rating: str
    status: str | None
    owner: str | None
    due: date | None


class Status(Model):
    """What `qms tracker status` reports for a filled tracker on a given day."""

    framework: str
    version: str
    today: date
    rule: str = L.COMPLIANCE_RULE
    overall: Compliance
    domains: tuple[Compliance, ...]
    services: tuple[Compliance, ...]
    overdue: tuple[RowRef, ...] = ()  # due before today, not Met or Not applicable
    at_risk: tuple[RowRef, ...] = ()  # high or extreme risk, not yet Met (and not Not applicable)
    blank: tuple[RowRef, ...] = ()  # no status chosen yet


def tracker_status(filled: FilledTracker, today: date) -> Status:
    """Summarise a filled tracker: compliance by domain and service, overdue actions, open high risks.

    Args:
        filled: The tracker read with `read_tracker`.
        today: The day to judge due dates against (passed in, so the result is reproducible).

    Returns:
        The status, using the same compliance rule as the workbook's Summary sheet.
    """
    rows = list(filled.entries.values())
    domains = sorted(
        {e.domain for e in rows},
        key=lambda d: (list(filled.domains).index(d) if d in filled.domains else len(filled.domains), d),
    )
    services = [s for s in filled.services if any(e.service == s for e in rows)]
    closed = (L.MET, L.NOT_APPLICABLE)
    return Status(
        framework=filled.framework,
        version=filled.version,
        today=today,
        overall=_compliance("all", "All rows", rows),
        domains=tuple(
            _compliance(d, filled.domains.get(d, d), [e for e in rows if e.domain == d]) for d in domains
        ),
        services=tuple(_compliance(s, s, [e for e in rows if e.service == s]) for s in services),
        overdue=tuple(
            row_ref(e)
            for e in sorted(
                (e for e in rows if e.due and e.due < today and e.status not in closed),
                key=lambda e: (e.due or today, e.key),
            )
        ),
        at_risk=tuple(row_ref(e) for e in rows if e.rating in ("high", "extreme") and e.status not in closed),
        blank=tuple(row_ref(e) for e in rows if not e.status),
    )


def row_ref(e: Entry) -> RowRef:
    """A tracker row as status lists it (open risks, overdue actions, blanks)."""
    return RowRef(
        standard_id=e.standard_id,
        service=e.service,
        title=e.title,
        rating=e.rating,
        status=e.status,
        owner=e.owner,
        due=e.due,
    )


def group_compliance(group: str, name: str, rows: list[Entry]) -> Compliance:
    """Compliance of any group of rows under the one rule (`layout.COMPLIANCE_RULE`)."""
    return _compliance(group, name, rows)


def _compliance(group: str, name: str, rows: list[Entry]) -> Compliance:
    counts = {s: sum(e.status == s for e in rows) for s in L.STATUSES}
    counts["Blank"] = sum(not e.status for e in rows)
    applicable = [e for e in rows if e.status != L.NOT_APPLICABLE]
    score = sum(L.STATUS_SCORES.get(e.status or "", 0.0) for e in applicable)
    weighted = sum(L.STATUS_SCORES.get(e.status or "", 0.0) * e.weight for e in applicable)
    total_weight = sum(e.weight for e in applicable)
    return Compliance(
        group=group,
        name=name,
        rows=len(rows),
        counts=counts,
        applicable=len(applicable),
        compliance=round(score / len(applicable), 4) if applicable else None,
        weighted=round(weighted / total_weight, 4) if total_weight else None,
    )


__all__ = [
    "Carry",
    "Compliance",
    "Entry",
    "FilledTracker",
    "Status",
    "carry_entries",
    "check_overwrite",
    "group_compliance",
    "read_tracker",
    "refuse_additions",
    "resolve_services",
    "tracker_status",
]
