"""The tracker's reference sheets: one per domain, Crosswalk, Risk heat map, About and the hidden marker."""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from ..models import Domain, Framework, Standard
from . import layout as L
from .content_cells import evidence_cell, good_looks_like_cell
from .crosswalk import crosswalk_links, domains_with_standards, source_sets
from .style import (
    BOLD,
    CENTRE,
    LEFT_WRAP,
    TITLE_FONT,
    WRAP,
    fit_height,
    header,
    landscape,
    protect,
    put,
    solid,
    table,
    widths,
)

SEVERITY_LABELS = {1: "Negligible", 2: "Minor", 3: "Moderate", 4: "Major", 5: "Catastrophic"}
LIKELIHOOD_LABELS = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}
_WHITE_BOLD = Font(bold=True, color="FFFFFF")

DOMAIN_COLUMNS = (
    L.Column("id", "ID", 10),
    L.Column("title", "Title", 30, wrap=True),
    L.Column("statement", "Statement", 70, wrap=True),
    L.Column("component", "QMS component", 13),
    L.Column("severity", "Severity", 9),
    L.Column("likelihood", "Likelihood", 10),
    L.Column("score", "Risk score", 8),
    L.Column("rating", "Risk rating", 11),
    L.Column("weight", "Weight", 9),
    L.Column("sources", "Sources", 60, wrap=True),
    L.Column("good", "What good looks like", 70, wrap=True),
    L.Column("evidence", "Typical evidence", 50, wrap=True),
)
CROSSWALK_COLUMNS = (
    L.Column("set", "Set", 16),
    L.Column("requirement", "Requirement", 22, wrap=True),
    L.Column("title", "Requirement title", 34, wrap=True),
    L.Column("standard", "Standard", 10),
    L.Column("standard_title", "Standard title", 30, wrap=True),
    L.Column("domain", "Domain", 9),
    L.Column("link", "Link", 9),  # home (its one standard) or related (also partly covered); see tracker.py
    L.Column("relationship", "Relationship", 12),
    L.Column("strength", "Strength", 9),
    L.Column("similarity", "Similarity", 10),
    L.Column("reason", "Excluded because", 40, wrap=True),
)
RISK_LIST_COLUMNS = (
    L.Column("id", "ID", 16),
    L.Column("title", "Title", 16, wrap=True),
    L.Column("domain", "Domain", 16),
    L.Column("severity", "Severity", 16),
    L.Column("likelihood", "Likelihood", 16),
    L.Column("score", "Risk score", 16),
    L.Column("rating", "Risk rating", 16),
)


def rating_cell(ws: Worksheet, row: int, column: int, rating: str) -> None:
    """Colour a cell holding a risk rating with its NHS colour."""
    cell = ws.cell(row=row, column=column)
    cell.fill = solid(L.RISK_COLOURS[rating])
    if rating == "extreme":
        cell.font = _WHITE_BOLD


def write_domain(ws: Worksheet, domain: Domain, standards: Sequence[Standard]) -> None:
    """One domain: its description, then its standards with risk and sources."""
    put(ws["A1"], f"{domain.id} {domain.name}").font = TITLE_FONT
    put(ws["A2"], domain.description).alignment = WRAP
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(DOMAIN_COLUMNS))
    ws.row_dimensions[2].height = 45
    rows = [
        [
            s.id,
            s.title,
            s.statement,
            s.qms_component,
            s.risk.severity,
            s.risk.likelihood,
            s.risk.score,
            s.risk.rating,
            s.risk.weight,
            "\n".join(f"{link.ref} ({link.relationship}): {link.title}" for link in s.sources),
            good_looks_like_cell(s),
            evidence_cell(s),
        ]
        for s in standards
    ]
    table(ws, DOMAIN_COLUMNS, rows, top=4)
    for r, s in enumerate(standards, 5):
        rating_cell(ws, r, 8, s.risk.rating)
    protect(ws)


def write_crosswalk(ws: Worksheet, framework: Framework) -> None:
    """Every source requirement and where it went: its home, standards also partly covering it, or why not.

    The crosswalk is many-to-many: one `home` row per requirement and a `related` row per standard that
    also partly covers it, each with relationship and strength; an excluded requirement has its reason.
    """
    rows = []
    for row in crosswalk_links(framework):
        if row.standard is not None and row.link is not None:
            rows.append(
                [
                    row.set_id,
                    row.requirement_id,
                    row.title,
                    row.standard.id,
                    row.standard.title,
                    row.standard.domain,
                    row.kind,
                    row.link.relationship,
                    row.link.strength,
                    round(row.link.similarity, 4),
                    None,
                ]
            )
        else:
            rows.append([row.set_id, row.requirement_id, *[None] * 5, "excluded", None, None, row.reason])
    table(ws, CROSSWALK_COLUMNS, rows)
    protect(ws)


def write_risk(ws: Worksheet, framework: Framework) -> None:
    """The NHS 5x5 heat map (severity down, likelihood across) with counts, a key, and the list by score."""
    put(
        ws["A1"], "Risk heat map: number of standards by severity (consequence) and likelihood"
    ).font = TITLE_FONT
    put(ws["A3"], "Severity \\ Likelihood").font = BOLD
    for lik in range(1, 6):
        put(ws.cell(row=3, column=lik + 1), f"{lik} {LIKELIHOOD_LABELS[lik]}").font = BOLD
        ws.cell(row=3, column=lik + 1).alignment = CENTRE
    counts: dict[tuple[int, int], int] = {}
    for s in framework.standards:
        counts[(s.risk.severity, s.risk.likelihood)] = counts.get((s.risk.severity, s.risk.likelihood), 0) + 1
    for r, sev in enumerate(range(5, 0, -1), 4):
        put(ws.cell(row=r, column=1), f"{sev} {SEVERITY_LABELS[sev]}").font = BOLD
        ws.row_dimensions[r].height = 30
        for lik in range(1, 6):
            cell = put(ws.cell(row=r, column=lik + 1), counts.get((sev, lik), 0))
            cell.alignment = CENTRE
            rating_cell(ws, r, lik + 1, L.rating_for(sev * lik))
    put(ws["A10"], "Rating").font = BOLD
    put(ws["B10"], "Scores").font = BOLD
    put(ws["C10"], "Standards").font = BOLD
    ranges = {"low": "1-3", "moderate": "4-6", "high": "8-12", "extreme": "15-25"}
    for r, rating in enumerate(L.RATINGS, 11):
        put(ws.cell(row=r, column=1), rating)
        rating_cell(ws, r, 1, rating)
        put(ws.cell(row=r, column=2), ranges[rating])
        put(ws.cell(row=r, column=3), sum(s.risk.rating == rating for s in framework.standards))
    ordered = sorted(framework.standards, key=lambda s: (-s.risk.score, s.id))
    rows = [
        [s.id, s.title, s.domain, s.risk.severity, s.risk.likelihood, s.risk.score, s.risk.rating]
        for s in ordered
    ]
    table(ws, RISK_LIST_COLUMNS, rows, top=16)
    ws.freeze_panes = None
    ws.print_title_rows = None
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 30
    for r, s in enumerate(ordered, 17):
        rating_cell(ws, r, 7, s.risk.rating)
    protect(ws)


def write_about(ws: Worksheet, framework: Framework, services: Sequence[str]) -> None:
    """Provenance: the framework, the source sets with editions and licences, and the engine settings."""
    info = framework.framework
    put(ws["A1"], "About this tracker").font = TITLE_FONT
    facts = [
        ("Framework", info.name),
        ("Version", info.version),
        ("Generated by", info.generated_by),
        ("Tracker format", L.FORMAT_MARKER),
        ("Standards", len(framework.standards)),
        ("Domains", len(framework.domains)),
        ("Services", ", ".join(services) or "(one row per standard)"),
        ("Compliance rule", L.COMPLIANCE_RULE),
        (
            "Sheet protection",
            "No password. Only the Tracker's Status, Owner, Due date, Evidence, Actions and "
            "Notes cells are unlocked; Review > Unprotect Sheet lifts the protection.",
        ),
        (
            "Re-export",
            "qms export tracker FRAMEWORK.yaml -o NEW.xlsx --from THIS.xlsx carries every filled "
            "cell across by standard id (and service).",
        ),
    ]
    about_widths = (22, 60, 10, 24, 40, 13, 66)
    row = 3
    for key, value in facts:
        put(ws.cell(row=row, column=1), key).font = BOLD
        put(ws.cell(row=row, column=2), value).alignment = LEFT_WRAP
        fit_height(ws, row, [(about_widths[1], value)])
        row += 1
    row += 1
    put(ws.cell(row=row, column=1), "Source sets").font = BOLD
    header(ws, row + 1, ["Set", "Name", "Edition", "Publisher", "Licence", "Requirements", "SHA-256"])
    for r, source in enumerate(source_sets(framework), row + 2):
        values = [
            source.id,
            source.name,
            source.version,
            source.publisher,
            source.licence,
            source.requirements,
            source.sha256,
        ]
        for c, value in enumerate(values, 1):
            put(ws.cell(row=r, column=c), value).alignment = LEFT_WRAP
        fit_height(ws, r, list(zip(about_widths, values, strict=True)))
    row += 3 + len(source_sets(framework))
    put(ws.cell(row=row, column=1), "Engine settings").font = BOLD
    header(ws, row + 1, ["Setting", "Value"])
    for r, (key, value) in enumerate(_flatten(info.engine.model_dump(mode="json")), row + 2):
        put(ws.cell(row=r, column=1), key)
        put(ws.cell(row=r, column=2), "" if value is None else str(value))
    widths(ws, about_widths)
    landscape(ws, None)
    protect(ws)


def _flatten(data: dict, prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in data.items():
        out += _flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else [(f"{prefix}{key}", value)]
    return out


def write_meta(ws: Worksheet, framework: Framework, services: Sequence[str]) -> None:
    """The hidden sheet that marks a workbook as a qms tracker and lists what the reader checks against."""
    put(ws["A1"], "format")
    put(ws[L.META_MARKER_CELL], L.FORMAT_MARKER)
    put(ws["A2"], "framework")
    put(ws[L.META_FRAMEWORK_CELL], framework.framework.name)
    put(ws["A3"], "version")
    put(ws[L.META_VERSION_CELL], framework.framework.version)
    id_col, name_col = L.META_DOMAIN_COLUMNS
    columns = {
        id_col: ["domain"],
        name_col: ["domain name"],
        L.META_ID_COLUMN: ["standard"],
        L.META_SERVICE_COLUMN: ["service"],
    }
    for domain, _ in domains_with_standards(framework):
        columns[id_col].append(domain.id)
        columns[name_col].append(domain.name)
    columns[L.META_ID_COLUMN] += [s.id for s in framework.standards]
    columns[L.META_SERVICE_COLUMN] += list(services)
    for letter, values in columns.items():
        for r, value in enumerate(values, 1):
            put(ws[f"{letter}{r}"], value)
    ws.sheet_state = "hidden"
    protect(ws)
