"""A trust for the benchmarks: 67 services' trackers filled in, ready for `qms tracker collect`.

Built untimed with the library (export and filling are not what is measured); `run.py` then times
`qms tracker collect` over the 67 workbooks and `qms report` over the collected set.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import load_workbook

from qms_standards.export import layout as L
from qms_standards.export.per_service import service_trackers
from qms_standards.load import load_framework
from qms_standards.services import load_services

DIRECTORATES = ("Surgery", "Medicine", "Specialist Services", "Community", "Clinical Support", "Women's")
STATUSES = (*L.STATUSES, None, L.MET, L.MET, L.PARTIALLY_MET)


def build_trust(framework: Path, folder: Path, services: int = 67, seed: int = 0) -> tuple[Path, Path, int]:
    """Write services.yaml and a filled tracker per service; return (services, returned folder, rows)."""
    names = [f"Ward {i}, Paediatrics" if i % 5 == 0 else f"Service {i:02d}" for i in range(1, services + 1)]
    services_file = folder / "services.yaml"
    lines = ["organisation: Bench Trust", "services:"]
    for i, name in enumerate(names):
        lines += [f'  - name: "{name}"', f'    directorate: "{DIRECTORATES[i % len(DIRECTORATES)]}"']
    folder.mkdir(parents=True, exist_ok=True)
    services_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    returned = folder / "returned"
    returned.mkdir(exist_ok=True)
    loaded = load_framework(framework)
    rng = random.Random(seed)
    for workbook in service_trackers(loaded, load_services(services_file), returned):
        workbook.path.write_bytes(workbook.data)
        book = load_workbook(workbook.path)
        ws = book[L.TRACKER_SHEET]
        col = {c.value: c.column for c in ws[1]}
        for row in range(2, ws.max_row + 1):
            status = rng.choice(STATUSES)
            ws.cell(row, col["Status"]).value = status
            if status not in (None, L.MET, L.NOT_APPLICABLE):
                ws.cell(row, col["Due date"]).value = date(2025, 1, 1) + timedelta(days=rng.randrange(400))
            if status == L.MET:
                ws.cell(row, col["Evidence"]).value = f"https://intranet.example/evidence/{row}"
        book.save(workbook.path)
    return services_file, returned, services * len(loaded.standards)
