"""Human review: ranked review rows, the workbook, applying decisions to overrides.yaml, explain, and the
measured effect of a review on a gold crosswalk."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import DATA, FakeEmbedder
from engine_helpers import make_tree, run
from qms_standards.cli import ExitCode, app
from qms_standards.errors import MappingError, QmsError
from qms_standards.explain import explain
from qms_standards.files import dump_model
from qms_standards.load import LOCK_FILE, OVERRIDES_FILE, load_mappings
from qms_standards.models import Exclusion, Link, Overrides, Settings
from qms_standards.overrides_edit import (
    OVERRIDES_HEADER,
    add_links,
    apply_review,
    plan_decisions,
    read_review,
)
from qms_standards.review import (
    COLUMNS,
    FORMAT_MARKER,
    META_SHEET,
    REVIEW_SHEET,
    ReviewRow,
    rank_candidates,
    render_review_markdown,
    render_review_xlsx,
    review_candidates,
)
from qms_standards.review_eval import gold_answer, simulate_review
from qms_standards.similarity import Item, PairScores

runner = CliRunner()
HAND_WRITTEN = DATA / "review" / "overrides.yaml"
GOLD = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "iso27001-2013-vs-2022.yaml"
LETTER = {key: chr(ord("A") + n) for n, (key, _, _) in enumerate(COLUMNS)}
TODAY = "2025-02-03"


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)  # explain and review read ./framework/framework.yaml when there is one
    return make_tree(tmp_path)


def _refs(standards: Path) -> set[str]:
    from qms_standards.load import load_standard_sets

    return {s.set.ref(r) for s in load_standard_sets([standards]) for r in s.set.requirements}


def _row(rank: int, a: str, b: str) -> ReviewRow:
    return ReviewRow(
        rank=rank,
        kind="boundary",
        ref_a=a,
        set_a=a.split(":")[0],
        text_a="A text",
        ref_b=b,
        set_b=b.split(":")[0],
        text_b="B text",
        score=0.41,
        margin=0.01,
        together=False,
        standard_a="QS-001",
        standard_b="QS-002",
        why="close to the threshold",
    )


def _workbook(path: Path, rows: list[ReviewRow], decisions: dict[int, tuple[str, ...]]) -> Path:
    """Write a review workbook and fill rows (by rank): (decision, by, reason), as a person would."""
    book = load_workbook(io.BytesIO(render_review_xlsx(rows)))
    sheet = book[REVIEW_SHEET]
    for rank, values in decisions.items():
        for key, value in zip(("decision", "by", "reason"), values, strict=False):
            sheet[f"{LETTER[key]}{rank + 1}"] = value
    book.save(path)
    return path


# --- Review rows ----------------------------------------------------------------------------------


def test_review_rows_are_ranked_deterministic_and_each_pair_once(tree: tuple[Path, Path]) -> None:
    first = review_candidates(run(*tree), Overrides(), 12)
    again = review_candidates(run(*tree), Overrides(), 12)
    assert first == again
    assert [r.rank for r in first] == list(range(1, 13))
    assert [r.margin for r in first] == sorted(r.margin for r in first)
    assert len({(r.ref_a, r.ref_b) for r in first}) == 12
    assert all(r.ref_a < r.ref_b for r in first)
    top = first[0]
    assert top.kind in ("weak-member", "near-miss", "boundary")
    assert top.together == (top.standard_a == top.standard_b)
    assert top.text_a
    boundary = next(r for r in first if r.kind == "boundary" and not r.together)
    assert boundary.set_a != boundary.set_b and boundary.standard_a != boundary.standard_b
    # Two standards are described by their average; two single requirements by their pair's score.
    assert boundary.why.startswith(
        (f"{boundary.standard_a} and {boundary.standard_b} average", f"score {boundary.score:.3f}")
    )


def test_pairs_decided_in_overrides_are_not_listed(tree: tuple[Path, Path]) -> None:
    consolidation = run(*tree)
    rows = review_candidates(consolidation, Overrides(), 50)
    a, b = rows[0], rows[1]
    overrides = Overrides(
        must_link=(
            Link(refs=(a.ref_a, "zzz:1")),
            Link(refs=("zzz:1", a.ref_b)),
        ),  # joined through another ref
        cannot_link=(Link(refs=(b.ref_b, b.ref_a)),),
    )
    listed = {(r.ref_a, r.ref_b) for r in review_candidates(consolidation, overrides, 50)}
    assert (a.ref_a, a.ref_b) not in listed and (b.ref_a, b.ref_b) not in listed
    assert len(listed) == len(rows) - 2


def _scores(items: list[Item], table: dict[tuple[int, int], float]) -> PairScores:
    i, j = np.triu_indices(len(items), k=1)
    score = np.array([table.get((a, b), 0.0) for a, b in zip(i.tolist(), j.tolist(), strict=True)])
    zero = np.zeros(len(i))
    local, no = np.zeros(len(items)), np.zeros(len(i), dtype=bool)
    parts = (zero, zero, zero, zero, zero)
    return PairScores(len(items), i, j, score, *parts, True, score, zero, zero, zero, zero, local, no, no)


def test_rank_candidates_margins_by_kind() -> None:
    pairs = (("a", 1), ("a", 2), ("b", 1), ("b", 2), ("c", 1), ("d", 1))
    items = [Item(ref=f"{s}:{n}", set_id=s, req_id=str(n), title="t", text="t") for s, n in pairs]
    table = {(0, 2): 0.9, (0, 3): 0.5, (2, 3): 0.4, (1, 3): 0.38, (1, 2): 0.1, (4, 5): 0.41}
    clusters = [[0, 2, 3], [1], [4], [5]]  # b:2 is held in S1 by its mean 0.45 (0.5 with a:1, 0.4 with b:1)
    standard_of = ["S1", "S2", "S1", "S1", "S3", "S4"]
    rows = rank_candidates(items, _scores(items, table), clusters, standard_of, 0.4, lambda a, b: False, 10)
    assert [(r.kind, r.ref_a, r.ref_b, r.margin, r.together) for r in rows] == [
        ("boundary", "c:1", "d:1", 0.01, False),  # two singletons: their score 0.41 against 0.4
        ("weak-member", "b:1", "b:2", 0.05, True),  # the weakest pair; b:2 averages 0.45
        ("near-miss", "a:2", "b:2", 0.07, False),  # 0.38 with a:2 against 0.45 at home; as a boundary
        # row (S1 and S2 average (0 + 0.1 + 0.38) / 3 = 0.16) its margin would be 0.24
        ("near-miss", "a:2", "b:1", 0.55, False),  # a:1 has nothing above 0 elsewhere: not listed
    ]
    assert rows[0].why == "score 0.410, threshold 0.4"
    assert (
        rank_candidates(items, _scores(items, table), clusters, standard_of, 0.4, lambda a, b: False, 2)
        == rows[:2]
    )
    decided = rank_candidates(
        items, _scores(items, table), clusters, standard_of, 0.4, lambda a, b: a == "c:1", 9
    )
    assert [r.ref_a for r in decided] == ["b:1", "a:2", "a:2"]


# --- The workbook and the Markdown ----------------------------------------------------------------


def test_review_workbook_has_a_decision_dropdown_and_is_byte_stable(tree: tuple[Path, Path]) -> None:
    rows = review_candidates(run(*tree), Overrides(), 5)
    data = render_review_xlsx(rows)
    assert data == render_review_xlsx(rows)
    book = load_workbook(io.BytesIO(data))
    sheet = book[REVIEW_SHEET]
    assert [c.value for c in sheet[1]] == [header for _, header, _ in COLUMNS]
    assert sheet["C2"].value == rows[0].ref_a and sheet["F2"].value == rows[0].ref_b
    assert (
        sheet["K2"].value == ("yes" if rows[0].together else "no") and sheet["L2"].value == rows[0].standard_a
    )
    validation = sheet.data_validations.dataValidation[0]
    assert validation.formula1 == '"same,different,skip"'
    assert str(validation.sqref) == "O2:O6"
    assert book[META_SHEET]["B1"].value == FORMAT_MARKER and book[META_SHEET].sheet_state == "hidden"


def test_unfilled_workbook_reads_back_as_all_skip(tmp_path: Path, tree: tuple[Path, Path]) -> None:
    rows = review_candidates(run(*tree), Overrides(), 3)
    path = tmp_path / "review.xlsx"
    path.write_bytes(render_review_xlsx(rows))
    decisions = read_review(path)
    assert [(d.cell, d.decision) for d in decisions] == [
        ("Review!O2", "skip"),
        ("Review!O3", "skip"),
        ("Review!O4", "skip"),
    ]


def test_review_markdown(tree: tuple[Path, Path]) -> None:
    rows = [_row(1, "alpha-2020:7.2", "gamma-2024:safe/staffing")]
    rows[0] = rows[0].model_copy(update={"text_a": "Pipes | and\nnewlines"})
    text = render_review_markdown(rows)
    assert text.startswith("# Review: decisions worth a person's time\n")
    assert (
        "| 1 | boundary | `alpha-2020:7.2`: Pipes \\| and newlines | `gamma-2024:safe/staffing`: B text | "
        "0.410 | no (QS-001 / QS-002) | close to the threshold |  |"
    ) in text


def test_bad_cells_are_reported_with_sheet_and_cell(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "r.xlsx",
        [_row(1, "a:1", "b:1"), _row(2, "a:2", "b:2")],
        {1: ("maybe",), 2: ("same", "x" * 501)},
    )
    with pytest.raises(QmsError) as caught:
        read_review(path)
    assert [p.render() for p in caught.value.problems] == [
        f"{path}: Review!O2: decision is 'maybe'",
        f"{path}: Review!P3: by is 501 characters long",
    ]
    other = tmp_path / "other.xlsx"
    book = load_workbook(io.BytesIO(render_review_xlsx([])))
    del book[META_SHEET]
    book.save(other)
    with pytest.raises(QmsError, match="not a qms review workbook"):
        read_review(other)


# --- Applying decisions ---------------------------------------------------------------------------


def test_apply_round_trip_keeps_hand_written_entries_byte_for_byte(tmp_path: Path, tree) -> None:
    standards, mappings = tree
    shutil.copy(HAND_WRITTEN, mappings / OVERRIDES_FILE)
    rows = [
        _row(1, "alpha-2020:10.2", "beta-2023:10.2"),
        _row(2, "alpha-2020:8.7", "beta-2023:8.12"),
        _row(3, "beta-2023:4.1", "gamma-2024:safe/learning"),
        _row(4, "alpha-2020:7.2", "beta-2023:7.2"),
    ]
    workbook = _workbook(
        tmp_path / "review.xlsx",
        rows,
        {1: ("same", "Sam", "Both: corrective action"), 2: ("Different",), 3: ("skip",), 4: ("same",)},
    )
    result = apply_review(workbook, mappings, _refs(standards), by="Lead", date=TODAY)
    assert [(o.cell, o.result) for o in result.outcomes] == [
        ("Review!O2", "added must-link"),
        ("Review!O3", "added cannot-link"),
        ("Review!O4", "skipped"),
        ("Review!O5", "already present"),
    ]
    added_must = (
        "  - refs: [alpha-2020:10.2, beta-2023:10.2]\n    reason: 'Both: corrective action'\n"
        "    by: Sam\n    date: '2025-02-03'\n"
    )
    added_cannot = "  - refs: [alpha-2020:8.7, beta-2023:8.12]\n    by: Lead\n    date: '2025-02-03'\n"
    assert result.text is not None and added_must in result.text and added_cannot in result.text
    original = HAND_WRITTEN.read_text()
    assert result.text.replace(added_must, "").replace(added_cannot, "") == original
    # The new entries sit at the end of their lists, above the next section's comment.
    assert (
        result.text.index(added_must) < result.text.index("# Cannot-link") < result.text.index(added_cannot)
    )
    (mappings / OVERRIDES_FILE).write_text(result.text)
    overrides = load_mappings(mappings, _refs(standards)).overrides
    assert overrides.must_link[1] == Link(
        refs=("alpha-2020:10.2", "beta-2023:10.2"), by="Sam", date=TODAY, reason="Both: corrective action"
    )
    assert overrides.cannot_link[1] == Link(refs=("alpha-2020:8.7", "beta-2023:8.12"), by="Lead", date=TODAY)


def test_apply_creates_overrides_with_a_header(tmp_path: Path, tree) -> None:
    standards, mappings = tree
    workbook = _workbook(
        tmp_path / "review.xlsx", [_row(1, "beta-2023:4.1", "alpha-2020:4.1")], {1: ("same",)}
    )
    with pytest.raises(QmsError) as caught:  # nobody named: an auditor could not tell who decided
        apply_review(workbook, mappings, _refs(standards), by=None, date=TODAY)
    assert [(p.field, p.message) for p in caught.value.problems] == [("Review!P2", "who decided is missing")]
    result = apply_review(workbook, mappings, _refs(standards), by="QA lead", date=TODAY)
    assert result.text == (
        OVERRIDES_HEADER
        + "must_link:\n  - refs: [alpha-2020:4.1, beta-2023:4.1]\n    by: QA lead\n    date: '2025-02-03'\n"
    )


def test_nothing_to_apply_leaves_the_text_alone(tmp_path: Path, tree) -> None:
    standards, mappings = tree
    workbook = _workbook(tmp_path / "review.xlsx", [_row(1, "beta-2023:4.1", "alpha-2020:4.1")], {})
    result = apply_review(workbook, mappings, _refs(standards), by=None, date=TODAY)
    assert result.text is None and result.count("skipped") == 1
    assert add_links("a: 1\n", [], []) == "a: 1\n"


def test_add_links_keeps_another_indentation_and_comment_only_files() -> None:
    text = "must_link:\n- refs: [a:1, b:2]   # why\n  by: Me\n\n# the end\n"
    out = add_links(text, [Link(refs=("c:1", "d:2"), date=TODAY)], [])
    kept, added = (
        "must_link:\n- refs: [a:1, b:2]   # why\n  by: Me\n",
        "- refs: [c:1, d:2]\n  date: '2025-02-03'\n",
    )
    assert out == kept + added + "\n# the end\n"
    link = Link(refs=("c:1", "d:2"))
    assert (
        add_links("---\n# top\nmust_link: []\n", [link], [])
        == "---\n# top\nmust_link:\n  - refs: [c:1, d:2]\n"
    )
    assert add_links("", [link], []) == "must_link:\n  - refs: [c:1, d:2]\n"
    out = add_links("# nothing yet\n", [], [Link(refs=("c:1", "d:2"), date=TODAY)])
    assert out == "# nothing yet\ncannot_link:\n  - refs: [c:1, d:2]\n    date: '2025-02-03'\n"


def _plan(rows: list[ReviewRow], decisions: dict[int, tuple[str, ...]], overrides: Overrides, tmp_path: Path):
    path = _workbook(tmp_path / "review.xlsx", rows, decisions)
    refs = ({r.ref_a for r in rows} | {r.ref_b for r in rows} | {"c:1", "x:1"}) - {"nope:1"}
    return plan_decisions(read_review(path), overrides, refs, workbook=path), path


def test_pair_marked_both_same_and_different_is_an_error(tmp_path: Path) -> None:
    rows = [_row(1, "a:1", "b:1"), _row(2, "b:1", "a:1")]
    with pytest.raises(QmsError) as caught:
        _plan(rows, {1: ("same",), 2: ("different",)}, Overrides(), tmp_path)
    problem = caught.value.problems[0]
    assert problem.field == "Review!O3"
    assert problem.render() == (
        f"{tmp_path / 'review.xlsx'}: Review!O3: a:1 / b:1 marked 'different' here but 'same' at Review!O2"
    )


def test_different_between_refs_joined_by_must_links_is_an_error(tmp_path: Path) -> None:
    rows = [_row(1, "a:1", "b:1"), _row(2, "a:1", "c:1")]
    overrides = Overrides(must_link=(Link(refs=("b:1", "c:1")),))
    with pytest.raises(QmsError) as caught:
        _plan(rows, {1: ("same",), 2: ("different",)}, overrides, tmp_path)
    assert (
        caught.value.problems[0]
        .render()
        .endswith(
            "Review!O3: 'different' for a:1 / c:1, but must-links join them "
            "(overrides.yaml must_link[0], Review!O2)"
        )
    )


def test_same_against_an_existing_cannot_link_is_an_error(tmp_path: Path) -> None:
    rows = [_row(1, "a:1", "b:1"), _row(2, "b:1", "c:1")]
    overrides = Overrides(cannot_link=(Link(refs=("a:1", "c:1", "x:1")),))
    with pytest.raises(QmsError) as caught:
        _plan(rows, {1: ("same",), 2: ("same",)}, overrides, tmp_path)
    assert [p.render().split(": ", 1)[1] for p in caught.value.problems] == [
        "Review!O3: 'same' for b:1 / c:1 contradicts overrides.yaml cannot_link[0], which keeps them apart"
    ]


def test_unknown_and_excluded_refs_are_errors(tmp_path: Path) -> None:
    rows = [_row(1, "a:1", "nope:1"), _row(2, "a:1", "c:1")]
    overrides = Overrides(exclude=(Exclusion(ref="c:1", reason="out of scope"),))
    with pytest.raises(QmsError) as caught:
        _plan(rows, {1: ("same",), 2: ("different",)}, overrides, tmp_path)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("Review!F2", "'nope:1' is not a requirement in the loaded sets"),  # the cell of the bad ref
        ("Review!F3", "'c:1' is excluded"),
    ]


def test_existing_overrides_that_do_not_load_stop_the_apply(tmp_path: Path, tree) -> None:
    standards, mappings = tree
    (mappings / OVERRIDES_FILE).write_text("must_link:\n  - refs: [alpha-2020:7.2, nope:1]\n")
    workbook = _workbook(
        tmp_path / "review.xlsx", [_row(1, "alpha-2020:4.1", "beta-2023:4.1")], {1: ("same",)}
    )
    with pytest.raises(MappingError):
        apply_review(workbook, mappings, _refs(standards), by=None, date=TODAY)
    with pytest.raises(QmsError, match="not an ISO date"):
        apply_review(workbook, mappings, _refs(standards), by=None, date="03/02/2025")


# --- Re-consolidation honours the decisions -------------------------------------------------------


def test_decisions_are_hard_constraints_and_untouched_ids_stay(tmp_path: Path, tree) -> None:
    standards, mappings = tree
    before = run(standards, mappings)
    (mappings / LOCK_FILE).write_text(dump_model(before.lock))
    home = {s.ref: st.id for st in before.framework.standards for s in st.sources}
    # A pair the engine keeps apart is joined, and a pair it keeps together is split.
    shared = next(st for st in before.framework.standards if len(st.sources) >= 2)
    split = (shared.sources[0].ref, shared.sources[1].ref)
    others = [st for st in before.framework.standards if st.id != shared.id]
    joined = (others[0].sources[0].ref, others[1].sources[0].ref)
    assert home[joined[0]] != home[joined[1]] and home[split[0]] == home[split[1]]
    workbook = _workbook(
        tmp_path / "review.xlsx",
        [_row(1, *joined), _row(2, *split)],
        {1: ("same", "QA lead", "Both are about nonconformity"), 2: ("different",)},
    )
    result = apply_review(workbook, mappings, _refs(standards), by="Head of quality", date=TODAY)
    assert result.text is not None
    (mappings / OVERRIDES_FILE).write_text(result.text)
    after = run(standards, mappings)
    placed = {s.ref: st.id for st in after.framework.standards for s in st.sources}
    assert placed[joined[0]] == placed[joined[1]]
    assert placed[split[0]] != placed[split[1]]
    touched = {home[r] for r in (*joined, *split)}
    untouched = {
        st.id: {s.ref for s in st.sources} for st in before.framework.standards if st.id not in touched
    }
    # Ids follow members: an untouched standard whose members still share one standard keeps its id there.
    home_after = {s.ref: st.id for st in after.framework.standards for s in st.sources}
    kept = {sid: refs for sid, refs in untouched.items() if len({home_after[r] for r in refs}) == 1}
    assert kept and len(kept) >= len(untouched) // 2
    assert all(home_after[next(iter(refs))] == sid for sid, refs in kept.items())
    # The pairs are decided now, so the next review does not list them again.
    listed = {(r.ref_a, r.ref_b) for r in review_candidates(after, after_overrides(mappings, standards), 100)}
    assert joined not in listed and split not in listed


def after_overrides(mappings: Path, standards: Path) -> Overrides:
    return load_mappings(mappings, _refs(standards)).overrides


# --- Explain --------------------------------------------------------------------------------------


def test_explain_names_standard_neighbours_parts_constraints_and_members(tree) -> None:
    consolidation = run(*tree)
    overrides = Overrides(cannot_link=(Link(refs=("alpha-2020:7.2", "beta-2023:8.12"), by="Jo", reason="r"),))
    e = explain(consolidation, overrides, "alpha-2020:7.2", neighbours=3)
    home = next(
        st for st in consolidation.framework.standards if "alpha-2020:7.2" in {s.ref for s in st.sources}
    )
    assert (e.standard, e.standard_title, e.domain) == (home.id, home.title, home.domain)
    mates = {s.ref for s in home.sources} - {"alpha-2020:7.2"}
    assert len(e.neighbours) == 3 and [n.score for n in e.neighbours] == sorted(
        (n.score for n in e.neighbours), reverse=True
    )
    assert all(n.same_standard == (n.ref in mates) for n in e.neighbours)
    assert e.neighbours[0].ref in mates  # its nearest requirement shares its standard
    first = e.neighbours[0]
    scores = consolidation.scores
    k = next(
        k
        for k in range(len(scores.i))
        if {consolidation.items[scores.i[k]].ref, consolidation.items[scores.j[k]].ref} == {e.ref, first.ref}
    )
    parts = ("score", "cosine", "title_cosine", "fuzzy", "title", "structure")
    assert (
        first.score,
        first.cosine,
        first.title_cosine,
        first.fuzzy,
        first.title_ratio,
        first.structure,
    ) == tuple(round(float(getattr(scores, f)[k]), 4) for f in parts)
    assert {m.ref for m in e.members} == mates
    assert e.cohesion == round(sum(m.score for m in e.members) / len(e.members), 4)
    assert [(c.kind, c.refs, c.by) for c in e.constraints] == [
        ("cannot-link", ("alpha-2020:7.2", "beta-2023:8.12"), "Jo")
    ]
    with pytest.raises(QmsError, match="'nope:1' is not a requirement"):
        explain(consolidation, overrides, "nope:1")


def test_explain_an_excluded_requirement(tree) -> None:
    standards, mappings = tree
    (mappings / OVERRIDES_FILE).write_text(
        "exclude:\n  - ref: gamma-2024:caring/kindness\n    reason: Out of scope\n"
    )
    consolidation = run(standards, mappings)
    overrides = after_overrides(mappings, standards)
    e = explain(consolidation, overrides, "gamma-2024:caring/kindness")
    assert e.standard is None and e.neighbours == () and e.members == ()
    assert [(c.kind, c.reason) for c in e.constraints] == [("exclude", "Out of scope")]


def test_explain_lists_the_standards_besides_its_home_that_partly_cover_it(tree) -> None:
    consolidation = run(*tree, Settings(related_threshold=0.3))
    e = explain(consolidation, Overrides(), "gamma-2024:safe/learning", neighbours=20)
    home = next(s for s in consolidation.framework.standards if s.id == e.standard)
    assert e.related and all(r.standard != home.id for r in e.related)
    listing = [
        (s.id, link.relationship, link.strength, link.similarity)
        for s in consolidation.framework.standards
        for link in s.related
        if link.ref == e.ref
    ]
    assert sorted((r.standard, r.relationship, r.strength, r.fit) for r in e.related) == sorted(listing)
    assert [r.fit for r in e.related] == sorted((r.fit for r in e.related), reverse=True)
    # The fit is the mean score to that standard's members, the scores explain shows for each neighbour.
    for r in e.related:
        members = [n.score for n in e.neighbours if n.standard == r.standard]
        related = next(s for s in consolidation.framework.standards if s.id == r.standard)
        assert len(members) == len(related.sources)
        assert r.fit == pytest.approx(sum(members) / len(members), abs=1e-3)
    assert e.related_threshold == 0.3
    assert explain(run(*tree), Overrides(), "gamma-2024:safe/learning").related == ()


# --- CLI ------------------------------------------------------------------------------------------


def _cli(*args: str, catch: bool = False):
    return runner.invoke(app, list(args), catch_exceptions=catch)


def test_cli_review_lists_and_writes_the_workbook(tmp_path: Path, tree, fake_model: None) -> None:
    standards, mappings = tree
    out = tmp_path / "review.xlsx"
    result = _cli(
        "review", "-s", str(standards), "-m", str(mappings), "--out", str(out), "--limit", "4", "-q"
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert "4 pair(s) to review, most uncertain first" in result.output
    assert f"wrote {out}" in result.output
    assert len(read_review(out)) == 4
    assert not (mappings / LOCK_FILE).exists()  # reviewing writes nothing under mappings/
    md = tmp_path / "review.md"
    result = _cli("review", "-s", str(standards), "-m", str(mappings), "--markdown", str(md), "-q")
    assert result.exit_code == ExitCode.OK, result.output
    assert md.read_text().count("\n| ") == 1 + len(review_candidates(run(*tree), Overrides(), 50))


def test_cli_review_refuses_to_overwrite_unapplied_decisions(tmp_path: Path, tree, fake_model: None) -> None:
    standards, mappings = tree
    out = _workbook(tmp_path / "review.xlsx", [_row(1, "alpha-2020:4.1", "beta-2023:4.1")], {1: ("same",)})
    result = _cli("review", "-s", str(standards), "-m", str(mappings), "--out", str(out), "-q")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert f"error: {out}: holds 1 decision(s) not yet applied; refusing to overwrite" in result.output
    applied = _cli(
        "review",
        "-s",
        str(standards),
        "-m",
        str(mappings),
        "--apply",
        str(out),
        "--date",
        TODAY,
        "--by",
        "Jo",
    )
    assert applied.exit_code == ExitCode.OK, applied.output
    result = _cli("review", "-s", str(standards), "-m", str(mappings), "--out", str(out), "-q")
    assert result.exit_code == ExitCode.OK, result.output  # every decision in it is applied now
    (tmp_path / "other.xlsx").write_bytes(b"not a workbook")
    result = _cli("review", "-s", str(standards), "-m", str(mappings), "--out", str(tmp_path / "other.xlsx"))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "exists and is not a clean qms review workbook" in result.output
    result = _cli(
        "review", "-s", str(standards), "-m", str(mappings), "-o", str(tmp_path / "other.xlsx"), "--force"
    )
    assert result.exit_code == ExitCode.OK, result.output


def test_cli_review_option_errors(tmp_path: Path, tree, fake_model: None) -> None:
    standards, mappings = tree
    base = ("review", "-s", str(standards), "-m", str(mappings), "-q")
    result = _cli(*base, "--out", "a.xlsx", "--markdown", "a.md")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "error: --markdown: --out and --markdown cannot be used together" in result.output
    result = _cli(*base, "--apply", "a.xlsx", "--limit", "3")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "error: --apply: --apply cannot be combined with --limit" in result.output
    result = _cli(*base, "--by", "me")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "error: --by: --by and --date go with --apply" in result.output


def test_cli_apply_writes_overrides_and_reports(tmp_path: Path, tree, fake_model: None) -> None:
    standards, mappings = tree
    shutil.copy(HAND_WRITTEN, mappings / OVERRIDES_FILE)
    workbook = _workbook(
        tmp_path / "review.xlsx",
        [
            _row(1, "alpha-2020:10.2", "beta-2023:10.2"),
            _row(2, "alpha-2020:8.7", "beta-2023:8.12"),
            _row(3, "alpha-2020:4.1", "beta-2023:4.1"),
        ],
        {1: ("same",), 2: ("different",)},
    )
    result = _cli(
        "review", "-s", str(standards), "-m", str(mappings), "--apply", str(workbook), "--by", "QA lead"
    )
    assert result.exit_code == ExitCode.OK, result.output
    text = (mappings / OVERRIDES_FILE).read_text()
    assert f"    by: QA lead\n    date: '{date.today().isoformat()}'\n" in text
    for line in (
        "added must-link   │         1",
        "added cannot-link │         1",
        "skipped           │         1",
        "already present   │         0",
        f"wrote {mappings / OVERRIDES_FILE}",
    ):
        assert line in result.output
    again = _cli("review", "-s", str(standards), "-m", str(mappings), "--apply", str(workbook))
    assert again.exit_code == ExitCode.OK, again.output
    assert "already present   │         2" in again.output and "unchanged" in again.output
    assert (mappings / OVERRIDES_FILE).read_text() == text


def test_cli_apply_conflict_is_exit_2_and_writes_nothing(tmp_path: Path, tree, fake_model: None) -> None:
    standards, mappings = tree
    shutil.copy(HAND_WRITTEN, mappings / OVERRIDES_FILE)
    workbook = _workbook(
        tmp_path / "review.xlsx", [_row(1, "beta-2023:7.2", "alpha-2020:7.2")], {1: ("different",)}
    )
    result = _cli("review", "-s", str(standards), "-m", str(mappings), "--apply", str(workbook))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert (
        f"error: {workbook}: Review!O2: 'different' for alpha-2020:7.2 / beta-2023:7.2, but must-links join "
        "them (overrides.yaml must_link[0])"
    ) in result.output
    assert (mappings / OVERRIDES_FILE).read_bytes() == HAND_WRITTEN.read_bytes()


def test_cli_explain(tree, fake_model: None) -> None:
    standards, mappings = tree
    result = _cli(
        "explain", "alpha-2020:7.2", "-s", str(standards), "-m", str(mappings), "-q", "--neighbours", "2"
    )
    assert result.exit_code == ExitCode.OK, result.output
    for text in (
        "alpha-2020:7.2",
        "Nearest 2 requirement(s)",
        "Other members of QS-",
        "No overrides name alpha-2020:7.2.",
    ):
        assert text in result.output
    assert re.search(r"QS-\d{3} .+ \(domain D\d\)", result.output)
    result = _cli("explain", "nope:1", "-s", str(standards), "-m", str(mappings), "-q")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "error: ref: 'nope:1' is not a requirement in the loaded standard sets" in result.output


def test_cli_explain_shows_related_links(tmp_path: Path, tree, fake_model: None) -> None:
    standards, mappings = tree
    args = ("explain", "gamma-2024:safe/learning", "-s", str(standards), "-m", str(mappings), "-q")
    result = _cli(*args)
    assert result.exit_code == ExitCode.OK, result.output
    assert (
        "No other standard partly covers gamma-2024:safe/learning (a related link needs a fit of at least"
        " 0.55)" in (" ".join(result.output.split()))
    )
    # Built with a lower related cut, the framework's explain uses it (read from ./framework/framework.yaml).
    built = _cli("consolidate", "-s", str(standards), "-m", str(mappings), "-q", "--related-threshold", "0.3")
    assert built.exit_code == ExitCode.OK, built.output
    assert (tmp_path / "framework" / "framework.yaml").exists()
    result = _cli(*args)
    assert result.exit_code == ExitCode.OK, result.output
    e = explain(run(*tree, Settings(related_threshold=0.3)), Overrides(), "gamma-2024:safe/learning")
    text = " ".join(result.output.split())
    assert f"Also partly covered by (besides {e.standard})" in text
    for r in e.related:
        assert f"{r.standard} │ {r.domain} │ {r.relationship} │ {r.strength} │ {r.fit:.3f}" in text
    # --framework names another framework; one that does not exist means the defaults.
    elsewhere = _cli(*args, "--framework", str(tmp_path / "none.yaml"))
    assert "a related link needs a fit of at least 0.55" in " ".join(elsewhere.output.split())


def test_cli_explain_refuses_a_framework_it_cannot_read(tmp_path: Path, tree, fake_model: None) -> None:
    standards, mappings = tree
    broken = tmp_path / "broken.yaml"
    broken.write_text("framework: [unclosed\n")
    result = _cli(
        "explain",
        "alpha-2020:7.2",
        "-s",
        str(standards),
        "-m",
        str(mappings),
        "-q",
        "--framework",
        str(broken),
    )
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert str(broken) in " ".join(result.output.split())


# --- Measuring a review against the gold crosswalk ------------------------------------------------


def test_gold_answers() -> None:
    assert [gold_answer(r) for r in ("equal", None, "subset", "superset", "intersect")] == [
        "same",
        "different",
        "different",
        "different",
        "different",
    ]
    assert gold_answer("subset", partial="skip") == "skip"


@pytest.mark.skipif(not GOLD.exists(), reason="shared/eval gold crosswalk not present")
def test_simulated_review_with_the_fake_embedder_counts_answers() -> None:
    from qms_standards.evaluate import load_gold

    result = simulate_review(load_gold(GOLD), Settings(), FakeEmbedder(), answers=(5, 10))
    assert result.before.answers == 0 and [s.answers for s in result.after] == [5, 10]
    assert all(s.same + s.different + s.skipped == s.answers for s in result.after)


@pytest.mark.slow
@pytest.mark.skipif(not GOLD.exists(), reason="shared/eval gold crosswalk not present")
def test_review_of_20_and_50_rows_does_not_lower_strict_f1() -> None:
    from qms_standards.embedding import EmbeddingCache, SentenceTransformerEmbedder, default_cache_dir
    from qms_standards.evaluate import load_gold

    settings = Settings()
    result = simulate_review(
        load_gold(GOLD),
        settings,
        SentenceTransformerEmbedder(),
        EmbeddingCache(default_cache_dir(), settings.model),
        answers=(20, 50),
    )
    after20, after50 = result.after
    print(f"strict pairwise F1: before {result.before.f1}, after 20 {after20.f1}, after 50 {after50.f1}")
    assert result.before.f1 >= 0.9  # the calibrated engine
    assert after20.f1 >= result.before.f1 and after50.f1 >= after20.f1
    assert after50.f1 > result.before.f1


def test_review_and_explain_on_the_nearest_neighbour_path(tree: tuple[Path, Path]) -> None:
    consolidation = run(*tree, Settings(exact_pairs_limit=2, neighbours=2))
    assert not consolidation.scores.exact
    rows = review_candidates(consolidation, Overrides(), 10)
    assert rows and [r.margin for r in rows] == sorted(r.margin for r in rows)
    e = explain(consolidation, Overrides(), "alpha-2020:7.2", neighbours=20)
    assert len(e.neighbours) == 10  # every other requirement; unscored pairs count 0, as in clustering
    assert e.neighbours[-1].score == 0.0 and e.neighbours[-1].cosine == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_a_short_list_is_the_head_of_the_long_one(seed: int) -> None:
    """Each kind stops after `limit` rows; that must not change which rows make the list."""
    from qms_standards.cluster import cluster_requirements

    rng = np.random.default_rng(seed)
    items = [
        Item(ref=f"s{k % 3}:{k:02d}", set_id=f"s{k % 3}", req_id=str(k), title="t", text="t")
        for k in range(14)
    ]
    items.sort(key=lambda it: it.ref)
    scores = _scores(items, {(a, b): float(rng.uniform(0, 1)) for a in range(14) for b in range(a + 1, 14)})
    pairs = zip(scores.i.tolist(), scores.j.tolist(), scores.score.tolist(), strict=True)
    clusters = cluster_requirements(14, pairs, threshold=0.6)
    standard_of = [f"S{n}" for k in range(14) for n, c in enumerate(clusters) if k in c]
    decided = {frozenset((items[0].ref, items[1].ref)), frozenset((items[2].ref, items[5].ref))}

    def ranked(limit: int) -> list[ReviewRow]:
        return rank_candidates(
            items, scores, clusters, standard_of, 0.6, lambda a, b: {a, b} in decided, limit
        )

    full = ranked(1000)
    assert all({r.ref_a, r.ref_b} not in decided for r in full)
    for limit in (1, 3, 8):
        assert ranked(limit) == full[:limit]


def test_explained_parts_add_up_to_the_score(tree) -> None:
    consolidation = run(*tree)
    e = explain(consolidation, Overrides(), "alpha-2020:7.2", neighbours=20)
    w, engine = Settings().weights, Settings()
    g = engine.grouping
    assert e.formula.startswith("score = 0.5 + blend - local")
    assert any(n.same_set for n in e.neighbours) and any(not n.same_set for n in e.neighbours)
    assert any(n.same_clause for n in e.neighbours)
    # The closest other standards, by mean score to their members, best first, the home left out.
    assert e.closest and all(c.standard != e.standard for c in e.closest)
    assert [c.fit for c in e.closest] == sorted((c.fit for c in e.closest), reverse=True)
    members = {s.id: [x.ref for x in s.sources] for s in consolidation.framework.standards}
    index = {it.ref: k for k, it in enumerate(consolidation.items)}
    me, by_pair = index["alpha-2020:7.2"], consolidation.scores.as_dict()
    for c in e.closest:
        expected = sum(by_pair.get(tuple(sorted((me, index[r]))), 0.0) for r in members[c.standard])
        assert c.fit == pytest.approx(expected / c.members, abs=1e-4) and c.members == len(
            members[c.standard]
        )
    assert any(n.other_heading for n in e.neighbours) and not any(
        n.other_heading and not n.same_set for n in e.neighbours
    )
    for n in e.neighbours:
        clause = n.blend - (
            g.meaning * n.meaning
            + g.title_meaning * n.title_meaning
            + g.title_words * n.title_ratio
            + g.subject * n.subject
            - g.other_heading * n.other_heading
        )
        assert clause == pytest.approx(engine.clause_bonus if n.same_clause else 0.0, abs=1e-3), n.ref
        assert n.score == pytest.approx(min(1.0, max(0.0, 0.5 + n.blend - n.local)), abs=1e-3), n.ref
        base = (
            w.embedding * n.cosine
            + w.title_embedding * n.title_cosine
            + w.fuzzy * n.fuzzy
            + w.title * n.title_ratio
            + n.structure
        )
        expected = min(1.0, base) * (engine.same_set_factor if n.same_set else 1.0)
        assert n.match == pytest.approx(expected, abs=1e-3), n.ref
