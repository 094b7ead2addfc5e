"""Writing outputs: atomic replace, canonical YAML, byte-stable xlsx."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import yaml

from qms_standards.errors import OutputError
from qms_standards.files import canonical_xlsx, dump_yaml, write_atomic

# --- write_atomic --------------------------------------------------------------------------------


def test_write_atomic_writes_bytes_and_text(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.bin", b"\x00\x01")
    write_atomic(tmp_path / "b.md", "héllo\n")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.md").read_bytes() == "héllo\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.md"]  # no temp file left


def test_write_atomic_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "framework.yaml"
    target.write_text("old\n", encoding="utf-8")
    write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["framework.yaml"]


def test_the_temp_file_is_complete_and_beside_the_target_before_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("old\n", encoding="utf-8")
    seen: list[tuple[Path, bytes, str]] = []

    def look(tmp: Path) -> None:
        seen.append((tmp.parent, tmp.read_bytes(), target.read_text(encoding="utf-8")))

    write_atomic(target, "new\n", before_replace=look)
    assert seen == [(tmp_path, b"new\n", "old\n")]  # written in full while the old file still stood


@pytest.mark.parametrize("failure", [RuntimeError("crash"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_a_failure_before_the_rename_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, failure: BaseException
) -> None:
    target = tmp_path / "tracker.xlsx"
    target.write_bytes(b"old contents")
    temps: list[Path] = []

    def fail(tmp: Path) -> None:
        temps.append(tmp)
        assert tmp.exists()
        raise failure

    with pytest.raises(type(failure)):
        write_atomic(target, b"new contents", before_replace=fail)
    assert target.read_bytes() == b"old contents"
    assert len(temps) == 1 and not temps[0].exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tracker.xlsx"]


def test_an_os_error_while_writing_is_an_output_error_and_leaves_nothing(tmp_path: Path) -> None:
    def disk_full(tmp: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError) as info:
        write_atomic(tmp_path / "new.yaml", "x", before_replace=disk_full)
    assert info.value.file == tmp_path / "new.yaml"
    assert "No space left on device" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_in_the_way_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError) as info:
        write_atomic(tmp_path / "out", "x")
    assert info.value.file == tmp_path / "out"
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and list((tmp_path / "out").iterdir()) == []


def test_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as info:
        write_atomic(tmp_path / "no" / "such" / "framework.yaml", "x")
    error = info.value
    assert error.file == tmp_path / "no" / "such" / "framework.yaml"
    assert str(error) == f"{error.file}: folder {tmp_path / 'no' / 'such'} does not exist"
    assert error.hint == f"Create it first (mkdir -p {tmp_path / 'no' / 'such'})."
    assert not (tmp_path / "no").exists()


def _permissions_enforced(folder: Path) -> bool:
    """Root (as in many containers) may write into a read-only folder; detect it instead of assuming."""
    probe = folder / "probe"
    try:
        probe.write_text("x", encoding="utf-8")
    except PermissionError:
        return True
    probe.unlink()
    return False


def test_a_read_only_folder_is_an_output_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "framework.yaml").write_text("old\n", encoding="utf-8")
    folder.chmod(0o555)
    try:
        if not _permissions_enforced(folder):
            pytest.skip("permissions are not enforced for this user (root)")
        with pytest.raises(OutputError) as info:
            write_atomic(folder / "framework.yaml", "new\n")
        assert "cannot write in" in str(info.value)
        assert (folder / "framework.yaml").read_text(encoding="utf-8") == "old\n"
        assert [p.name for p in folder.iterdir()] == ["framework.yaml"]
    finally:
        folder.chmod(0o755)


def test_write_atomic_to_a_bare_file_name_writes_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_atomic(Path("here.md"), "x")
    assert (tmp_path / "here.md").read_text(encoding="utf-8") == "x"


# --- dump_yaml -----------------------------------------------------------------------------------


def test_dump_yaml_keeps_key_order_unicode_and_long_lines() -> None:
    long = "word " * 100
    text = dump_yaml({"zeta": 1, "alpha": ["b", "a"], "name": "Café – 中文", "long": long.strip()})
    assert text == f"zeta: 1\nalpha:\n  - b\n  - a\nname: Café – 中文\nlong: {long.strip()}\n"


def test_dump_yaml_writes_multi_line_text_as_a_block_and_quotes_what_yaml_would_misread() -> None:
    data = {"text": "First line.\nSecond line.", "version": "2015", "flag": "yes", "none": "null", "n": None}
    text = dump_yaml(data)
    assert (
        text
        == "text: |-\n  First line.\n  Second line.\nversion: '2015'\nflag: 'yes'\nnone: 'null'\nn: null\n"
    )
    assert yaml.safe_load(text) == data


# --- canonical_xlsx ------------------------------------------------------------------------------


def _workbook_bytes(created: datetime) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Framework"
    sheet.append(["id", "title", "score"])
    sheet.append(["QS-001", "Learning from incidents", 12])
    book.properties.created = created
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _build(monkeypatch: pytest.MonkeyPatch, at: float) -> bytes:
    """An xlsx saved with the clock at `at` (zip member times come from time.time())."""
    monkeypatch.setattr(time, "time", lambda: at)
    return _workbook_bytes(datetime.fromtimestamp(at))


def test_canonical_xlsx_makes_two_saves_apart_in_time_byte_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _build(monkeypatch, 1_700_000_000.0)
    second = _build(monkeypatch, 1_700_003_723.0)  # an hour and a bit later, without sleeping
    monkeypatch.undo()
    assert first != second  # openpyxl's own output carries the save time
    assert canonical_xlsx(first) == canonical_xlsx(second)
    assert canonical_xlsx(canonical_xlsx(first)) == canonical_xlsx(first)


def test_canonical_xlsx_fixes_member_times_and_document_dates_and_still_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = _build(monkeypatch, 1_700_000_000.0)
    monkeypatch.undo()
    data = canonical_xlsx(raw)
    with zipfile.ZipFile(io.BytesIO(data)) as archive, zipfile.ZipFile(io.BytesIO(raw)) as original:
        assert archive.namelist() == original.namelist()
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert core.count(">2000-01-01T00:00:00Z</dcterms:") == 2  # created and modified
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Framework"]
    assert [list(row) for row in book["Framework"].iter_rows(values_only=True)] == [
        ["id", "title", "score"],
        ["QS-001", "Learning from incidents", 12],
    ]
    assert book.properties.created == datetime(2000, 1, 1)
