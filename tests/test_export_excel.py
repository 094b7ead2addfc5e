"""`render_tracker`: golden workbook (bytes and cells), byte identity, and the workbook's features."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from conftest import DATA, check_golden
from qms_standards.export import layout as L
from qms_standards.export import render_markdown, render_tracker
from qms_standards.export.excel import tracker_rows
from qms_standards.export.style import sheet_title
from qms_standards.load import load_framework
from qms_standards.models import Framework
from qms_standards.tracker import read_tracker, tracker_status

SMALL = DATA / "framework-small.yaml"
SERVICES = ["Ward A", "Clinic B"]


@pytest.fixture
def framework() -> Framework:
    return load_framework(SMALL)


def _book(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def dump_cells(data: bytes) -> str:
    """Every sheet's state and every non-empty cell, one per line: readable when a golden test fails."""
    book = _book(data)
    lines = []
    for ws in book.worksheets:
        lines.append(
            f"== {ws.title} [{ws.sheet_state}] freeze={ws.freeze_panes} filter={ws.auto_filter.ref} "
            f"protected={ws.protection.sheet}"
        )
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    lines.append(f"{ws.title}!{cell.coordinate} = {cell.value!r}")
    return "\n".join(lines) + "\n"


# --- golden files ---------------------------------------------------------------------------------


def test_tracker_cells_match_the_golden_file(framework: Framework, regen_golden: bool) -> None:
    check_golden("tracker-small.cells.txt", dump_cells(render_tracker(framework)), regen_golden)


def test_tracker_with_services_cells_match_the_golden_file(framework: Framework, regen_golden: bool) -> None:
    data = render_tracker(framework, services=SERVICES)
    check_golden("tracker-small-services.cells.txt", dump_cells(data), regen_golden)


def test_tracker_bytes_match_the_golden_file(framework: Framework, regen_golden: bool) -> None:
    # The cells test above fails first and readably; this one pins every byte (styles, validation, zip).
    check_golden("tracker-small.xlsx", render_tracker(framework), regen_golden)


# --- determinism ----------------------------------------------------------------------------------


def test_two_exports_are_byte_identical(framework: Framework) -> None:
    assert render_tracker(framework) == render_tracker(load_framework(SMALL))
    assert render_tracker(framework, services=SERVICES) == render_tracker(framework, services=SERVICES)


def test_exports_in_separate_processes_are_byte_identical(framework: Framework, tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from qms_standards.load import load_framework; "
        "from qms_standards.export.excel import render_tracker; "
        "sys.stdout.buffer.write(render_tracker(load_framework(Path(sys.argv[1]))))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", script, str(SMALL)], capture_output=True, env=env, check=True
    )
    assert other.stdout == render_tracker(framework)


def test_zip_members_carry_no_save_time(framework: Framework) -> None:
    archive = zipfile.ZipFile(io.BytesIO(render_tracker(framework)))
    assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2
    assert str(datetime.now().year) not in core


# --- sheets ---------------------------------------------------------------------------------------


def test_sheets_in_order_with_the_hidden_marker(framework: Framework) -> None:
    book = _book(render_tracker(framework))
    assert book.sheetnames == [
        "Tracker",
        "Summary",
        "Risk",
        "D1 Leadership, governance",
        "D2 Safety and risk management",
        "D6 Learning, improvement",
        "D7 Resources, information",
        "Crosswalk",
        "About",
        "qms",
    ]
    assert book["qms"].sheet_state == "hidden"
    assert book["qms"]["B1"].value == L.FORMAT_MARKER
    assert [c.value for c in book["qms"]["G"]][1:] == [s.id for s in framework.standards]
    assert book.active.title == "Tracker"


def test_tracker_has_one_row_per_standard_with_context_and_blank_fill_in_columns(
    framework: Framework,
) -> None:
    ws = _book(render_tracker(framework))["Tracker"]
    assert [c.value for c in ws[1]] == [c.header for c in L.tracker_columns(False)]
    assert ws.max_row == 1 + len(framework.standards)
    assert [ws.cell(r, 1).value for r in range(2, 8)] == [
        "QS-001",
        "QS-002",
        "QS-003",
        "QS-004",
        "QS-005",
        "QS-006",
    ]
    row = [c.value for c in ws[4]]
    assert row[:8] == [
        "QS-003",
        "D2",
        "Learning from incidents",
        framework.standards[2].statement,
        20,
        "extreme",
        0.3509,
        "cqc-saf-2024:safe/learning-culture\niso-9001-2015:10.2",
    ]
    assert row[8:] == [None] * 6


def test_tracker_rows_per_service_are_grouped_by_service(framework: Framework) -> None:
    ws = _book(render_tracker(framework, services=SERVICES))["Tracker"]
    assert ws["B1"].value == "Service"
    keys = [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(2, ws.max_row + 1)]
    assert keys == [(s.id, svc) for s, svc in tracker_rows(framework, SERVICES)]
    assert keys[0] == ("QS-001", "Ward A") and keys[6] == ("QS-001", "Clinic B")


def test_tracker_is_formula_free_protected_with_only_fill_in_cells_unlocked(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Tracker"]
    assert ws.protection.sheet and ws.protection.password is None
    assert ws.protection.autoFilter is False and ws.protection.sort is False
    fill_in = {c.header for c in L.FILL_COLUMNS}
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            header = ws.cell(1, cell.column).value
            assert cell.protection.locked is (header not in fill_in), cell.coordinate
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == "A1:N7"


def test_status_is_a_dropdown_and_due_date_is_date_validated(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Tracker"]
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert rules["I2:I7"].type == "list"
    assert rules["I2:I7"].formula1 == '"Not started,In progress,Partially met,Met,Not met,Not applicable"'
    assert rules["K2:K7"].type == "date" and rules["K2:K7"].showErrorMessage
    assert ws["K2"].number_format == "dd/mm/yyyy"  # UK dates, as NHS teams type them


def test_conditional_formats_colour_status_and_risk_rating(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Tracker"]
    by_range = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}
    assert by_range["I2:I7"] == [f'"{s}"' for s in L.STATUSES]
    assert by_range["F2:F7"] == ['"low"', '"moderate"', '"high"', '"extreme"']
    assert "TODAY()" in by_range["K2:K7"][0]


def test_summary_formulas_compute_compliance_from_the_tracker(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Summary"]
    assert ws["A6"].value == "D1" and ws["C6"].value == "=COUNTIF(Tracker!$B$2:$B$7,$A6)"
    assert ws["G6"].value == '=COUNTIFS(Tracker!$B$2:$B$7,$A6,Tracker!$I$2:$I$7,"Met")'
    assert ws["K6"].value == '=IFERROR((G6+0.5*F6)/(C6-I6),"")'
    assert ws["L6"].value.startswith('=IFERROR(SUMPRODUCT((Tracker!$B$2:$B$7=$A6)*((Tracker!$I$2:$I$7="Met")')
    assert "*Tracker!$G$2:$G$7" in ws["L6"].value
    assert ws["A10"].value == "All" and ws["C10"].value == "=COUNTA(Tracker!$A$2:$A$7)"


def test_summary_has_a_service_table_when_per_service(framework: Framework) -> None:
    ws = _book(render_tracker(framework, services=SERVICES))["Summary"]
    column_a = [c.value for c in ws["A"]]
    assert "By service" in column_a
    start = column_a.index("By service") + 1
    assert column_a[start + 1 : start + 4] == ["Ward A", "Clinic B", "All"]
    assert ws.cell(start + 2, 3).value == f"=COUNTIF(Tracker!$B$2:$B$13,$A{start + 2})"


def test_risk_sheet_heat_map_counts_standards_by_severity_and_likelihood(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Risk"]
    grid = {
        (ws.cell(r, 1).value, ws.cell(3, c).value): ws.cell(r, c).value
        for r in range(4, 9)
        for c in range(2, 7)
    }
    assert sum(grid.values()) == len(framework.standards)
    assert grid[("5 Catastrophic", "4 Likely")] == 1  # QS-003
    assert grid[("2 Minor", "3 Possible")] == 1  # QS-006
    assert ws["B4"].fill.fgColor.rgb.endswith(L.RISK_COLOURS["moderate"])  # 5 x 1 = 5
    assert ws["F4"].fill.fgColor.rgb.endswith(L.RISK_COLOURS["extreme"])  # 5 x 5 = 25
    assert ws["B8"].fill.fgColor.rgb.endswith(L.RISK_COLOURS["low"])
    assert ws["D6"].fill.fgColor.rgb.endswith(L.RISK_COLOURS["high"])  # 3 x 3 = 9
    assert [ws.cell(r, 3).value for r in range(11, 15)] == [1, 2, 2, 1]  # low, moderate, high, extreme


def test_crosswalk_lists_every_source_requirement_and_the_exclusion(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Crosswalk"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert len(rows) == 12 + 3 + 1  # home links, related links, the exclusion
    excluded = [r for r in rows if r[7] == "excluded"]
    assert excluded == [
        [
            "iso-9001-2015",
            "4.4.2",
            None,
            None,
            None,
            None,
            None,
            "excluded",
            None,
            None,
            "Documented information is covered by 7.5; out of scope for the tracker",
        ]
    ]
    assert [
        "iso-9001-2015",
        "10.2",
        "Nonconformity and corrective action",
        "QS-003",
        "Learning from incidents",
        "D2",
        "home",
        "subset",
        8,
        0.81,
        None,
    ] in rows


def test_crosswalk_is_many_to_many_with_one_home_per_requirement(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Crosswalk"]
    assert ws["G1"].value == "Link"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    homes = Counter(f"{r[0]}:{r[1]}" for r in rows if r[6] == "home")
    assert set(homes.values()) == {1}
    assert set(homes) == {link.ref for s in framework.standards for link in s.sources}
    related = [(f"{r[0]}:{r[1]}", r[3], r[7], r[8]) for r in rows if r[6] == "related"]
    assert related == [
        ("cqc-saf-2024:well-led/freedom-to-speak-up", "QS-001", "intersect", 4),
        ("cqc-saf-2024:well-led/learning-improvement-innovation", "QS-003", "intersect", 6),
        ("iso-9001-2015:10.2", "QS-006", "subset", 5),
    ]
    # A related row sits right under its requirement's home row.
    at = next(i for i, r in enumerate(rows) if r[1] == "10.2" and r[6] == "related")
    assert rows[at - 1][:7] == ["iso-9001-2015", "10.2", rows[at][2], "QS-003", rows[at - 1][4], "D2", "home"]


def test_about_sheet_holds_provenance(framework: Framework) -> None:
    ws = _book(render_tracker(framework, services=SERVICES))["About"]
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    for expected in (
        "Small test framework",
        "0.1.0",
        "qms-standards 0.1.0",
        L.FORMAT_MARKER,
        "Ward A, Clinic B",
        "Open Government Licence v3.0",
        "ISO 9001:2015 Quality management systems - Requirements",
        "fake-bag-of-words",
        "weights.embedding",
        L.COMPLIANCE_RULE,
    ):
        assert expected in values


def test_domain_sheet_lists_its_standards(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["D6 Learning, improvement"]
    assert ws["A1"].value == "D6 Learning, improvement and assurance"
    assert [ws.cell(r, 1).value for r in (5, 6)] == ["QS-005", "QS-006"]
    assert ws["J6"].value.startswith(
        "cqc-saf-2024:well-led/learning-improvement-innovation (intersect): Learning"
    )


def test_sheet_titles_are_valid_and_unique() -> None:
    taken = {"Tracker"}
    assert sheet_title("D1 Care: safe/effective [core]?", taken) == "D1 Care- safe-effective -core--"
    assert sheet_title("tracker", taken) == "tracker (2)"
    assert len(sheet_title("x" * 40, taken)) == 31


def test_text_that_looks_like_a_formula_stays_text(framework: Framework, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(render_tracker(framework))
    book = load_workbook(path)
    book["Tracker"]["L2"] = "=see SOP 4"
    book["Tracker"]["L2"].data_type = "s"
    book.save(path)
    again = render_tracker(framework, carried=read_tracker(path))
    cell = _book(again)["Tracker"]["L2"]
    assert (cell.value, cell.data_type) == ("=see SOP 4", "s")


def test_an_empty_framework_still_renders(framework: Framework) -> None:
    data = render_tracker(framework.model_copy(update={"standards": (), "excluded": ()}))
    assert _book(data)["Tracker"].max_row == 1


def test_lazy_package_exports() -> None:
    assert callable(render_markdown) and callable(render_tracker)


# --- LibreOffice ----------------------------------------------------------------------------------

needs_libreoffice = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)


def _soffice(tmp_path: Path, target: str, source: Path, out: Path) -> None:
    profile = f"-env:UserInstallation=file://{tmp_path}/lo-profile"  # never touch the user's profile
    command = ["soffice", profile, "--headless", "--convert-to", target, str(source), "--outdir", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)


@needs_libreoffice
def test_libreoffice_opens_it_and_computes_the_summary_like_tracker_status(
    framework: Framework, tmp_path: Path
) -> None:
    path = tmp_path / "filled.xlsx"
    path.write_bytes(render_tracker(framework, services=SERVICES))
    book = load_workbook(path)
    ws = book["Tracker"]
    statuses = ["Met", "Partially met", "Not applicable", "Not met", "In progress", None, "Met"]
    for r in range(2, ws.max_row + 1):
        ws.cell(r, 10).value = statuses[r % len(statuses)]
    for cell in ws[3]:  # a whole row cleared, as the typed-over-id hint suggests: it is no longer a row
        cell.value = None
    book.save(path)
    out = tmp_path / "csv"
    _soffice(
        tmp_path, "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,-1", path, out
    )
    rows = list(csv.reader((out / "filled-Summary.csv").read_text(encoding="utf-8").splitlines()))
    computed = {r[0]: r for r in rows if r and r[0] in ("D1", "D2", "D6", "Ward A", "Clinic B")}
    computed["All"] = next(r for r in rows if r and r[0] == "All")
    status = tracker_status(read_tracker(path), date(2025, 1, 1))
    for group in (*status.domains, *status.services, status.overall):
        row = computed["All" if group is status.overall else group.group]
        assert int(row[2]) == group.rows
        assert float(row[10].rstrip("%")) == pytest.approx(100 * group.compliance, abs=0.01)
        assert float(row[11].rstrip("%")) == pytest.approx(100 * group.weighted, abs=0.01)


@needs_libreoffice
def test_a_tracker_saved_by_libreoffice_reads_back_and_carries(framework: Framework, tmp_path: Path) -> None:
    path = tmp_path / "filled.xlsx"
    path.write_bytes(render_tracker(framework, services=SERVICES))
    book = load_workbook(path)
    book["Tracker"]["J3"], book["Tracker"]["L3"] = "Met", datetime(2025, 3, 31)
    book["Tracker"]["M7"] = "Evidence\nacross lines"
    book.save(path)
    _soffice(tmp_path, "xlsx:Calc MS Excel 2007 XML", path, tmp_path / "lo")
    saved = read_tracker(tmp_path / "lo" / "filled.xlsx")
    assert saved.services == tuple(SERVICES)
    assert {e.key: (e.status, e.due, e.evidence) for e in saved.filled_entries()} == {
        ("QS-002", "Ward A"): ("Met", date(2025, 3, 31), None),
        ("QS-006", "Ward A"): (None, None, "Evidence\nacross lines"),
    }
    again = _book(render_tracker(framework, carried=saved))["Tracker"]
    assert (again["J3"].value, again["M7"].value) == ("Met", "Evidence\nacross lines")


def test_long_domain_names_are_cut_at_a_word_for_sheet_names() -> None:
    taken: set[str] = set()
    assert sheet_title("D7 Resources, information and partnerships", taken) == "D7 Resources, information"
    assert sheet_title("D4 Effective care and clinical outcomes", taken) == "D4 Effective care and clinical"
    assert sheet_title("D4 Effective care and clinical outcomes", taken) == "D4 Effective care (2)"
    assert sheet_title("Short name", taken) == "Short name"
    assert len(sheet_title("x" * 40, taken)) == 31


def test_fill_in_columns_are_shaded_and_the_rest_are_not(framework: Framework) -> None:
    ws = _book(render_tracker(framework))["Tracker"]
    headers = [cell.value for cell in ws[1]]
    for column, name in enumerate(headers, 1):
        colour = ws.cell(row=2, column=column).fill.fgColor.rgb
        shaded = name in ("Status", "Owner", "Due date", "Evidence", "Actions", "Notes")
        assert (colour == "00FFF8DC") == shaded, (name, colour)


def test_a_row_summarises_its_sources_and_the_crosswalk_lists_them(framework: Framework) -> None:
    book = _book(render_tracker(framework))
    rows = list(book["Tracker"].iter_rows(values_only=True))
    at = rows[0].index("Sources")
    sources = {row[0]: row[at] for row in rows[1:]}
    for standard in framework.standards:
        assert sources[standard.id].count("\n") <= 2, sources[standard.id]
    crosswalk = {
        (f"{row[0]}:{row[1]}", row[3]) for row in book["Crosswalk"].iter_rows(min_row=2, values_only=True)
    }
    assert {(link.ref, s.id) for s in framework.standards for link in s.sources} <= crosswalk


def test_more_than_three_sources_are_summarised_by_set(framework: Framework) -> None:
    from qms_standards.export.crosswalk import source_summary

    standard = framework.standards[0]
    links = [standard.sources[0].model_copy(update={"ref": f"iso-9001-2015:{n}"}) for n in range(1, 4)]
    links.append(standard.sources[0].model_copy(update={"ref": "cqc-saf-2024:safe/x"}))
    many = standard.model_copy(update={"sources": tuple(links)})
    assert (
        source_summary(many) == "4 requirements: iso-9001-2015 (3), cqc-saf-2024\nfull list: Crosswalk sheet"
    )
    few = standard.model_copy(update={"sources": tuple(links[:2])})
    assert source_summary(few) == "iso-9001-2015:1\niso-9001-2015:2"
