"""Damaged and hostile workbooks (issue 17): each is exit 2 with the file, the part and a hint, fast.

Each case is made at test time from a clean tracker, the way the damage happens (a file cut short by a
sync tool, an add-in writing bad styles, a password, another zip tool, a crafted zip bomb), so the
corpus shows the damage in code rather than as opaque binaries.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from copy import copy
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import DATA
from qms_standards import workbook
from qms_standards.cli import app
from qms_standards.export.excel import render_tracker
from qms_standards.load import load_framework
from qms_standards.tracker import read_tracker

runner = CliRunner()
SMALL = DATA / "framework-small.yaml"
TRACKER = render_tracker(load_framework(SMALL))


def _rezip(data: bytes, change: Callable[[zipfile.ZipInfo, bytes], tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            new_info, body = change(info, source.read(info.filename))
            target.writestr(new_info, body)
    return out.getvalue()


def _member(name: str, body: Callable[[bytes], bytes]) -> Callable[[zipfile.ZipInfo, bytes], tuple]:
    def change(info: zipfile.ZipInfo, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
        return (info, body(data)) if info.filename == name else (info, data)

    return change


def broken_xml() -> bytes:  # a sheet cut off half way, as a sync conflict leaves it
    return _rezip(TRACKER, _member("xl/worksheets/sheet1.xml", lambda b: b[: len(b) // 2]))


def bad_styles() -> bytes:  # well-formed XML that openpyxl cannot make styles of
    return _rezip(TRACKER, _member("xl/styles.xml", lambda b: b.replace(b'numFmtId="', b'numFmtId="x', 1)))


def _patch_header(data: bytes, name: str, field: str, value: int) -> bytes:
    """Set a field of one member's local and central zip headers, as another zip tool would write it."""
    out = bytearray(data)
    offsets = {"flags": (6, 8), "method": (8, 10)}[field]  # in the local header, in the central one
    for signature, offset in zip((b"PK\x03\x04", b"PK\x01\x02"), offsets, strict=True):
        start = out.find(signature)
        while start != -1:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if out[name_at : name_at + len(name)] == name.encode():
                out[start + offset : start + offset + 2] = value.to_bytes(2, "little")
            start = out.find(signature, start + 4)
    return bytes(out)


def encrypted_member() -> bytes:
    return _patch_header(TRACKER, "xl/workbook.xml", "flags", 0x1)


def unknown_compression() -> bytes:  # PPMd (method 98): some zip tools use it; Python cannot read it
    return _patch_header(TRACKER, "xl/workbook.xml", "method", 98)


def password_protected() -> bytes:  # Excel saves a password-protected workbook as an OLE container
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096


def zip_bomb() -> bytes:  # 40 KB compressed, 40 MB expanded; a real one reaches gigabytes
    out = io.BytesIO(TRACKER)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/media/image1.bin", b"\0" * (40 * 1024 * 1024))
    return out.getvalue()


DAMAGED = [
    (broken_xml, "member xl/worksheets/sheet1.xml is not well-formed XML (line", "save it again"),
    (bad_styles, "cannot be read as a workbook (", "save it again as .xlsx"),
    (encrypted_member, "member xl/workbook.xml is encrypted", "without a password"),
    (unknown_compression, "uses zip compression method 98, which qms does not read", "save it again"),
    (password_protected, "is password-protected, or an old-style .xls workbook", "remove the password"),
    (zip_bomb, "member xl/media/image1.bin expands 1,0", "Export a tracker"),
]


@pytest.mark.parametrize(("make", "message", "hint"), DAMAGED, ids=[m.__name__ for m, _, _ in DAMAGED])
@pytest.mark.parametrize("command", ["status", "export-from", "review-apply"])
def test_a_damaged_workbook_is_exit_2_fast(
    tmp_path: Path, command: str, make: Callable[[], bytes], message: str, hint: str
) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(make())
    out = tmp_path / "new.xlsx"
    args = {
        "status": ["tracker", "status", str(path)],
        "export-from": ["export", "tracker", str(SMALL), "-o", str(out), "--from", str(path)],
        "review-apply": ["review", "-s", str(DATA / "sets"), "--apply", str(path), "--by", "QA"],
    }[command]
    started = time.perf_counter()
    result = runner.invoke(app, args)
    assert time.perf_counter() - started < 20
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert f"error: {path}: " in said and message in said, said
    if command != "review-apply":
        assert hint in said, said
    assert not out.exists()


def _tracker(tmp_path: Path) -> Path:
    path = tmp_path / "tracker.xlsx"
    path.write_bytes(TRACKER)
    return path


def test_cells_over_the_limit_fail_before_openpyxl_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_CELLS", 50)
    result = runner.invoke(app, ["tracker", "status", str(_tracker(tmp_path))])
    assert result.exit_code == 2
    assert "the sheets hold over 50 cells (limit)" in " ".join(result.output.split())


def test_a_workbook_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_WORKBOOK_BYTES", 1000)
    result = runner.invoke(app, ["tracker", "status", str(_tracker(tmp_path))])
    assert result.exit_code == 2
    assert "bytes, over the 1,000-byte limit" in " ".join(result.output.split())


def test_a_formatted_cell_at_the_last_row_is_not_a_million_rows(tmp_path: Path) -> None:
    path = _tracker(tmp_path)
    book = load_workbook(path)
    book["Tracker"].cell(1_048_576, 9).number_format = "0.00"  # formatting only: no value
    book["Tracker"].cell(40, 9).fill = copy(book["Tracker"].cell(2, 9).fill)  # a blank, coloured row
    book.save(path)
    started = time.perf_counter()
    result = runner.invoke(app, ["tracker", "status", str(path)])
    assert time.perf_counter() - started < 10
    assert result.exit_code == 0, result.output
    assert len(read_tracker(path).entries) == len(load_framework(SMALL).standards)


def test_a_review_with_formatted_blank_rows_reads_only_its_decisions(tmp_path: Path) -> None:
    from qms_standards.overrides_edit import read_review
    from qms_standards.review import REVIEW_SHEET, ReviewRow, render_review_xlsx

    rows = [
        ReviewRow(
            rank=n,
            kind="boundary",
            ref_a=f"alpha-2020:{n}",
            set_a="alpha-2020",
            text_a="A text",
            ref_b=f"beta-2023:{n}",
            set_b="beta-2023",
            text_b="B text",
            score=0.41,
            margin=0.01,
            together=False,
            standard_a="QS-001",
            standard_b="QS-002",
            why="close to the threshold",
        )
        for n in (1, 2)
    ]
    book = load_workbook(io.BytesIO(render_review_xlsx(rows)))
    sheet = book[REVIEW_SHEET]
    headers = {c.value: c.column for c in sheet[1]}
    sheet.cell(2, headers["Decision"]).value = "same"
    sheet.cell(2, headers["By"]).value = "QA lead"
    for row in (10, 11, 1_048_576):  # blank rows someone coloured, down to the sheet's last row
        sheet.cell(row, headers["Decision"]).fill = copy(sheet.cell(2, 1).fill)
        sheet.cell(row, headers["Decision"]).number_format = "@"
    path = tmp_path / "review.xlsx"
    book.save(path)
    started = time.perf_counter()
    decisions = read_review(path)
    assert time.perf_counter() - started < 10
    assert [(d.row, d.decision) for d in decisions] == [(2, "same"), (3, "skip")]


def test_a_control_character_in_a_filled_cell_is_named_at_its_cell(tmp_path: Path) -> None:
    path = _tracker(tmp_path)
    book = load_workbook(path)
    sheet = book["Tracker"]
    column = [c.value for c in sheet[1]].index("Owner") + 1
    sheet.cell(3, column).value = "Ana\u202etxt.exe"  # shows as "Anaexe.txt" on screen
    book.save(path)
    result = runner.invoke(app, ["tracker", "status", str(path)])
    assert result.exit_code == 2, result.output
    where = f"Tracker!{sheet.cell(3, column).column_letter}3"
    said = " ".join(result.output.split())
    assert f"{path}: {where}: owner holds U+202E RIGHT-TO-LEFT OVERRIDE at character 4" in said, said
