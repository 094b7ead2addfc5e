"""`qms tracker collect` and `qms tracker status` over returns: nothing typed lost, bad returns named."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import DATA
from qms_standards.cli import app
from qms_standards.errors import QmsError
from qms_standards.export import layout as L
from qms_standards.export.excel import render_tracker
from qms_standards.export.per_service import service_trackers
from qms_standards.load import load_framework
from qms_standards.returns import ReturnedEntry, collect_returns, dump_returns, read_returns, returns_sets
from qms_standards.rollup import returns_status
from qms_standards.services import load_services

SMALL = DATA / "framework-small.yaml"
FRAMEWORK = load_framework(SMALL)
runner = CliRunner()

SERVICES_YAML = """\
organisation: Test Trust
services:
  - name: Ward 5, Paediatrics
    directorate: Medicine
    groups: {site: Main}
  - name: Cardiology
    directorate: Medicine
    groups: {site: Main}
  - name: Theatres
    directorate: Surgery
    groups: {site: Community}
"""


@pytest.fixture
def trust(tmp_path: Path) -> dict[str, Path]:
    """A services file and a folder of the three services' exported trackers."""
    services = tmp_path / "services.yaml"
    services.write_text(SERVICES_YAML, encoding="utf-8")
    folder = tmp_path / "returned"
    folder.mkdir()
    for workbook in service_trackers(FRAMEWORK, load_services(services), folder):
        workbook.path.write_bytes(workbook.data)
    return {"services": services, "folder": folder, "root": tmp_path}


def fill(path: Path, values: dict[str, dict[str, Any]]) -> None:
    """Type into a service's Tracker: {standard id: {header: value}}."""
    book = load_workbook(path)
    ws = book["Tracker"]
    headers = {c.value: c.column for c in ws[1]}
    for row in range(2, ws.max_row + 1):
        for header, value in values.get(ws.cell(row, 1).value, {}).items():
            ws.cell(row, headers[header]).value = value
    book.save(path)


def collect(trust: dict[str, Path], *extra: str, day: str = "2025-06-30") -> Any:
    return runner.invoke(
        app,
        [
            "tracker",
            "collect",
            str(trust["folder"]),
            "--framework",
            str(SMALL),
            "--services-file",
            str(trust["services"]),
            "--out",
            str(trust["root"] / "returns"),
            "--date",
            day,
            *extra,
        ],
    )


def test_per_service_export_names_each_file_after_its_service(trust: dict[str, Path]) -> None:
    names = sorted(p.name for p in trust["folder"].iterdir())
    assert names == ["cardiology.xlsx", "theatres.xlsx", "ward-5-paediatrics.xlsx"]
    book = load_workbook(trust["folder"] / "ward-5-paediatrics.xlsx")
    assert {book["Tracker"].cell(r, 2).value for r in range(2, 8)} == {"Ward 5, Paediatrics"}


def test_per_service_export_again_carries_each_service(trust: dict[str, Path]) -> None:
    fill(trust["folder"] / "cardiology.xlsx", {"QS-001": {"Status": "Met", "Notes": "kept"}})
    again = service_trackers(FRAMEWORK, load_services(trust["services"]), trust["folder"])
    cardiology = next(w for w in again if w.service == "Cardiology")
    assert cardiology.carried is not None and len(cardiology.carried.filled_entries()) == 1
    cardiology.path.write_bytes(cardiology.data)
    rows = load_workbook(cardiology.path)["Tracker"]
    assert [
        (rows.cell(r, 10).value, rows.cell(r, 15).value)
        for r in range(2, 8)
        if rows.cell(r, 1).value == "QS-001"
    ] == [("Met", "kept")]


def test_cli_per_service_writes_one_workbook_per_service(tmp_path: Path) -> None:
    services = tmp_path / "services.yaml"
    services.write_text(SERVICES_YAML, encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "export",
            "tracker",
            str(SMALL),
            "--per-service",
            str(tmp_path / "out"),
            "--services-file",
            str(services),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").glob("*.xlsx"))) == 3
    assert "qms tracker collect" in result.output


def test_cli_per_service_refuses_minus_o(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["export", "tracker", str(SMALL), "--per-service", str(tmp_path), "-o", str(tmp_path / "t.xlsx")]
    )
    assert result.exit_code == 2
    assert "-o cannot be combined with --per-service" in result.output


def test_cli_services_file_keeps_a_comma_inside_a_name(tmp_path: Path) -> None:
    services = tmp_path / "services.yaml"
    services.write_text(SERVICES_YAML, encoding="utf-8")
    out = tmp_path / "t.xlsx"
    result = runner.invoke(
        app, ["export", "tracker", str(SMALL), "-o", str(out), "--services-file", str(services)]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert {book["Tracker"].cell(r, 2).value for r in range(2, 20)} == {
        "Ward 5, Paediatrics",
        "Cardiology",
        "Theatres",
    }


def test_collect_keeps_everything_typed(trust: dict[str, Path]) -> None:
    fill(
        trust["folder"] / "ward-5-paediatrics.xlsx",
        {
            "QS-001": {
                "Status": "Partially met",
                "Owner": "Matron",
                "Due date": date(2025, 3, 31),
                "Evidence": "https://intranet/evidence/audit.pdf",
                "Actions": "Re-audit in March",
                "Notes": "Ward 5 note, with a comma",
            }
        },
    )
    result = collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30)
    )
    assert result.problems == ()
    returns = result.returns
    assert [r.service for r in returns.returns] == ["Ward 5, Paediatrics", "Cardiology", "Theatres"]
    assert [r.directorate for r in returns.returns] == ["Medicine", "Medicine", "Surgery"]
    ward = returns.returns[0]
    assert ward.file == "ward-5-paediatrics.xlsx" and len(ward.sha256) == 64
    first = next(e for e in ward.entries if e.standard == "QS-001")
    assert first.model_dump() == {
        "standard": "QS-001",
        "status": "Partially met",
        "owner": "Matron",
        "due": date(2025, 3, 31),
        "evidence": "https://intranet/evidence/audit.pdf",
        "actions": "Re-audit in March",
        "notes": "Ward 5 note, with a comma",
        "orphaned": None,
    }
    assert len(ward.entries) == len(FRAMEWORK.standards)
    text = dump_returns(returns)
    again = collect_returns(FRAMEWORK, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30))
    assert dump_returns(again.returns) == text  # deterministic
    path = trust["root"] / "set.json"
    path.write_text(text, encoding="utf-8")
    assert read_returns(path) == returns


def test_a_bad_return_is_rejected_by_name_and_cell_and_the_others_are_kept(trust: dict[str, Path]) -> None:
    bad = trust["folder"] / "cardiology.xlsx"
    fill(bad, {"QS-002": {"Status": "Done"}})
    fill(trust["folder"] / "theatres.xlsx", {"QS-002": {"Status": "Met"}})
    result = collect(trust)
    assert result.exit_code == 2
    assert f"error: {bad}: Tracker!J3: status 'Done' is not allowed" in result.output
    assert "rejected (1): cardiology.xlsx" in result.output
    written = read_returns(trust["root"] / "returns" / "2025-06-30.json")
    assert [r.service for r in written.returns] == ["Ward 5, Paediatrics", "Theatres"]
    assert written.missing() == ("Cardiology",)
    assert written.rejected[0].file == "cardiology.xlsx"
    assert written.rejected[0].problems == (f"{bad}: Tracker!J3: status 'Done' is not allowed",)


def test_a_service_returned_twice_is_rejected_in_both_files(trust: dict[str, Path]) -> None:
    shutil.copy(trust["folder"] / "theatres.xlsx", trust["folder"] / "theatres (1).xlsx")
    result = collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30)
    )
    assert [p.render() for p in result.problems] == [
        f"{trust['folder'] / name}: Tracker!B2: service 'Theatres' is returned in more than one file "
        "(theatres (1).xlsx, theatres.xlsx)"
        for name in ("theatres (1).xlsx", "theatres.xlsx")
    ]
    assert [r.service for r in result.returns.returns] == ["Ward 5, Paediatrics", "Cardiology"]


def test_a_return_from_another_framework_version_is_rejected(trust: dict[str, Path]) -> None:
    info = FRAMEWORK.framework.model_copy(update={"version": "0.2.0"})
    newer = FRAMEWORK.model_copy(update={"framework": info})
    result = collect_returns(newer, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30))
    assert len(result.problems) == 3
    first = result.problems[0]
    assert first.field == "qms!B3"
    assert first.message == (
        "exported from Small test framework version 0.1.0; this collection is for "
        "Small test framework version 0.2.0"
    )
    assert "--per-service" in (first.hint or "")


def test_a_service_not_in_the_services_file_and_a_tracker_without_services(trust: dict[str, Path]) -> None:
    (trust["folder"] / "whole-trust.xlsx").write_bytes(render_tracker(FRAMEWORK))
    (trust["folder"] / "pharmacy.xlsx").write_bytes(render_tracker(FRAMEWORK, services=["Pharmacy"]))
    result = collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30)
    )
    assert [(p.file.name if p.file else "", p.field, p.message) for p in result.problems] == [
        ("pharmacy.xlsx", "Tracker!B2", "service 'Pharmacy' is not in the services file"),
        ("whole-trust.xlsx", "Tracker!B1", "has no Service column: it is not a service's tracker"),
    ]
    assert len(result.returns.returns) == 3


def test_lock_files_and_other_files_are_skipped(trust: dict[str, Path]) -> None:
    (trust["folder"] / "~$cardiology.xlsx").write_bytes(b"lock")
    (trust["folder"] / "notes.txt").write_text("hello", encoding="utf-8")
    result = collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30)
    )
    assert result.problems == ()
    assert sorted(p.name for p in result.skipped) == ["notes.txt", "~$cardiology.xlsx"]


def test_orphaned_entries_of_a_return_are_kept(trust: dict[str, Path]) -> None:
    from qms_standards.tracker import read_tracker

    path = trust["folder"] / "theatres.xlsx"
    fill(path, {"QS-002": {"Owner": "Bo", "Evidence": "link"}})
    smaller = FRAMEWORK.model_copy(
        update={"standards": tuple(s for s in FRAMEWORK.standards if s.id != "QS-002")}
    )
    path.write_bytes(render_tracker(smaller, carried=read_tracker(path)))
    result = collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30)
    )
    theatres = next(r for r in result.returns.returns if r.service == "Theatres")
    assert [(e.standard, e.owner, e.evidence) for e in theatres.orphaned] == [("QS-002", "Bo", "link")]


def test_earlier_sets_are_kept_and_status_reads_the_latest(trust: dict[str, Path]) -> None:
    assert collect(trust, day="2025-03-31").exit_code == 0
    fill(trust["folder"] / "theatres.xlsx", {"QS-001": {"Status": "Met"}})
    result = collect(trust, day="2025-06-30")
    assert result.exit_code == 0, result.output
    folder = trust["root"] / "returns"
    assert [p.name for p in returns_sets(folder)] == ["2025-03-31.json", "2025-06-30.json"]
    status = runner.invoke(app, ["tracker", "status", str(folder), "--json", "--today", "2025-07-01"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.output)
    assert data["collected"] == "2025-06-30"
    assert data["overall"]["counts"]["Met"] == 1


def test_no_workbook_at_all_is_exit_2(tmp_path: Path, trust: dict[str, Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    trust["folder"] = empty
    result = collect(trust)
    assert result.exit_code == 2
    assert "no tracker workbooks (.xlsx) found" in result.output


# --- status over returns -------------------------------------------------------------------------


def _set(trust: dict[str, Path]) -> Any:
    fill(
        trust["folder"] / "ward-5-paediatrics.xlsx",
        {
            "QS-003": {"Status": "Not met", "Due date": date(2025, 5, 1)},  # extreme
            "QS-001": {"Status": "In progress", "Due date": date(2025, 2, 1)},  # high
            "QS-002": {"Status": "Met"},
        },
    )
    fill(
        trust["folder"] / "theatres.xlsx",
        {
            "QS-003": {"Status": "Partially met"},
            "QS-004": {"Status": "Not applicable", "Due date": date(2025, 1, 1)},
        },
    )
    return collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"]], date(2025, 6, 30)
    ).returns


def test_status_rolls_up_directorates_services_and_domains(trust: dict[str, Path]) -> None:
    status = returns_status(_set(trust), date(2025, 6, 1))
    assert [d.group for d in status.directorates] == ["Medicine", "Surgery"]
    assert [(s.group, s.rows) for s in status.services] == [
        ("Ward 5, Paediatrics", 6),
        ("Cardiology", 6),
        ("Theatres", 6),
    ]
    assert status.overall.rows == 18 and status.overall.counts["Met"] == 1
    assert status.directorates[0].rows == 12
    assert status.service_directorates["Theatres"] == "Surgery"
    assert status.matrix_domains == tuple(d.group for d in status.domains)
    # open high risks: extreme first, Not met before others; Not applicable is closed
    assert [(r.standard_id, r.service, r.status) for r in status.at_risk[:3]] == [
        ("QS-003", "Ward 5, Paediatrics", "Not met"),
        ("QS-003", "Cardiology", None),
        ("QS-003", "Theatres", "Partially met"),
    ]
    assert [(r.standard_id, r.due) for r in status.overdue] == [
        ("QS-001", date(2025, 2, 1)),
        ("QS-003", date(2025, 5, 1)),
    ]
    assert status.blank == 13  # 18 rows, 5 with a status


def test_status_filters(trust: dict[str, Path]) -> None:
    returns = _set(trust)
    surgery = returns_status(returns, date(2025, 6, 1), directorates=["surgery"])
    assert [s.group for s in surgery.services] == ["Theatres"] and surgery.overall.rows == 6
    d2 = returns_status(returns, date(2025, 6, 1), domains=["D2"], services=["Ward 5, Paediatrics"])
    assert {s.group for s in d2.domains} == {"D2"} and [s.group for s in d2.services] == [
        "Ward 5, Paediatrics"
    ]
    with pytest.raises(QmsError) as caught:
        returns_status(returns, date(2025, 6, 1), services=["Cardiolgy"], domains=["D9"])
    assert [(p.field, p.hint) for p in caught.value.problems] == [
        ("--domain", "Use one of: D1, D2, D6, D7."),
        ("--service", "Did you mean 'Cardiology'?"),
    ]


def test_cli_status_over_returns_table_and_filter_errors(trust: dict[str, Path]) -> None:
    _set(trust)
    assert collect(trust).exit_code == 0
    folder = str(trust["root"] / "returns")
    table = runner.invoke(app, ["tracker", "status", folder, "--today", "2025-06-01"], catch_exceptions=False)
    assert table.exit_code == 0, table.output
    assert "Compliance by service and domain" in table.output
    assert "Compliance by directorate" in table.output
    bad = runner.invoke(app, ["tracker", "status", folder, "--service", "Nowhere"])
    assert bad.exit_code == 2
    assert "--service: 'Nowhere' is not one of the 3 in this set of returns" in bad.output
    workbook = runner.invoke(
        app, ["tracker", "status", str(trust["folder"] / "theatres.xlsx"), "--domain", "D1"]
    )
    assert workbook.exit_code == 2
    assert "narrow a set of returns, not one workbook" in workbook.output


def test_status_by_any_other_grouping(trust: dict[str, Path]) -> None:
    returns = _set(trust)
    assert returns.services[2].groups == {"site": "Community"}
    community = returns_status(returns, date(2025, 6, 1), groups=["site=community"])
    assert community.filters.groups == ("site=Community",)
    assert [s.group for s in community.services] == ["Theatres"]
    both = returns_status(returns, date(2025, 6, 1), groups=["site=Main", "site=Community"])
    assert len(both.services) == 3
    with pytest.raises(QmsError) as caught:
        returns_status(returns, date(2025, 6, 1), groups=["site", "floor=1", "site=Mian"])
    assert [(p.field, p.message, p.hint) for p in caught.value.problems] == [
        ("--group", "'Mian' is not one of the 2 in this set of returns", "Did you mean 'Main'?"),
        ("--group", "'floor' is not one of the 1 in this set of returns", "Use one of: site."),
        (
            "--group",
            "'site' is not name=value",
            "Write a grouping and its value as the services file does: --group site=Community.",
        ),
    ]
    bare = returns.model_copy(
        update={"services": tuple(x.model_copy(update={"groups": {}}) for x in returns.services)}
    )
    with pytest.raises(QmsError) as caught:
        returns_status(bare, date(2025, 6, 1), groups=["site=Main"])
    assert caught.value.problems[0].message == "no service in this set of returns has a grouping"
    result = runner.invoke(
        app, ["tracker", "status", str(trust["root"] / "returns"), "--group", "site=Community"]
    )
    assert result.exit_code == 2  # no set collected yet in this test: named as such
    assert "no such file or folder" in result.output


_TEXT = st.none() | st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([None, *L.STATUSES]),
            _TEXT,
            st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
            _TEXT,
            _TEXT,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_set_of_returns_reads_back_exactly_what_was_written(tmp_path_factory, rows) -> None:
    from test_readiness import returns_of

    base = returns_of(FRAMEWORK, {"Ward 5, Paediatrics": {}})
    entries = tuple(
        ReturnedEntry(standard=f"QS-00{i + 1}", status=s, owner=o, due=d, evidence=e, notes=n)
        for i, (s, o, d, e, n) in enumerate(rows)
    )
    one = base.returns[0].model_copy(update={"entries": entries})
    returns = base.model_copy(update={"returns": (one,)})
    path = tmp_path_factory.mktemp("r") / "2025-06-30.json"
    path.write_text(dump_returns(returns), encoding="utf-8")
    assert read_returns(path) == returns
    assert dump_returns(read_returns(path)) == path.read_text(encoding="utf-8")


def test_a_file_that_is_not_a_set_of_returns(tmp_path: Path) -> None:
    path = tmp_path / "2025-06-30.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(QmsError) as caught:
        read_returns(path)
    assert caught.value.line == 1 and "collect again" in (caught.value.hint or "")
    path.write_text('{"framework": "x"}', encoding="utf-8")
    with pytest.raises(QmsError) as caught:
        read_returns(path)
    assert caught.value.problems[0].message.startswith("not a set of returns")


def test_from_given_twice_points_at_collect(tmp_path: Path) -> None:
    first = tmp_path / "a.xlsx"
    first.write_bytes(render_tracker(FRAMEWORK))
    result = runner.invoke(
        app,
        [
            "export",
            "tracker",
            str(SMALL),
            "-o",
            str(tmp_path / "out.xlsx"),
            "--from",
            str(first),
            "--from",
            str(first),
        ],
    )
    assert result.exit_code == 2
    assert "--from: --from is given 2 times" in result.output
    assert "qms tracker collect" in result.output
    assert not (tmp_path / "out.xlsx").exists()


def test_a_workbook_of_several_services_is_accepted_or_rejected_whole(trust: dict[str, Path]) -> None:
    other = trust["root"] / "other"
    other.mkdir()
    both = other / "cardiology.xlsx"  # same file name as a return in the first folder
    both.write_bytes(render_tracker(FRAMEWORK, services=["Theatres", "Ward 5, Paediatrics"]))
    (trust["folder"] / "theatres.xlsx").unlink()
    (trust["folder"] / "ward-5-paediatrics.xlsx").unlink()
    result = collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"], other], date(2025, 6, 30)
    )
    assert result.problems == ()
    assert [(r.service, r.file) for r in result.returns.returns] == [
        ("Ward 5, Paediatrics", "cardiology.xlsx"),
        ("Cardiology", "cardiology.xlsx"),
        ("Theatres", "cardiology.xlsx"),
    ]
    fill(both, {"QS-001": {"Status": "Done"}})
    result = collect_returns(
        FRAMEWORK, load_services(trust["services"]), [trust["folder"], other], date(2025, 6, 30)
    )
    assert {p.file for p in result.problems} == {both}  # QS-001 of both its services
    assert [r.service for r in result.returns.returns] == ["Cardiology"]  # the other folder's file is kept


def test_per_service_export_stops_before_writing_when_an_earlier_file_is_not_a_tracker(
    tmp_path: Path,
) -> None:
    services = tmp_path / "services.yaml"
    services.write_text(SERVICES_YAML, encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "cardiology.xlsx").write_text("not a workbook", encoding="utf-8")
    result = runner.invoke(
        app, ["export", "tracker", str(SMALL), "--per-service", str(folder), "--services-file", str(services)]
    )
    assert result.exit_code == 2
    assert f"error: {folder / 'cardiology.xlsx'}: not an xlsx workbook" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["cardiology.xlsx"]  # nothing else written
