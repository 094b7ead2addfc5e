"""Reading a filled tracker back, carrying entries into a re-export, status, errors, and the CLI."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from conftest import DATA, ROOT
from qms_standards.cli import ExitCode, app
from qms_standards.errors import OutputError, TrackerError
from qms_standards.export import layout as L
from qms_standards.export.excel import render_tracker
from qms_standards.load import load_framework
from qms_standards.models import Framework
from qms_standards.tracker import (
    FilledTracker,
    carry_entries,
    check_overwrite,
    read_tracker,
    resolve_services,
    tracker_status,
)

SMALL = DATA / "framework-small.yaml"
SERVICES = ["Ward A", "Clinic B"]
FILL = [c.header for c in L.FILL_COLUMNS]  # Status, Owner, Due date, Evidence, Actions, Notes
_FRAMEWORK = load_framework(SMALL)  # read once: hypothesis examples reuse it


@pytest.fixture
def framework() -> Framework:
    return _FRAMEWORK


def export(path: Path, framework: Framework = _FRAMEWORK, **kwargs: Any) -> Path:
    path.write_bytes(render_tracker(framework, **kwargs))
    return path


def fill(path: Path, values: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Type values into the Tracker as a person would: {(id, service): {header: value}}."""
    book = load_workbook(path)
    ws = book["Tracker"]
    headers = {c.value: c.column for c in ws[1]}
    with_services = "Service" in headers
    for row in range(2, ws.max_row + 1):
        key = (ws.cell(row, 1).value, ws.cell(row, 2).value if with_services else "")
        for header, value in values.get(key, {}).items():
            ws.cell(row, headers[header]).value = value
    book.save(path)


def edit(path: Path, sheet: str, cell: str, value: Any) -> None:
    book = load_workbook(path)
    book[sheet][cell] = value
    book.save(path)


def fills_of(tracker: FilledTracker) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {e.key: tuple(getattr(e, k) for k in L.FILL_KEYS) for e in tracker.filled_entries()}


def without(framework: Framework, *ids: str) -> Framework:
    return framework.model_copy(
        update={"standards": tuple(s for s in framework.standards if s.id not in ids)}
    )


# --- reading --------------------------------------------------------------------------------------


def test_a_fresh_export_reads_back_with_every_row_and_nothing_filled(tmp_path: Path) -> None:
    tracker = read_tracker(export(tmp_path / "t.xlsx"))
    assert list(tracker.entries) == [(s.id, "") for s in _FRAMEWORK.standards]
    assert tracker.filled_entries() == []
    assert (tracker.framework, tracker.version, tracker.services) == ("Small test framework", "0.1.0", ())
    assert tracker.domains["D7"] == "Resources, information and partnerships"
    first = tracker.entries[("QS-001", "")]
    assert (first.domain, first.title, first.rating, first.weight) == (
        "D1",
        "Leadership & governance",
        "high",
        0.2105,
    )


def test_a_standard_holds_its_home_refs_not_the_ones_it_only_partly_covers(tmp_path: Path) -> None:
    # The Crosswalk sheet lists related links too (Link column `related`): they are not what a standard held.
    tracker = read_tracker(export(tmp_path / "t.xlsx"))
    for standard in _FRAMEWORK.standards:
        held = tracker.entries[(standard.id, "")].sources
        assert sorted(held) == sorted(link.ref for link in standard.sources), standard.id
    assert any(s.related for s in _FRAMEWORK.standards)


def test_fill_in_values_read_back_typed(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx", services=SERVICES)
    fill(
        path,
        {
            ("QS-003", "Clinic B"): {
                "Status": "partially MET ",
                "Owner": 42,
                "Due date": datetime(2025, 3, 31),
                "Evidence": "Audit report\nQ1",
                "Notes": datetime(2025, 1, 2),
            }
        },
    )
    entry = read_tracker(path).entries[("QS-003", "Clinic B")]
    assert (entry.status, entry.owner, entry.due, entry.evidence, entry.actions, entry.notes) == (
        "Partially met",
        "42",
        date(2025, 3, 31),
        "Audit report\nQ1",
        None,
        "2025-01-02",
    )
    assert entry.filled and entry.label == "QS-003 / Clinic B" and entry.where == "Tracker row 10"


def test_an_iso_date_typed_as_text_is_accepted(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {("QS-001", ""): {"Due date": "2025-06-30"}})
    assert read_tracker(path).entries[("QS-001", "")].due == date(2025, 6, 30)


def test_cleared_rows_are_skipped(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    book = load_workbook(path)
    for cell in book["Tracker"][3]:
        cell.value = None
    book.save(path)
    assert ("QS-002", "") not in read_tracker(path).entries


# --- errors ---------------------------------------------------------------------------------------


def _error(path: Path) -> TrackerError:
    with pytest.raises(TrackerError) as info:
        read_tracker(path)
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    error = _error(tmp_path / "nope.xlsx")
    assert error.problems[0].message == "no such file"


def test_not_an_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_text("id,status\n", encoding="utf-8")
    assert _error(path).problems[0].message == "not an xlsx workbook (BadZipFile)"
    csv = tmp_path / "t.csv"
    csv.write_text("id,status\n", encoding="utf-8")
    assert _error(csv).problems[0].message == "not an xlsx workbook (BadZipFile)"


def test_a_workbook_that_is_not_a_qms_tracker(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    Workbook().save(path)
    error = _error(path)
    assert error.field == "qms!B1"
    assert (
        error.problems[0].message == "not a qms tracker (no format marker; expected 'qms-tracker format 1')"
    )


def test_a_renamed_tracker_sheet(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    book = load_workbook(path)
    book["Tracker"].title = "My tracker"
    book.save(path)
    error = _error(path)
    assert error.field == "Tracker"
    assert str(error).startswith(f"{path}: Tracker: sheet 'Tracker' is missing (sheets: My tracker, Summary,")
    assert error.hint == "Rename the tracking sheet back to 'Tracker'."


def test_a_typed_over_header(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    edit(path, "Tracker", "C1", "Name")
    error = _error(path)
    assert (error.field, error.problems[0].message) == ("Tracker!C1", "header is 'Name', expected 'Title'")


def test_a_typed_over_id(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    edit(path, "Tracker", "A3", "QS-0O2")
    error = _error(path)
    assert error.field == "Tracker!A3"
    assert error.problems[0].message == "standard id is 'QS-0O2', not an id of this tracker"


def test_an_invalid_status(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {("QS-003", ""): {"Status": "Done"}})
    error = _error(path)
    assert str(error) == f"{path}: Tracker!I4: status 'Done' is not allowed"
    assert error.hint == f"Pick one from the list: {', '.join(L.STATUSES)}."


def test_a_due_date_that_is_not_a_date(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {("QS-004", ""): {"Due date": "next week"}})
    error = _error(path)
    assert str(error) == f"{path}: Tracker!K5: due date is 'next week', not a date"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx", services=SERVICES)
    fill(path, {("QS-002", "Ward A"): {"Status": "Yes", "Due date": "soon"}})
    edit(path, "Tracker", "B9", "Ward Z")
    edit(path, "Tracker", "H5", "heavy")
    error = _error(path)
    assert [p.field for p in error.problems] == ["Tracker!B9", "Tracker!H5", "Tracker!J3", "Tracker!L3"]
    assert str(error).count("\n") == 3


def test_a_duplicated_row(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    book = load_workbook(path)
    ws = book["Tracker"]
    for col in range(1, ws.max_column + 1):
        ws.cell(8, col).value = ws.cell(2, col).value
    book.save(path)
    error = _error(path)
    assert (error.field, error.problems[0].message) == (
        "Tracker!A8",
        "second row for QS-001 (first at Tracker row 2)",
    )


# --- carrying -------------------------------------------------------------------------------------


def test_round_trip_carries_every_filled_cell(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx", services=SERVICES)
    fill(
        path,
        {
            ("QS-001", "Ward A"): {
                "Status": "Met",
                "Owner": "Ana",
                "Due date": datetime(2025, 1, 31),
                "Evidence": "E1",
                "Actions": "A1",
                "Notes": "N1",
            },
            ("QS-006", "Clinic B"): {"Notes": "only a note"},
        },
    )
    before = read_tracker(path)
    again = export(tmp_path / "again.xlsx", carried=before)
    assert fills_of(read_tracker(again)) == fills_of(before)
    assert len(fills_of(before)) == 2


def test_services_default_to_those_of_the_carried_tracker(tmp_path: Path) -> None:
    before = read_tracker(export(tmp_path / "t.xlsx", services=SERVICES))
    assert resolve_services(None, before) == ("Ward A", "Clinic B")
    assert resolve_services([" Ward A", "Ward A", ""], before) == ("Ward A",)
    assert resolve_services([], before) == ()
    assert read_tracker(export(tmp_path / "again.xlsx", carried=before)).services == ("Ward A", "Clinic B")


def test_entries_of_a_removed_standard_are_orphaned_then_carried_back(
    tmp_path: Path, framework: Framework
) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {("QS-002", ""): {"Status": "Met", "Owner": "Bo"}, ("QS-005", ""): {"Status": "Not met"}})
    smaller = without(framework, "QS-002")
    carry = carry_entries(smaller, read_tracker(path))
    assert [e.key for e in carry.carried] == [("QS-005", "")]
    assert [(e.key, why) for e, why in carry.orphaned] == [
        (("QS-002", ""), "standard no longer in the framework")
    ]
    assert carry.new == (("QS-001", ""), ("QS-003", ""), ("QS-004", ""), ("QS-006", ""))

    second = export(tmp_path / "second.xlsx", smaller, carried=read_tracker(path))
    orphans = load_workbook(second)["Orphaned entries"]
    assert [c.value for c in orphans[2]] == [
        "QS-002",
        None,
        "D1",
        "Openness | duty of candour",
        "Met",
        "Bo",
        None,
        None,
        None,
        None,
        "standard no longer in the framework",
    ]
    read = read_tracker(second)
    assert [e.key for e in read.orphaned] == [("QS-002", "")]
    assert ("QS-002", "") not in read.entries

    # Still orphaned on the next re-export; carried back into the Tracker once the standard returns.
    third = export(tmp_path / "third.xlsx", smaller, carried=read)
    assert [e.key for e in read_tracker(third).orphaned] == [("QS-002", "")]
    back = read_tracker(export(tmp_path / "back.xlsx", framework, carried=read_tracker(third)))
    assert back.orphaned == () and back.entries[("QS-002", "")].owner == "Bo"
    assert "Orphaned entries" not in load_workbook(tmp_path / "back.xlsx").sheetnames


def test_entries_of_a_dropped_service_are_orphaned(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx", services=SERVICES)
    fill(path, {("QS-001", "Clinic B"): {"Owner": "Cy"}, ("QS-001", "Ward A"): {"Owner": "Di"}})
    carry = carry_entries(_FRAMEWORK, read_tracker(path), ["Ward A"])
    assert [e.key for e in carry.carried] == [("QS-001", "Ward A")]
    assert [(e.key, why) for e, why in carry.orphaned] == [
        (("QS-001", "Clinic B"), "service not in this export")
    ]


def test_an_orphan_that_duplicates_a_carried_entry_stays_orphaned(
    tmp_path: Path, framework: Framework
) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {("QS-002", ""): {"Owner": "old"}})
    orphaned = export(tmp_path / "o.xlsx", without(framework, "QS-002"), carried=read_tracker(path))
    restored = export(tmp_path / "r.xlsx", framework, carried=read_tracker(orphaned))
    fill(restored, {("QS-002", ""): {"Owner": "new"}})
    # Put the old orphan back beside the new entry: both must survive the next export.
    previous = read_tracker(restored)
    both = FilledTracker(**{**previous.__dict__, "orphaned": read_tracker(orphaned).orphaned})
    carry = carry_entries(framework, both)
    assert [(e.owner, e.key) for e in carry.carried if e.standard_id == "QS-002"] == [("new", ("QS-002", ""))]
    assert [(e.owner, why) for e, why in carry.orphaned] == [
        ("old", "another entry for QS-002 was carried into the Tracker")
    ]


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r") | st.just("\n"),
    min_size=1,
    max_size=30,
)
_row_fill = st.fixed_dictionaries(
    {},
    optional={
        "Status": st.sampled_from(L.STATUSES),
        "Owner": _text,
        "Evidence": _text,
        "Actions": _text,
        "Notes": _text,
        "Due date": st.dates(date(2000, 1, 2), date(2100, 12, 30)).map(
            lambda d: datetime(d.year, d.month, d.day)
        ),
    },
)
_keys = [(s.id, svc) for svc in SERVICES for s in _FRAMEWORK.standards]


_BASE = render_tracker(_FRAMEWORK, services=SERVICES)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fills=st.dictionaries(st.sampled_from(_keys), _row_fill, max_size=8),
    seed=st.integers(0, 2**16),
    deleted=st.lists(st.integers(2, 13), max_size=3, unique=True),
)
def test_nothing_filled_is_lost_across_reordered_and_deleted_rows(
    tmp_path: Path, fills: dict[tuple[str, str], dict[str, Any]], seed: int, deleted: list[int]
) -> None:
    path = tmp_path / f"t{seed}.xlsx"
    path.write_bytes(_BASE)
    book = load_workbook(path)
    ws = book["Tracker"]
    headers = {c.value: c.column for c in ws[1]}
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    for values in rows:  # fill in, as a person would
        for header, value in fills.get((values[0], values[1]), {}).items():
            values[headers[header] - 1] = value
    random.Random(seed).shuffle(rows)  # someone sorted the sheet
    for r, values in enumerate(rows, 2):
        for c, value in enumerate(values, 1):
            ws.cell(r, c).value = value
    for r in sorted(deleted, reverse=True):  # and deleted a few rows outright
        ws.delete_rows(r)
    book.save(path)
    before = read_tracker(path)
    kept = {k for k, v in fills.items() if v} - {(rows[r - 2][0], rows[r - 2][1]) for r in deleted}
    assert set(fills_of(before)) == kept
    after = read_tracker(export(tmp_path / f"again{seed}.xlsx", carried=before))
    assert fills_of(after) == fills_of(before)
    assert set(after.entries) == set(_keys)  # deleted rows come back, blank


# --- overwrite guard ------------------------------------------------------------------------------


def test_check_overwrite(tmp_path: Path) -> None:
    check_overwrite(tmp_path / "missing.xlsx")
    blank = export(tmp_path / "blank.xlsx")
    check_overwrite(blank)
    fill(blank, {("QS-001", ""): {"Notes": "x"}})
    with pytest.raises(OutputError, match="holds 1 filled entry; refusing to overwrite it"):
        check_overwrite(blank)
    other = tmp_path / "other.xlsx"
    other.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(OutputError, match="exists and is not a clean qms tracker"):
        check_overwrite(other)


# --- status ---------------------------------------------------------------------------------------


def _status_fixture(tmp_path: Path) -> FilledTracker:
    path = export(tmp_path / "t.xlsx")
    fill(
        path,
        {
            ("QS-001", ""): {"Status": "Met", "Due date": datetime(2024, 1, 1)},  # met: not overdue
            ("QS-002", ""): {
                "Status": "Partially met",
                "Due date": datetime(2024, 5, 1),
                "Owner": "Ed",
            },  # overdue
            ("QS-003", ""): {"Status": "Not met", "Due date": datetime(2024, 6, 1)},  # due today: not overdue
            ("QS-004", ""): {"Status": "Not applicable", "Due date": datetime(2024, 1, 1)},
            ("QS-005", ""): {"Status": "In progress", "Due date": datetime(2024, 3, 1)},  # overdue
        },
    )
    return read_tracker(path)


def test_status_compliance_by_domain_weighted_and_unweighted(tmp_path: Path) -> None:
    status = tracker_status(_status_fixture(tmp_path), date(2024, 6, 1))
    by = {c.group: c for c in status.domains}
    assert list(by) == ["D1", "D2", "D6"]
    assert by["D1"].compliance == 0.75
    assert by["D1"].weighted == round((0.2105 + 0.5 * 0.0702) / (0.2105 + 0.0702), 4)
    assert (by["D2"].applicable, by["D2"].compliance, by["D2"].weighted) == (1, 0.0, 0.0)
    assert by["D6"].counts == {**{s: 0 for s in L.STATUSES}, "In progress": 1, "Blank": 1}
    overall = status.overall
    assert (overall.rows, overall.applicable) == (6, 5)
    assert overall.compliance == round(1.5 / 5, 4)
    assert overall.weighted == round((0.2105 + 0.5 * 0.0702) / (1 - 0.2105), 4)
    assert status.services == ()


def test_status_lists_overdue_open_high_risks_and_blank_rows(tmp_path: Path) -> None:
    status = tracker_status(_status_fixture(tmp_path), date(2024, 6, 1))
    assert [(r.standard_id, r.due) for r in status.overdue] == [
        ("QS-005", date(2024, 3, 1)),
        ("QS-002", date(2024, 5, 1)),
    ]
    assert [r.standard_id for r in status.at_risk] == ["QS-003"]  # QS-001 met, QS-004 not applicable
    assert [r.standard_id for r in status.blank] == ["QS-006"]


def test_status_when_every_row_is_not_applicable(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {(s.id, ""): {"Status": "Not applicable"} for s in _FRAMEWORK.standards})
    overall = tracker_status(read_tracker(path), date(2024, 6, 1)).overall
    assert (overall.compliance, overall.weighted) == (None, None)


def test_status_by_service(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx", services=SERVICES)
    fill(path, {(s.id, "Ward A"): {"Status": "Met"} for s in _FRAMEWORK.standards})
    status = tracker_status(read_tracker(path), date(2024, 6, 1))
    assert [(c.group, c.compliance, c.weighted) for c in status.services] == [
        ("Ward A", 1.0, 1.0),
        ("Clinic B", 0.0, 0.0),
    ]
    assert status.overall.compliance == 0.5


# --- CLI ------------------------------------------------------------------------------------------

FW = "tests/data/framework-small.yaml"


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def qms(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"}, catch_exceptions=not ok)
    if ok:
        assert result.exit_code == ExitCode.OK, result.output
    return result


def test_cli_export_tracker_writes_a_workbook(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = qms("export", "tracker", FW, "-o", str(out), "--services", "Ward A, Clinic B")
    assert result.stdout == f"wrote {out}: 12 rows (6 standards x 2 services)\n"
    assert out.read_bytes() == render_tracker(_FRAMEWORK, services=SERVICES)


def test_cli_refuses_to_overwrite_a_filled_tracker(tmp_path: Path) -> None:
    out = export(tmp_path / "t.xlsx")
    fill(out, {("QS-001", ""): {"Status": "Met"}})
    before = out.read_bytes()
    result = qms("export", "tracker", FW, "-o", str(out), ok=False)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr == (
        f"error: {out}: holds 1 filled entry; refusing to overwrite it\n"
        f"  hint: Carry the entries across with `--from {out}`, write to another file, or pass --force to "
        "overwrite them.\n"
    )
    assert out.read_bytes() == before


def test_cli_refuses_when_from_names_another_file(tmp_path: Path) -> None:
    out = export(tmp_path / "t.xlsx")
    fill(out, {("QS-001", ""): {"Status": "Met"}})
    other = export(tmp_path / "other.xlsx")
    assert qms("export", "tracker", FW, "-o", str(out), "--from", str(other), ok=False).exit_code == 2


def test_cli_force_overwrites(tmp_path: Path) -> None:
    out = export(tmp_path / "t.xlsx")
    fill(out, {("QS-001", ""): {"Status": "Met"}})
    qms("export", "tracker", FW, "-o", str(out), "--force")
    assert read_tracker(out).filled_entries() == []


def test_cli_blank_tracker_is_overwritten_without_force(tmp_path: Path) -> None:
    out = export(tmp_path / "t.xlsx", services=SERVICES)
    qms("export", "tracker", FW, "-o", str(out))
    assert read_tracker(out).services == ()


def test_cli_from_carries_and_reports(tmp_path: Path) -> None:
    old = export(tmp_path / "old.xlsx")
    fill(old, {("QS-002", ""): {"Status": "Met"}, ("QS-005", ""): {"Owner": "Fa"}})
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(
        SMALL.read_text(encoding="utf-8").replace("  - id: QS-002\n", "  - id: QS-009\n"), encoding="utf-8"
    )
    result = qms("export", "tracker", str(smaller), "-o", str(old), "--from", str(old))
    # QS-002 was renumbered QS-009 with the same sources: its entry follows its requirements there.
    assert "│ carried           │    2 │ QS-009, QS-005" in result.stdout
    assert "│ not filled in yet │    4 │ QS-001, QS-003, QS-004, QS-006" in result.stdout
    assert "│ orphaned          │    0 │" in result.stdout
    assert "│ moved             │    1 │ QS-002 -> QS-009" in result.stdout
    assert "1 entry moved to the standard that now holds the requirements its row listed" in result.stdout
    assert read_tracker(old).entries[("QS-009", "")].status == "Met"


def test_cli_tracker_status_table(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {("QS-003", ""): {"Status": "Not met", "Due date": datetime(2024, 1, 1), "Owner": "Gil"}})
    out = qms("tracker", "status", str(path), "--today", "2024-06-01").stdout
    assert out.startswith("Small test framework 0.1.0: status on 2024-06-01\n")
    assert "Compliance by domain" in out and "Compliance by service" not in out
    assert "Overdue (1): due before 2024-06-01, not Met or Not applicable" in out
    assert "High and extreme risk not yet Met (3)" in out
    assert "Blank rows (no status yet): 5: QS-001, QS-002, QS-004, QS-005, QS-006" in out


def test_cli_tracker_status_json(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx", services=SERVICES)
    fill(path, {("QS-001", "Ward A"): {"Status": "Met"}})
    result = qms("tracker", "status", str(path), "--json", "--today", "2024-06-01")
    data = json.loads(result.stdout)
    assert data["today"] == "2024-06-01"
    assert [s["group"] for s in data["services"]] == ["Ward A", "Clinic B"]
    assert data["overall"]["counts"]["Met"] == 1
    assert result.stderr == ""


def test_cli_tracker_status_bad_workbook_exits_2_naming_the_cell(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(path, {("QS-001", ""): {"Status": "Done"}})
    result = qms("tracker", "status", str(path), ok=False)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr == (
        f"error: {path}: Tracker!I2: status 'Done' is not allowed\n"
        f"  hint: Pick one from the list: {', '.join(L.STATUSES)}.\n"
    )


def test_cli_tracker_status_not_a_tracker_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    Workbook().save(path)
    result = qms("tracker", "status", str(path), ok=False)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert f"error: {path}: qms!B1: not a qms tracker" in result.stderr


def test_cli_tracker_status_bad_today_is_a_usage_error(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    assert qms("tracker", "status", str(path), "--today", "June", ok=False).exit_code == 2


def test_cli_help_lists_the_new_commands() -> None:
    assert "tracker" in qms("export", "--help").stdout
    assert "status" in qms("tracker", "--help").stdout


def test_a_time_in_the_due_date_column_is_called_a_time(tmp_path: Path) -> None:
    path = tmp_path / "tracker.xlsx"
    path.write_bytes(render_tracker(load_framework(SMALL)))
    book = load_workbook(path)
    book["Tracker"]["K3"].value = time(10, 0)
    book.save(path)
    with pytest.raises(TrackerError) as caught:
        read_tracker(path)
    assert str(caught.value) == f"{path}: Tracker!K3: due date is a time of day (10:00:00), not a date"


def test_a_tracker_without_services_gains_services_without_losing_an_entry(tmp_path: Path) -> None:
    path = export(tmp_path / "t.xlsx")
    fill(
        path,
        {
            ("QS-001", ""): {"Status": "Met", "Evidence": "https://share/policy.pdf"},
            ("QS-004", ""): {"Owner": "Bo", "Notes": "board paper May"},
        },
    )
    services = ["Ward 5, Paediatrics", "Clinic B"]
    carry = carry_entries(_FRAMEWORK, read_tracker(path), services)
    assert carry.orphaned == ()
    assert sorted(e.key for e in carry.carried) == [
        ("QS-001", "Clinic B"),
        ("QS-001", "Ward 5, Paediatrics"),
        ("QS-004", "Clinic B"),
        ("QS-004", "Ward 5, Paediatrics"),
    ]
    grown = read_tracker(export(tmp_path / "grown.xlsx", services=services, carried=read_tracker(path)))
    assert grown.services == ("Ward 5, Paediatrics", "Clinic B")
    assert grown.orphaned == ()
    for service in services:
        assert grown.entries[("QS-001", service)].evidence == "https://share/policy.pdf"
        assert grown.entries[("QS-004", service)].notes == "board paper May"
