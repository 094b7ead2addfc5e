"""Helpers for the self-assessment tests: a services file of any size, and trackers filled as teams would."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook

from qms_standards.export import layout as L

DIRECTORATES = (
    "Critical Care and Surgery",
    "Medicine",
    "Specialist Services",
    "Community and Mental Health",
    "Clinical Support",
    "Women's and Children's Services",
)
# Weighted so that every status, blanks included, appears many times across 67 services.
STATUSES = (*L.STATUSES, None, L.MET, L.MET, L.PARTIALLY_MET)


def services_yaml(path: Path, count: int, organisation: str = "Test Children's Hospital") -> list[str]:
    """Write a services file of `count` services over six directorates; some names hold commas."""
    names = [f"Ward {i}, Paediatrics" if i % 5 == 0 else f"Service {i:02d}" for i in range(1, count + 1)]
    lines = [f"organisation: {organisation}", "services:"]
    for i, name in enumerate(names):
        lines += [f'  - name: "{name}"', f'    directorate: "{DIRECTORATES[i % len(DIRECTORATES)]}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return names


def fill_varied(path: Path, seed: int, start: date = date(2025, 1, 1)) -> None:
    """Fill a returned tracker as a team would: varied statuses, owners, due dates, evidence links, notes."""
    rng = random.Random(seed)
    book = load_workbook(path)
    ws = book[L.TRACKER_SHEET]
    col = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        status = rng.choice(STATUSES)
        ws.cell(row, col["Status"]).value = status
        if status is not None and rng.random() < 0.7:
            ws.cell(row, col["Owner"]).value = rng.choice(("Matron", "Ward manager", "Clinical lead"))
        if status not in (None, L.MET, L.NOT_APPLICABLE) and rng.random() < 0.6:
            ws.cell(row, col["Due date"]).value = start + timedelta(days=rng.randrange(0, 400))
        if status in (L.MET, L.PARTIALLY_MET):
            ws.cell(row, col["Evidence"]).value = f"https://intranet.example.nhs.uk/evidence/{seed}/{row}"
        if rng.random() < 0.2:
            ws.cell(row, col["Notes"]).value = f"Reviewed at governance meeting {row}; see minutes"
    book.save(path)
