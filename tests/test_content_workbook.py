"""The content workbook round trip: words out to Excel, signed rows back into content.yaml, the rest kept."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from conftest import FakeEmbedder
from engine_helpers import make_tree
from qms_standards.cli import app
from qms_standards.content_workbook import COLUMNS, check_merged, merge_content
from qms_standards.load import load_framework
from qms_standards.models import ContentWords

runner = CliRunner()
HEADERS = [header for _, header, _ in COLUMNS]


@pytest.fixture
def consolidated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return standards, mappings, out


def _sign(path: Path, standard_id: str, **cells: object) -> None:
    book = load_workbook(path)
    ws = book["Content"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == standard_id)
    for header, value in cells.items():
        ws.cell(row, HEADERS.index(header.replace("_", " ")) + 1).value = value
    book.save(path)


def test_signed_rows_go_into_content_yaml_and_the_next_run_uses_them(
    consolidated: tuple[Path, Path, Path],
) -> None:
    standards, mappings, out = consolidated
    framework = load_framework(out / "framework.yaml")
    first = framework.standards[0]
    book = out / "content.xlsx"
    done = runner.invoke(app, ["content", "export", str(out / "framework.yaml"), "-o", str(book)])
    assert done.exit_code == 0, done.output
    _sign(book, first.id, Title="Our own title", Agreed_by="Head of Quality", Date=datetime.date(2026, 12, 1))
    done = runner.invoke(app, ["content", "apply", str(book), "-m", str(mappings)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert f"1 standard(s) added ({first.id}), 0 replaced" in " ".join(done.output.split())
    entry = yaml.safe_load((mappings / "content.yaml").read_text())["standards"][0]
    assert list(entry)[:3] == ["id", "title", "statement"]
    assert (entry["title"], entry["by"], entry["date"]) == ("Our own title", "Head of Quality", "2026-12-01")
    assert entry["members"] == [s.ref for s in first.sources]
    assert entry["statement"] == first.statement
    again = runner.invoke(
        app,
        ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q"],
        catch_exceptions=False,
    )
    assert again.exit_code == 0, again.output
    now = next(s for s in load_framework(out / "framework.yaml").standards if s.id == first.id)
    assert (now.title, now.drafted) == ("Our own title", ())


def test_merging_replaces_one_entry_and_keeps_every_other_byte() -> None:
    existing = (
        "# our words; do not reflow\n"
        "standards:\n"
        "  - id: QS-001\n"
        "    title: Kept   exactly\n"
        "    # a comment inside\n"
        "  - id: QS-002\n"
        "    title: Old\n"
        "  - id: QS-003\n"
        "    statement: >-\n"
        "      Folded text\n"
        "      kept as written.\n"
    )
    text, replaced, added = merge_content(
        existing, [ContentWords(id="QS-002", title="New", by="HoQ"), ContentWords(id="QS-009", title="Added")]
    )
    assert (replaced, added) == (["QS-002"], ["QS-009"])
    assert text == existing.replace(
        "  - id: QS-002\n    title: Old\n", "  - id: QS-002\n    title: New\n    by: HoQ\n"
    ) + ("  - id: QS-009\n    title: Added\n")
    assert (
        merge_content(None, [ContentWords(id="QS-001", title="T")])[0]
        == "standards:\n  - id: QS-001\n    title: T\n"
    )


def test_a_workbook_with_no_signed_row_writes_nothing(consolidated: tuple[Path, Path, Path]) -> None:
    _, mappings, out = consolidated
    book = out / "content.xlsx"
    runner.invoke(
        app, ["content", "export", str(out / "framework.yaml"), "-o", str(book)], catch_exceptions=False
    )
    done = runner.invoke(app, ["content", "apply", str(book), "-m", str(mappings)], catch_exceptions=False)
    assert done.exit_code == 0
    assert "no row has a name in Agreed by; nothing written" in " ".join(done.output.split())
    assert not (mappings / "content.yaml").exists()


def test_bad_workbooks_are_named_with_sheet_and_cell(
    consolidated: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, mappings, out = consolidated
    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    done = runner.invoke(app, ["content", "apply", str(other), "-m", str(mappings)])
    assert done.exit_code == 2
    assert "other.xlsx: not a qms content workbook" in " ".join(done.output.split())
    book = out / "content.xlsx"
    runner.invoke(
        app, ["content", "export", str(out / "framework.yaml"), "-o", str(book)], catch_exceptions=False
    )
    framework = load_framework(out / "framework.yaml")
    first, second = framework.standards[0].id, framework.standards[1].id
    _sign(book, first, Agreed_by="A")
    _sign(book, second, ID=first, Agreed_by="B")
    done = runner.invoke(app, ["content", "apply", str(book), "-m", str(mappings)])
    assert done.exit_code == 2
    assert f"Content!A3: '{first}' is signed twice (first at Content!A2)" in " ".join(done.output.split())
    wb = load_workbook(book)
    wb["Content"]["C1"] = "Name"
    wb.save(book)
    done = runner.invoke(app, ["content", "apply", str(book), "-m", str(mappings)])
    assert done.exit_code == 2
    assert "Content!C1: header is 'Name', expected 'Title'" in " ".join(done.output.split())
    assert not (mappings / "content.yaml").exists()


_WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(
    first=st.dictionaries(st.integers(1, 9), _WORDS, min_size=1, max_size=5),
    second=st.dictionaries(st.integers(1, 12), _WORDS, max_size=4),
)
def test_any_words_survive_a_merge_exactly_and_untouched_entries_keep_their_bytes(
    first: dict[int, str], second: dict[int, str]
) -> None:
    def words(chosen: dict[int, str]) -> list[ContentWords]:
        return [ContentWords(id=f"QS-{k:03d}", title=v) for k, v in sorted(chosen.items())]

    before, _, _ = merge_content(None, words(first))
    after, replaced, added = merge_content(before, words(second))
    assert replaced == sorted(f"QS-{k:03d}" for k in second if k in first)
    entries = {e.id: e.title for e in check_merged(after).standards}
    assert entries == {f"QS-{k:03d}": v for k, v in {**first, **second}.items()}
    for k in sorted(set(first) - set(second)):  # an entry nobody signed is the same text, byte for byte
        block = _entry_block(before, f"QS-{k:03d}")
        assert block in after
    assert len(added) == len(set(second) - set(first))


def _entry_block(text: str, standard_id: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line == f"  - id: {standard_id}\n")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("  - ")), len(lines))
    return "".join(lines[start:end])
