"""`qms import spreadsheet`: every problem located by sheet, row and column; a clean sheet round-trips."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

from conftest import MAPPINGS, FakeEmbedder
from qms_standards.cli import app
from qms_standards.errors import QmsError
from qms_standards.imports import import_spreadsheet, render_set
from qms_standards.load import load_standard_sets

runner = CliRunner()
PROVENANCE = ["--set-id", "trust-policy-2025", "--name", "Trust incident policy", "--publisher", "Our Trust"]
PROVENANCE += ["--edition", "2025", "--licence", "Internal", "--text-is", "verbatim"]
PROV = {
    "id": "trust-policy-2025",
    "name": "Trust incident policy",
    "publisher": "Our Trust",
    "version": "2025",
    "licence": "Internal",
}
HEADERS = ["Ref", "Heading", "Requirement", "Part", "Tags", "Severity"]
CLEAN_ROWS = [
    ["1.1", "Incident reporting", "Staff report patient safety incidents promptly.", "1 Report", "safe", 4],
    [
        "1.10",
        "Duty of candour",
        "Patients and families are told openly when things go wrong.",
        "1 Report",
        "",
        3,
    ],
    ["2.1", "Learning responses", "Learning responses use system-based methods.", "2 Learn", "", None],
    ["2.2", "Oversight", "The board oversees learning from incidents.", "2 Learn", "well-led, assurance", 2],
]
COLUMNS = ["--id-column", "Ref", "--title-column", "Heading", "--text-column", "C"]
COLUMNS += ["--section-column", "Part"]


def _workbook(path: Path, rows: list[list[object]], sheet: str = "Standards") -> Workbook:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    for cell in ws["A"][1:]:
        cell.number_format = "@"
    book.save(path)
    return book


def _invoke(*args: str):
    return runner.invoke(app, ["import", "spreadsheet", *args], catch_exceptions=False)


def test_a_clean_sheet_imports_with_every_field(tmp_path: Path) -> None:
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    out = tmp_path / "trust-policy-2025.yaml"
    result = _invoke(str(source), *COLUMNS, *PROVENANCE, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: trust-policy-2025, 4 requirements" in result.output.replace("\n", "")
    (loaded,) = load_standard_sets([out])
    assert [r.id for r in loaded.set.requirements] == ["1.1", "1.10", "2.1", "2.2"]
    first = loaded.set.requirements[0]
    assert (first.title, first.section, first.tags, first.severity) == (
        "Incident reporting",
        "1 Report",
        ("safe",),
        4,
    )
    assert loaded.set.requirements[3].tags == ("well-led", "assurance")
    assert loaded.set.text_is == "verbatim"
    text = out.read_text()
    assert text.startswith("# Trust incident policy: imported by `qms import spreadsheet` from policy.xlsx\n")


def test_every_problem_is_named_by_sheet_row_and_column_and_nothing_is_written(tmp_path: Path) -> None:
    source = tmp_path / "bad.xlsx"
    book = Workbook()
    ws = book.active
    ws.title = "Clauses"
    ws.append(HEADERS)
    ws.append([1.1, "Reporting", "Report incidents.", "1", "", None])  # 1.10 or 1.1? a General number
    ws.append(["2.1", "Learning", None, "2", "", None])  # empty text
    ws.append(["2.1", "Learning again", "Learn twice.", "2", "", None])  # duplicate id
    ws.append([datetime(2025, 1, 2), "Dated", "An id read as a date.", "3", "", None])
    ws.append(["4.1", "Merged", "Merged section below.", "4", "", None])
    ws.append(["4.2", "Merged too", "Section cell merged above.", None, "", None])
    ws.merge_cells("D6:D7")
    ws.append(["5.1", "Severity", "Too severe.", "5", "Not Kebab!", 9])
    ws.append(["6.1", "Formula", '=B9&" text"', "6", "", None])
    book.save(source)
    out = tmp_path / "out.yaml"
    result = runner.invoke(app, ["import", "spreadsheet", str(source), *COLUMNS, *PROVENANCE, "-o", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert lines == [
        f"error: {source}: Clauses!A2 (Ref): id is the number 1.1: a reference such as 1.10 is stored the "
        "same way",
        f"error: {source}: Clauses!A4 (Ref): duplicate id '2.1' (first at Clauses!A3 (Ref))",
        f"error: {source}: Clauses!A5 (Ref): id is a date (2025-01-02): the spreadsheet read a "
        "reference such as 1.2 as a date",
        f"error: {source}: Clauses!C3 (Requirement): text is empty",
        f'error: {source}: Clauses!C9 (Requirement): text is a formula (=B9&" text"), not a value',
        f"error: {source}: Clauses!D6:D7: cells D6:D7 are merged: only the first holds a value, the other "
        "rows would read as empty",
        f"error: {source}: Clauses!E8 (Tags): tags ('not-kebab!',): value error, tags must be lower-case "
        "kebab-case words, not 'not-kebab!'",
        f"error: {source}: Clauses!F8 (Severity): severity 9: input should be less than or equal to 5",
    ]
    assert "Format the column as Text and retype the ids" in result.output
    assert not out.exists()


def test_a_number_formatted_with_decimals_keeps_its_trailing_zero(tmp_path: Path) -> None:
    source = tmp_path / "numbers.xlsx"
    book = Workbook()
    ws = book.active
    ws.append(["Id", "Text"])
    ws.append([1.1, "Ten, stored as 1.1 but shown as 1.10."])
    ws["A2"].number_format = "0.00"
    ws.append([3, "An integer id."])
    book.save(source)
    standard_set = import_spreadsheet(source, PROV, {})
    assert [r.id for r in standard_set.requirements] == ["1.10", "3"]
    assert standard_set.requirements[0].title == "Ten, stored as 1.1 but shown as 1.10"


def test_csv_with_headers_by_name_and_a_semicolon_separator(tmp_path: Path) -> None:
    source = tmp_path / "standards.csv"
    source.write_text("\ufeffId;Title;Text\n1.10;Ten;Kept as typed.\n;;\n2;Two;Second.\n", encoding="utf-8")
    standard_set = import_spreadsheet(source, PROV, {})
    assert [r.id for r in standard_set.requirements] == ["1.10", "2"]


def test_csv_problems_name_row_and_column(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("Id,Title,Text\nA 1,One,First.\nA2,Two,\n", encoding="utf-8")
    with pytest.raises(QmsError) as caught:
        import_spreadsheet(source, PROV, {})
    assert [p.render() for p in caught.value.problems] == [
        f"{source}: row 2, column A (Id): id 'A 1': string should match pattern '^[^\\s:][^\\s:]*$'",
        f"{source}: row 3, column C (Text): text is empty",
    ]


def test_unknown_column_and_missing_provenance_are_reported_together(tmp_path: Path) -> None:
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    result = runner.invoke(app, ["import", "spreadsheet", str(source), "--text-column", "Body"])
    assert result.exit_code == 2
    assert "--text-column: 'Body' is neither a header in row 1 nor a column letter" in result.output
    assert "Headers in row 1: A 'Ref', B 'Heading', C 'Requirement'" in result.output
    assert "--id-column: no column for the requirement id" in result.output


def test_missing_provenance_names_each_option(tmp_path: Path) -> None:
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    result = runner.invoke(app, ["import", "spreadsheet", str(source), *COLUMNS, "--set-id", "Bad Id"])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error")]
    assert errors == [
        f"error: {source}: --edition: missing --edition: the set's edition",
        f"error: {source}: --licence: missing --licence: the set's licence",
        f"error: {source}: --name: missing --name: the set's full name",
        f"error: {source}: --publisher: missing --publisher: the set's publisher",
    ]


def test_bad_set_id_is_named_by_its_option(tmp_path: Path) -> None:
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    args = [str(source), *COLUMNS, *PROVENANCE, "--set-id", "Trust Policy"]
    result = runner.invoke(app, ["import", "spreadsheet", *args])
    assert result.exit_code == 2
    assert "--set-id: String should match pattern" in result.output
    assert "lower-case words and digits joined by hyphens" in result.output


def test_missing_sheet_and_not_a_workbook(tmp_path: Path) -> None:
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    result = runner.invoke(app, ["import", "spreadsheet", str(source), "--sheet", "Nope", *PROVENANCE])
    assert result.exit_code == 2
    assert "--sheet: no sheet named 'Nope'" in result.output
    assert "The workbook's sheets are: Standards." in result.output
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    result = runner.invoke(app, ["import", "spreadsheet", str(fake), *PROVENANCE])
    assert result.exit_code == 2
    assert "not an xlsx workbook" in result.output


def test_dry_run_prints_the_file_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    out = tmp_path / "set.yaml"
    result = _invoke(str(source), *COLUMNS, *PROVENANCE, "-o", str(out), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "id: trust-policy-2025" in result.stdout
    assert "dry run: would write" in result.output
    assert not out.exists()


def test_an_existing_different_file_is_kept_unless_forced(tmp_path: Path) -> None:
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    out = tmp_path / "set.yaml"
    out.write_text("# my own edits\n")
    result = runner.invoke(app, ["import", "spreadsheet", str(source), *COLUMNS, *PROVENANCE, "-o", str(out)])
    assert result.exit_code == 2
    assert "already exists and differs from this import" in result.output
    assert out.read_text() == "# my own edits\n"
    assert _invoke(str(source), *COLUMNS, *PROVENANCE, "-o", str(out), "--force").exit_code == 0
    assert _invoke(str(source), *COLUMNS, *PROVENANCE, "-o", str(out)).exit_code == 0  # same bytes: fine


def test_round_trip_import_validate_consolidate_export_is_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    source = tmp_path / "policy.xlsx"
    _workbook(source, CLEAN_ROWS)
    outputs = []
    for run in ("a", "b"):
        root = tmp_path / run
        standards, mappings = root / "standards", root / "mappings"
        standards.mkdir(parents=True)
        mappings.mkdir()
        shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
        result = _invoke(str(source), *COLUMNS, *PROVENANCE, "-o", str(standards / "trust-policy-2025.yaml"))
        assert result.exit_code == 0, result.output
        assert runner.invoke(app, ["validate", str(standards)]).exit_code == 0
        result = runner.invoke(
            app,
            ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(root / "out"), "-q"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        tracker = root / "tracker.xlsx"
        args = ["export", "tracker", str(root / "out" / "framework.yaml"), "-o", str(tracker)]
        assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
        outputs.append([(standards / "trust-policy-2025.yaml").read_bytes(), tracker.read_bytes()])
    assert outputs[0] == outputs[1]


_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9./-]{0,8}", fullmatch=True)
_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_ids, _texts), min_size=1, max_size=6, unique_by=lambda r: r[0]))
def test_what_imports_loads_back_unchanged(tmp_path: Path, rows: list[tuple[str, str]]) -> None:
    source = tmp_path / "p.xlsx"
    book = Workbook()
    ws = book.active
    ws.append(["Id", "Text"])
    for req_id, text in rows:
        ws.append([req_id, text])
        ws.cell(ws.max_row, 1).number_format = "@"
    book.save(source)
    try:
        standard_set = import_spreadsheet(source, PROV, {})
    except QmsError as error:  # only spaces is empty; openpyxl stores "=..." as a formula: both refused
        assert all("text is empty" in p.message or "is a formula" in p.message for p in error.problems)
        return
    out = tmp_path / "p.yaml"
    out.write_text(render_set(standard_set, ["test"]), encoding="utf-8")
    (loaded,) = load_standard_sets([out])
    assert loaded.set == standard_set


def test_a_sheet_longer_than_a_set_may_be_is_refused_not_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qms_standards.imports.spreadsheet.MAX_ROWS", 3)
    source = tmp_path / "long.csv"
    source.write_text("Id,Text\n" + "".join(f"{i},Row {i}.\n" for i in range(4)), encoding="utf-8")
    with pytest.raises(QmsError) as caught:
        import_spreadsheet(source, PROV, {})
    assert str(caught.value) == f"{source}: 4 rows below the header: more than the 3 a standard set may hold"
    xlsx = tmp_path / "long.xlsx"
    _workbook(xlsx, CLEAN_ROWS)
    with pytest.raises(QmsError, match="4 rows below the header"):
        import_spreadsheet(xlsx, PROV, {"id": "Ref", "text": "Requirement"})
