"""The tracker workbook's format: sheet names, columns, statuses and the marker.

The writer (`export.excel`) and the reader (`tracker`) both work from these definitions, so a change to
the layout is made once. A change that an older reader could not follow must bump `FORMAT_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

FORMAT_VERSION = 1
FORMAT_MARKER = f"qms-tracker format {FORMAT_VERSION}"

TRACKER_SHEET = "Tracker"
SUMMARY_SHEET = "Summary"
RISK_SHEET = "Risk"
CROSSWALK_SHEET = "Crosswalk"
ORPHANED_SHEET = "Orphaned entries"
ABOUT_SHEET = "About"
META_SHEET = "qms"  # hidden: the format marker, the standard ids, domains and services of this export

# Cells of the hidden META_SHEET.
META_MARKER_CELL = "B1"
META_FRAMEWORK_CELL = "B2"
META_VERSION_CELL = "B3"
META_DOMAIN_COLUMNS = ("D", "E")  # id, name; from row 2
META_ID_COLUMN = "G"  # standard ids, from row 2
META_SERVICE_COLUMN = "H"  # services, from row 2

NOT_STARTED = "Not started"
IN_PROGRESS = "In progress"
PARTIALLY_MET = "Partially met"
MET = "Met"
NOT_MET = "Not met"
NOT_APPLICABLE = "Not applicable"
STATUSES: tuple[str, ...] = (NOT_STARTED, IN_PROGRESS, PARTIALLY_MET, MET, NOT_MET, NOT_APPLICABLE)

# The compliance rule, shared by the Summary sheet's formulas and `tracker.tracker_status`: a row scores
# 1 when Met, 0.5 when Partially met and 0 otherwise (blank included); Not applicable rows leave the
# denominator. Weighted compliance multiplies each row by its standard's risk weight.
STATUS_SCORES: dict[str, float] = {MET: 1.0, PARTIALLY_MET: 0.5}
COMPLIANCE_RULE = (
    "Compliance = (Met + 0.5 x Partially met) / (rows - Not applicable). Blank, Not started, In progress "
    "and Not met rows count as 0. Weighted compliance weights each row by its standard's risk weight "
    "(score / sum of all scores)."
)

RATINGS: tuple[str, ...] = ("low", "moderate", "high", "extreme")
RISK_COLOURS: dict[str, str] = {"low": "92D050", "moderate": "FFFF00", "high": "FFC000", "extreme": "FF0000"}
STATUS_COLOURS: dict[str, str] = {
    NOT_STARTED: "F2F2F2",
    IN_PROGRESS: "DDEBF7",
    PARTIALLY_MET: "FFEB9C",
    MET: "C6EFCE",
    NOT_MET: "FFC7CE",
    NOT_APPLICABLE: "D9D9D9",
}


def rating_for(score: int) -> str:
    """NHS 5x5 rating of a risk score: low 1-3, moderate 4-6, high 8-12, extreme 15-25."""
    if score <= 3:
        return "low"
    if score <= 6:
        return "moderate"
    return "high" if score <= 12 else "extreme"


@dataclass(frozen=True)
class Column:
    """One column of a tracker sheet: the key code uses, the header people see, and how it looks."""

    key: str
    header: str
    width: float
    wrap: bool = False
    fill_in: bool = False  # unlocked for people to fill; carried across re-exports


_ID = Column("id", "ID", 10)
_SERVICE = Column("service", "Service", 16, wrap=True)
_DOMAIN = Column("domain", "Domain", 9)
_TITLE = Column("title", "Title", 30, wrap=True)
_CONTEXT = (
    Column("statement", "Statement", 60, wrap=True),
    Column("score", "Risk score", 8),
    Column("rating", "Risk rating", 11),
    Column("weight", "Weight", 9),
    Column("sources", "Sources", 42, wrap=True),
)
FILL_COLUMNS: tuple[Column, ...] = (
    Column("status", "Status", 16, fill_in=True),
    Column("owner", "Owner", 18, wrap=True, fill_in=True),
    Column("due", "Due date", 12, fill_in=True),
    Column("evidence", "Evidence", 40, wrap=True, fill_in=True),
    Column("actions", "Actions", 40, wrap=True, fill_in=True),
    Column("notes", "Notes", 30, wrap=True, fill_in=True),
)
FILL_KEYS: tuple[str, ...] = tuple(c.key for c in FILL_COLUMNS)
ORPHAN_COLUMNS: tuple[Column, ...] = (
    _ID,
    Column("service", "Service", 16, wrap=True),
    _DOMAIN,
    _TITLE,
    *FILL_COLUMNS,
    Column("reason", "Why orphaned", 30, wrap=True),
)


def tracker_columns(with_services: bool) -> tuple[Column, ...]:
    """The Tracker sheet's columns, with a Service column second when the tracker is per service."""
    head = (_ID, _SERVICE) if with_services else (_ID,)
    return (*head, _DOMAIN, _TITLE, *_CONTEXT, *FILL_COLUMNS)


@dataclass(frozen=True)
class Entry:
    """One row of a filled tracker: what people filled in, and the row's context as it was exported."""

    standard_id: str
    service: str = ""  # "" when the tracker is not per service
    status: str | None = None
    owner: str | None = None
    due: date | None = None
    evidence: str | None = None
    actions: str | None = None
    notes: str | None = None
    domain: str = ""
    title: str = ""
    rating: str = ""
    weight: float = 0.0
    sources: tuple[str, ...] = ()  # the refs its standard held when exported (the Crosswalk sheet)
    sheet: str = ""  # where it was read from
    row: int = 0

    @property
    def where(self) -> str:
        """Sheet and row it was read from, e.g. "Tracker row 7"."""
        return f"{self.sheet} row {self.row}"

    @property
    def label(self) -> str:
        """`QS-001`, or `QS-001 / Ward A` on a per-service tracker."""
        return self.standard_id + (f" / {self.service}" if self.service else "")

    @property
    def key(self) -> tuple[str, str]:
        """(standard id, service): what an entry is carried across by."""
        return (self.standard_id, self.service)

    @property
    def filled(self) -> bool:
        """True when any fill-in cell holds a value."""
        return any(getattr(self, k) not in (None, "") for k in FILL_KEYS)
