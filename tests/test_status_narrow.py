"""`qms tracker status` in an 80-column terminal: every table fits, names wrap by words, dates stay whole."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import DATA, ROOT
from qms_standards.cli import ExitCode, app
from qms_standards.export.excel import render_tracker
from qms_standards.load import load_framework
from qms_standards.services import load_services

SMALL = load_framework(DATA / "framework-small.yaml")  # the shipped domain names
SHIPPED_SERVICES = [s.name for s in load_services(ROOT / "mappings" / "services.yaml").services]


def _filled(path: Path, services: list[str] | None = None) -> Path:
    path.write_bytes(render_tracker(SMALL, services=services))
    book = load_workbook(path)
    ws = book["Tracker"]
    headers = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        ws.cell(row, headers["Status"]).value = ("Not met", "Partially met", "Met")[row % 3]
        ws.cell(row, headers["Owner"]).value = "Jane Smith, Head of Quality and Patient Safety"
        ws.cell(row, headers["Due date"]).value = datetime(2024, 1, 1 + row % 28)
    book.save(path)
    return path


def _groups(path: Path) -> list[str]:
    result = CliRunner().invoke(app, ["tracker", "status", str(path), "--json", "--today", "2024-06-01"])
    data = json.loads(result.stdout)
    return [g["name"] for g in data["domains"] + data["services"]]


def _status(path: Path, columns: int) -> list[str]:
    result = CliRunner().invoke(
        app, ["tracker", "status", str(path), "--today", "2024-06-01"], env={"COLUMNS": str(columns)}
    )
    assert result.exit_code == ExitCode.OK, result.output
    return result.stdout.splitlines()


def _assert_readable(lines: list[str], names: list[str]) -> None:
    assert max(len(line.rstrip()) for line in lines) <= 80, "\n".join(lines)
    text = "\n".join(lines)
    for name in names:  # every word of every group name is whole on some line: wrapped by words, not folded
        for word in name.split():
            assert re.search(rf"(?<!\S){re.escape(word)}(?!\S)", text), f"{word!r} folded:\n{text}"
    due = [line for line in lines if "2024-01" in line]
    assert due and all(re.search(r"2024-01-\d\d", line) for line in due), text  # dates never broken


def test_one_tracker_at_80_columns_fits_with_domain_names_whole(tmp_path: Path) -> None:
    path = _filled(tmp_path / "t.xlsx")
    lines = _status(path, 80)
    _assert_readable(lines, _groups(path))
    assert any(line.startswith("D1 Leadership,") for line in lines), "\n".join(lines)
    assert not any(
        line.startswith("service") or " service " in line for line in lines[:40]
    )  # no empty column


def test_per_service_tracker_at_80_columns_fits_with_service_names_whole(tmp_path: Path) -> None:
    path = _filled(tmp_path / "t.xlsx", SHIPPED_SERVICES)
    lines = _status(path, 80)
    assert set(_groups(path)) >= set(SHIPPED_SERVICES)
    _assert_readable(lines, _groups(path))
    assert "Compliance by service" in "\n".join(lines)


def test_a_wide_terminal_keeps_the_boxed_table(tmp_path: Path) -> None:
    lines = _status(_filled(tmp_path / "t.xlsx"), 250)
    assert any(line.startswith("┃ group ") and "┃ partly met ┃" in line for line in lines), "\n".join(lines)
