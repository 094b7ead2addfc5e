"""Preview before apply: consolidate --dry-run and review --apply --dry-run write nothing and say what
would change; a real run that retires or merges a standard holding filled tracker rows says so."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import DATA, FakeEmbedder
from engine_helpers import make_tree
from qms_standards.cli import app
from qms_standards.cli.preview import warn_filled
from qms_standards.export import layout as L
from qms_standards.load import OVERRIDES_FILE, load_framework
from qms_standards.models import Framework
from qms_standards.preview import preview_run
from qms_standards.review import COLUMNS, REVIEW_SHEET, ReviewRow, render_review_xlsx
from qms_standards.tracker import FilledTracker

runner = CliRunner()
V1 = DATA / "framework-v1.yaml"


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())


def _move(framework: Framework, ref: str, to: str) -> Framework:
    """The framework with one source requirement moved to another standard (dropping emptied ones)."""
    link = next(link for s in framework.standards for link in s.sources if link.ref == ref)
    standards = []
    for s in framework.standards:
        sources = tuple(x for x in s.sources if x.ref != ref) + ((link,) if s.id == to else ())
        if sources:
            standards.append(s.model_copy(update={"sources": sources}))
    return framework.model_copy(update={"standards": tuple(standards)})


def _tracker(framework: Framework, *filled: str) -> FilledTracker:
    """A tracker of `framework` with a filled row for each id in `filled` (its refs as exported)."""
    refs = {s.id: tuple(link.ref for link in s.sources) for s in framework.standards}
    entries = {
        (sid, ""): L.Entry(standard_id=sid, status="Met", owner="Ann", sources=refs[sid]) for sid in filled
    }
    return FilledTracker(None, "f", "1", (), {}, entries)


def test_merging_two_standards_is_a_merge_and_a_retirement_naming_filled_rows() -> None:
    v1 = load_framework(V1)
    first, second = v1.standards[0], v1.standards[1]
    merged = v1
    for link in second.sources:
        merged = _move(merged, link.ref, first.id)
    preview = preview_run(v1, merged, _tracker(v1, second.id))
    kinds = {(c.kind, c.standard) for c in preview.changes}
    assert ("merged", first.id) in kinds and ("retired", second.id) in kinds
    retired = next(c for c in preview.changes if c.kind == "retired")
    assert retired.detail == f"its requirements would go to {first.id}" and retired.filled_rows == 1
    assert {c.kind for c in preview.touching_filled_rows()} == {"merged", "retired"}
    assert preview.moved == ((second.id, first.id, ""),) and preview.orphaned == ()


def test_a_requirement_moving_out_is_a_split_and_a_new_title_a_rename() -> None:
    v1 = load_framework(V1)
    big = next(s for s in v1.standards if len(s.sources) > 1)
    other = next(s for s in v1.standards if s.id != big.id)
    moved = _move(v1, big.sources[-1].ref, other.id)
    renamed = moved.model_copy(
        update={
            "standards": tuple(
                s.model_copy(update={"title": "New name"}) if s.id == other.id else s for s in moved.standards
            )
        }
    )
    preview = preview_run(v1, renamed)
    split = next(c for c in preview.changes if c.kind == "split")
    assert split.standard == big.id and f"1 to {other.id}" in split.detail
    rename = next(c for c in preview.changes if c.kind == "renamed")
    assert (rename.standard, rename.title, rename.detail) == (other.id, "New name", f"was '{other.title}'")
    assert preview.counts["retired"] == 0 and not preview.touching_filled_rows()


def test_the_same_framework_changes_nothing() -> None:
    v1 = load_framework(V1)
    assert preview_run(v1, v1, _tracker(v1, v1.standards[0].id)).unchanged


def test_a_real_run_says_plainly_when_it_retired_a_standard_with_filled_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    v1 = load_framework(V1)
    gone = v1.standards[1]
    after = v1
    for link in gone.sources:
        after = _move(after, link.ref, v1.standards[0].id)
    warn_filled(preview_run(v1, after, _tracker(v1, gone.id)))
    err = " ".join(capsys.readouterr().err.split())
    assert f"warning: {gone.id} '{gone.title}' was retired" in err
    assert "it had 1 filled tracker row(s)" in err and "Orphaned entries" in err


def _consolidate(standards: Path, mappings: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    args = ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q", *extra]
    return runner.invoke(app, args, catch_exceptions=False, env={"COLUMNS": "200"})


def _snapshot(*folders: Path) -> dict[str, bytes]:
    return {
        str(p): p.read_bytes() for f in folders if f.exists() for p in sorted(f.rglob("*")) if p.is_file()
    }


def test_consolidate_dry_run_writes_nothing(tmp_path: Path, fake_model: None) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "framework"
    before = _snapshot(mappings)
    result = _consolidate(standards, mappings, out, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"No framework at {out / 'framework.yaml'} yet: a run would write one with" in result.output
    assert "Nothing written (--dry-run)." in result.output
    assert not out.exists() and _snapshot(mappings) == before
    assert _consolidate(standards, mappings, out).exit_code == 0
    before = _snapshot(mappings, out)
    again = _consolidate(standards, mappings, out, "--dry-run")
    assert again.exit_code == 0, again.output
    assert f"No standard would change compared with {out / 'framework.yaml'}." in again.output
    assert _snapshot(mappings, out) == before


def test_consolidate_dry_run_shows_a_standard_retired_by_a_must_link(
    tmp_path: Path, fake_model: None
) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "framework"
    assert _consolidate(standards, mappings, out, "--no-exports").exit_code == 0
    framework = load_framework(out / "framework.yaml")
    a, b = framework.standards[0].sources[0].ref, framework.standards[1].sources[0].ref
    (mappings / OVERRIDES_FILE).write_text(
        f"must_link:\n  - refs: ['{a}', '{b}']\n    reason: one duty\n    by: QA\n    date: '2025-01-01'\n",
        encoding="utf-8",
    )
    before = _snapshot(mappings, out)
    result = _consolidate(standards, mappings, out, "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "What would change compared with" in result.output and "Nothing written (--dry-run)." in result.output
    )
    assert "split" in result.output or "retired" in result.output or "merged" in result.output
    assert _snapshot(mappings, out) == before


def test_review_apply_dry_run_shows_the_effect_and_leaves_overrides_alone(
    tmp_path: Path, fake_model: None
) -> None:
    standards, mappings = make_tree(tmp_path)
    letter = {key: chr(ord("A") + n) for n, (key, _, _) in enumerate(COLUMNS)}
    row = ReviewRow(
        rank=1,
        kind="boundary",
        ref_a="alpha-2020:10.2",
        set_a="alpha-2020",
        text_a="A",
        ref_b="beta-2023:7.2",
        set_b="beta-2023",
        text_b="B",
        score=0.41,
        margin=0.01,
        together=False,
        standard_a="QS-001",
        standard_b="QS-002",
        why="close to the threshold",
    )
    book = load_workbook(io.BytesIO(render_review_xlsx([row])))
    book[REVIEW_SHEET][f"{letter['decision']}2"] = "same"
    book[REVIEW_SHEET][f"{letter['by']}2"] = "QA lead"
    workbook = tmp_path / "review.xlsx"
    book.save(workbook)
    before = _snapshot(mappings)
    result = runner.invoke(
        app,
        ["review", "-s", str(standards), "-m", str(mappings), "--apply", str(workbook), "--dry-run", "-q"],
        catch_exceptions=False,
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "added must-link   │         1" in result.output
    assert "compared with the framework without them" in result.output
    assert f"Nothing written (--dry-run): {mappings / OVERRIDES_FILE} unchanged." in result.output
    assert _snapshot(mappings) == before and not (mappings / OVERRIDES_FILE).exists()


def test_dry_run_without_apply_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["review", "--dry-run"])
    assert result.exit_code == 2
    assert "error: --dry-run: --dry-run goes with --apply" in result.stderr


def test_a_tracker_with_domain_sheets_named_the_old_way_is_still_ours(tmp_path: Path) -> None:
    from qms_standards.export import render_tracker
    from qms_standards.tracker import read_tracker

    book = load_workbook(io.BytesIO(render_tracker(load_framework(DATA / "framework-small.yaml"))))
    book["D1 Leadership, governance"].title = "D1 Leadership, governance and a"  # cut at 31 characters
    path = tmp_path / "old.xlsx"
    book.save(path)
    assert read_tracker(path).additions == ()


def test_a_new_statement_is_a_rewording() -> None:
    v1 = load_framework(V1)
    first = v1.standards[0]
    changed = v1.model_copy(
        update={"standards": (first.model_copy(update={"statement": "New words."}), *v1.standards[1:])}
    )
    (change,) = preview_run(v1, changed).changes
    assert (change.kind, change.standard) == ("reworded", first.id)


def test_related_links_that_would_come_or_go_are_a_change(tmp_path: Path, fake_model: None) -> None:
    standards, mappings = make_tree(tmp_path)
    out = tmp_path / "framework"
    assert _consolidate(standards, mappings, out, "--related-threshold", "0.0").exit_code == 0
    current = load_framework(out / "framework.yaml")
    listed = sum(len(s.related) for s in current.standards)
    assert listed > 0
    bare = current.model_copy(
        update={"standards": tuple(s.model_copy(update={"related": ()}) for s in current.standards)}
    )
    assert (preview_run(current, bare).related_added, preview_run(current, bare).related_removed) == (
        0,
        listed,
    )
    assert (preview_run(bare, current).related_added, preview_run(bare, current).unchanged) == (listed, False)
    again = _consolidate(standards, mappings, out, "--dry-run")  # at the calibrated cut: fewer links
    assert again.exit_code == 0, again.output
    assert "No standard would change" not in again.output
    match = re.search(r"Related links: (\d+) added, (\d+) removed", " ".join(again.output.split()))
    assert match is not None and int(match.group(2)) > 0, again.output
