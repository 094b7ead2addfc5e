"""Bad frameworks, gold files and tracker cells: exit 2, located message, hint, no traceback, no write."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import DATA
from qms_standards.cli import app
from qms_standards.export.excel import render_tracker
from qms_standards.load import load_framework

runner = CliRunner()
BAD = DATA / "bad"
SMALL = DATA / "framework-small.yaml"

FRAMEWORKS = [
    ("empty.yaml", 1, None, "file is empty"),
    ("not-a-framework.yaml", 1, "domains", "required field 'domains' is missing"),
    ("truncated.yaml", 64, None, "invalid YAML"),
    ("unknown-key.yaml", 56, "standards[0].colour", "unknown key 'colour'"),
    ("wrong-type.yaml", 59, "standards[0].risk.score", "valid integer"),
    ("duplicate-id.yaml", 65, "standards[1].id", "standard 'QS-001' appears more than once"),
    ("unknown-domain.yaml", 75, "standards[2].domain", "domain 'D9' is not one of the framework's domains"),
]
GOLD = [
    ("duplicate-id.yaml", 4, "requirements[1].id", "duplicate requirement id 'a:1'"),
    ("missing-text.yaml", 3, "requirements[0].text", "required field 'text' is missing"),
    ("unknown-ref.yaml", 12, "gold_pairs[0]", "unknown requirement 'b:2'"),
    ("unknown-relation.yaml", 14, "gold_pairs[0][2]", "input should be 'equal'"),
]


def _check(result, path: Path, line: int, field: str | None, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    where = f"{path}:{line}: " + (f"{field}: " if field else "")
    assert any(
        line_.startswith(f"error: {where}") and message in line_ for line_ in result.output.splitlines()
    ), result.output
    assert "hint:" in result.output


@pytest.mark.parametrize(("name", "line", "field", "message"), FRAMEWORKS)
@pytest.mark.parametrize("command", ["diff", "export-markdown", "export-tracker"])
def test_bad_framework(
    tmp_path: Path, command: str, name: str, line: int, field: str | None, message: str
) -> None:
    path = BAD / "frameworks" / name
    out = tmp_path / "out"
    args = {
        "diff": ["diff", str(path), str(SMALL), "--markdown", str(out)],
        "export-markdown": ["export", "markdown", str(path), "-o", str(out)],
        "export-tracker": ["export", "tracker", str(path), "-o", str(out)],
    }[command]
    _check(runner.invoke(app, args), path, line, field, message)
    assert not out.exists()


@pytest.mark.parametrize(("name", "line", "field", "message"), GOLD)
def test_bad_gold_file(tmp_path: Path, name: str, line: int, field: str, message: str) -> None:
    path = BAD / "gold" / name
    out = tmp_path / "clusters.json"
    _check(
        runner.invoke(app, ["evaluate", str(path), "--clusters-out", str(out)]), path, line, field, message
    )
    assert not out.exists()


# Filled trackers as people break them (made from framework-small.yaml's tracker, edited with openpyxl).
TRACKERS = [
    ("renamed-sheet.xlsx", "Tracker", "sheet 'Tracker' is missing (sheets: My tracker, "),
    ("typed-over-id.xlsx", "Tracker!A4", "standard id is 'QS-999', not an id of this tracker"),
    ("invalid-status.xlsx", "Tracker!I3", "status 'Done' is not allowed"),
    ("invalid-due-date.xlsx", "Tracker!K5", "due date is 'next week', not a date"),
    ("renamed-header.xlsx", "Tracker!I1", "header is 'State', expected 'Status'"),
    ("not-a-tracker.xlsx", "qms!B1", "not a qms tracker (no format marker"),
    ("truncated.xlsx", None, "not an xlsx workbook (BadZipFile)"),
]


@pytest.mark.parametrize(("name", "field", "message"), TRACKERS)
@pytest.mark.parametrize("command", ["status", "export-from"])
def test_bad_tracker(tmp_path: Path, command: str, name: str, field: str | None, message: str) -> None:
    path = BAD / "trackers" / name
    out = tmp_path / "new.xlsx"
    args = {
        "status": ["tracker", "status", str(path)],
        "export-from": ["export", "tracker", str(SMALL), "-o", str(out), "--from", str(path)],
    }[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert f"error: {path}: " + (f"{field}: " if field else "") + message in said
    assert "hint:" in said
    assert not out.exists()


_TRACKER = render_tracker(load_framework(SMALL))
_CELL = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30),  # what a person can type
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(["Met", "Not met", "Partially met", "=1/0", "=SUM(A1:A3)", "QS-001", "2026-13-45"]),
    st.dates(),
    st.datetimes(),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.integers(2, 8), st.integers(1, 16), _CELL), max_size=12))
def test_tracker_status_never_crashes_on_arbitrary_cells(tmp_path_factory, cells) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "tracker.xlsx"
    path.write_bytes(_TRACKER)
    book = load_workbook(path)
    sheet = book["Tracker"]
    for row, column, value in cells:
        sheet.cell(row, column).value = value
    book.save(path)
    result = runner.invoke(app, ["tracker", "status", str(path), "--today", "2026-11-23"])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 2:
        assert re.search(r"error: .*tracker\.xlsx.*Tracker!", result.output), result.output


def test_a_date_cell_out_of_range_is_our_error_not_a_library_warning(tmp_path: Path) -> None:
    path = tmp_path / "tracker.xlsx"
    path.write_bytes(_TRACKER)
    book = load_workbook(path)
    sheet = book["Tracker"]
    column = [c.value for c in sheet[1]].index("Due date") + 1
    sheet.cell(2, column).value = -1.6e16  # keeps the column's date format: openpyxl warns on reading it
    book.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that would reach the user's terminal fails the test
        result = runner.invoke(app, ["tracker", "status", str(path)])
    assert result.exit_code == 2, result.output
    where = f"Tracker!{sheet.cell(2, column).column_letter}2"
    assert f"{where}: due date is an error (#VALUE!): a formula error, or a number too large" in " ".join(
        result.output.split()
    )


@pytest.mark.parametrize("command", ["diff", "export-markdown", "validate"])
def test_a_workbook_given_for_yaml_is_named_as_a_workbook(tmp_path: Path, command: str) -> None:
    path = tmp_path / "framework.yaml"  # named like YAML, but a tracker: people mix the two up
    path.write_bytes(_TRACKER)
    args = {
        "diff": ["diff", str(SMALL), str(path)],
        "export-markdown": ["export", "markdown", str(path), "-o", str(tmp_path / "out.md")],
        "validate": ["validate", str(path)],
    }[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"error: {path}: this is a zip archive (an Excel workbook?)" in " ".join(result.output.split())
    assert not (tmp_path / "out.md").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["export", "tracker", str(SMALL), "-o"],
        ["export", "markdown", str(SMALL), "-o"],
        ["diff", str(SMALL), str(SMALL), "--markdown"],
    ],
)
def test_an_output_that_is_a_folder_is_named_as_one(tmp_path: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert f"error: {tmp_path}: is a folder, not a file" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []
