"""A damaged id lock never moves a filled tracker entry onto another standard (issue 17).

Two layers, each tested on its own. The lock is refused when cut short at any line (its totals, written
last, go missing or disagree), so consolidate stops before writing. And should a damaged lock get past
that (restored from an old copy, edited by hand), an entry is carried by id only while the tracker's
Crosswalk says its standard still holds the same requirements: otherwise it follows its requirements to
their standard, or is orphaned with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook
from pydantic import ValidationError
from typer.testing import CliRunner

from conftest import FakeEmbedder
from engine_helpers import make_tree
from qms_standards.cli import app
from qms_standards.export.excel import render_tracker
from qms_standards.files import dump_model
from qms_standards.framework import assign_ids
from qms_standards.load import load_framework
from qms_standards.models import Framework, IdsLock, LockEntry
from qms_standards.tracker import carry_entries, read_tracker

runner = CliRunner()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())


def _consolidate(standards: Path, mappings: Path, out: Path) -> Any:
    return runner.invoke(
        app, ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q"]
    )


@pytest.fixture
def filled(tmp_path: Path, fake_model: None) -> tuple[Path, Path, Path]:
    """A consolidated tree whose tracker has every row filled with its own id and title."""
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "out"
    assert _consolidate(standards, mappings, out).exit_code == 0
    book = load_workbook(out / "tracker.xlsx")
    sheet = book["Tracker"]
    headers = {c.value: c.column for c in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        standard_id, title = sheet.cell(row, 1).value, sheet.cell(row, headers["Title"]).value
        sheet.cell(row, headers["Status"]).value = "Met"
        sheet.cell(row, headers["Evidence"]).value = f"evidence for {standard_id}: {title}"
    book.save(out / "tracker.xlsx")
    return standards, mappings, out


def test_a_lock_cut_at_any_line_stops_consolidate_and_keeps_every_entry(
    filled: tuple[Path, Path, Path],
) -> None:
    standards, mappings, out = filled
    lock_path = mappings / "ids.lock.yaml"
    whole = lock_path.read_text(encoding="utf-8")
    lines = whole.splitlines(keepends=True)
    tracker = (out / "tracker.xlsx").read_bytes()
    assert len(lines) > 20
    for cut in range(len(lines)):  # keep lines [0, cut): every truncation at a line boundary
        lock_path.write_text("".join(lines[:cut]), encoding="utf-8")
        result = _consolidate(standards, mappings, out)
        assert result.exit_code == 2, f"lock cut after line {cut} was accepted:\n{result.output}"
        said = " ".join(result.output.split())
        assert f"{lock_path}" in said and "hint:" in said, said
        assert (out / "tracker.xlsx").read_bytes() == tracker  # nothing written, nothing moved
        assert lock_path.read_text(encoding="utf-8") == "".join(lines[:cut])
    lock_path.write_text(whole, encoding="utf-8")
    result = _consolidate(standards, mappings, out)
    assert result.exit_code == 0, result.output
    for entry in read_tracker(out / "tracker.xlsx").entries.values():
        assert entry.evidence == f"evidence for {entry.standard_id}: {entry.title}"


def _lenient(text: str) -> IdsLock:
    """What a loader without the checks would have made of a cut lock: the entries that still parse."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    entries = []
    for item in (data or {}).get("standards") or [] if isinstance(data, dict) else []:
        try:
            entries.append(LockEntry.model_validate(item))
        except ValidationError:
            continue
    return IdsLock(standards=tuple(entries))


def test_entries_never_land_on_another_standard_even_if_a_cut_lock_got_through(
    filled: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, out = filled
    consolidated = load_framework(out / "framework.yaml")
    clusters = [[link.ref for link in s.sources] for s in consolidated.standards]
    # A lock with a history: ids in another order than a fresh run would give, so a cut renumbers.
    history = IdsLock(
        standards=tuple(
            LockEntry(id=f"QS-{n:03d}", refs=tuple(sorted(c))) for n, c in enumerate(reversed(clusters), 1)
        )
    )

    def numbered(lock: IdsLock) -> Framework:
        ids, _ = assign_ids(clusters, lock)
        standards = (s.model_copy(update={"id": i}) for s, i in zip(consolidated.standards, ids, strict=True))
        return consolidated.model_copy(update={"standards": tuple(standards)})

    framework = numbered(history)
    tracker = tmp_path / "history.xlsx"
    tracker.write_bytes(render_tracker(framework))
    book = load_workbook(tracker)
    sheet = book["Tracker"]
    headers = {c.value: c.column for c in sheet[1]}
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, headers["Evidence"]).value = f"evidence for {sheet.cell(row, 1).value}"
    book.save(tracker)
    previous = read_tracker(tracker)
    sources_of = {s.id: {link.ref for link in s.sources} for s in framework.standards}
    lines = dump_model(history).splitlines(keepends=True)
    renumbered = 0
    for cut in range(len(lines) + 1):
        renamed = numbered(_lenient("".join(lines[:cut])))
        renumbered += [s.id for s in renamed.standards] != [s.id for s in framework.standards]
        now = {s.id: {link.ref for link in s.sources} for s in renamed.standards}
        carry = carry_entries(renamed, previous)
        for entry in carry.carried:
            typed_for = (entry.evidence or "").removeprefix("evidence for ")
            assert now[entry.standard_id] == sources_of[typed_for], (cut, entry)
        assert len(carry.carried) + len(carry.orphaned) == len(previous.filled_entries())
    assert renumbered > 0  # cuts did renumber standards: the carry, not luck, kept each entry in place
