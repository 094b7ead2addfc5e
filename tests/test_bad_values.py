"""Values that change meaning on the way (issue 17): review answers, control characters, long echoes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import MAPPINGS
from engine_helpers import make_tree
from qms_standards.errors import Problem, QmsError
from qms_standards.load import LOCK_FILE, OVERRIDES_FILE, load_mappings, load_standard_sets
from qms_standards.overrides_edit import apply_review
from qms_standards.review import REVIEW_SHEET
from test_review import LETTER, TODAY, _refs, _row, _workbook

LOCK_TEXT = (MAPPINGS / LOCK_FILE).read_text(encoding="utf-8")  # the shipped lock
WHOLE_LOCK = load_mappings(MAPPINGS).lock

# What people type in a review's By and Reason cells that YAML 1.1 reads as something else unquoted.
ANSWERS = ["No", "Yes", "on", "OFF", "1:30", "0x1F", "null", "~", "1e3", "2025-01-31", ".inf", "= 2"]


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_review_answer_is_written_so_it_reads_back_as_the_same_text(tmp_path: Path, answer: str) -> None:
    standards, mappings = make_tree(tmp_path)
    workbook = _workbook(
        tmp_path / "review.xlsx", [_row(1, "beta-2023:4.1", "alpha-2020:4.1")], {1: ("same", answer, answer)}
    )
    result = apply_review(workbook, mappings, _refs(standards), by=None, date=TODAY)
    assert result.text is not None
    (mappings / OVERRIDES_FILE).write_text(result.text, encoding="utf-8")
    link = load_mappings(mappings, _refs(standards)).overrides.must_link[0]
    assert (link.by, link.reason) == (answer, answer)


def test_a_control_character_in_a_review_cell_is_named_at_its_cell(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    workbook = _workbook(
        tmp_path / "review.xlsx",
        [_row(1, "beta-2023:4.1", "alpha-2020:4.1")],
        {1: ("same", "QA lead", "Same duty\u202e.txt")},  # shows as "Same dutytxt." on screen
    )
    with pytest.raises(QmsError) as caught:
        apply_review(workbook, mappings, _refs(standards), by=None, date=TODAY)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("Review!Q2", "reason holds U+202E RIGHT-TO-LEFT OVERRIDE at character 10, a control character")
    ]
    assert not (mappings / OVERRIDES_FILE).exists()


def test_an_error_never_echoes_megabytes() -> None:
    problem = Problem(
        "tag " + "x" * 5_000_000 + " is not kebab-case", Path("a.yaml"), 3, "tags", "h" * 10_000
    )
    assert len(problem.render()) < 1_000 and len(problem.hint or "") < 1_000
    assert problem.message.endswith("... (5,000,022 characters in all)")


def test_a_look_alike_ref_typed_into_a_review_is_named_at_its_cell(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    workbook = _workbook(
        tmp_path / "review.xlsx", [_row(1, "beta-2023:4.1", "alpha-2020:4.1")], {1: ("same", "QA lead")}
    )
    book = load_workbook(workbook)
    cell = f"{LETTER['ref_b']}2"
    book[REVIEW_SHEET][cell] = "alpha-2020\uff1a4.1"  # retyped with a fullwidth colon
    book.save(workbook)
    with pytest.raises(QmsError) as caught:
        apply_review(workbook, mappings, _refs(standards), by=None, date=TODAY)
    assert [(p.field, p.message) for p in caught.value.problems] == [
        (
            f"Review!{cell}",
            "ref_b holds U+FF1A FULLWIDTH COLON, which looks like ':' but is another character",
        )
    ]


# --- Properties -----------------------------------------------------------------------------------

_SET_HEAD = 'id: prop\nname: Property\npublisher: Test\nversion: "1"\nlicence: Test\nrequirements:\n'
_CONTROLS = [chr(c) for c in [*range(0, 9), *range(11, 32), *range(127, 160)]] + [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]


@settings(max_examples=60, deadline=None)
@given(
    before=st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=10),
    control=st.sampled_from(_CONTROLS),
    field=st.sampled_from(["title", "text", "section"]),
)
def test_any_control_character_in_any_text_is_refused_at_its_line(
    before: str, control: str, field: str
) -> None:
    escaped = control.encode("unicode_escape").decode("ascii")  # as written in a double-quoted YAML value
    value = f'    {field}: "{before}{escaped}"\n'
    fields = {"title": "    title: T\n", "text": "    text: X\n", "section": ""}
    fields[field] = value
    text = _SET_HEAD + '  - id: "1"\n' + fields["title"] + fields["text"] + fields["section"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "set.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(QmsError) as caught:
            load_standard_sets([path])
    (problem,) = caught.value.problems
    assert problem.line == text[: text.index(f"    {field}:")].count("\n") + 1
    assert problem.field == f"requirements[0].{field}" and "control character" in problem.message
    assert problem.hint


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, len(LOCK_TEXT)))
def test_a_lock_cut_at_any_byte_is_refused_or_unchanged(cut: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        mappings = Path(folder)
        shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
        (mappings / LOCK_FILE).write_text(LOCK_TEXT[:cut], encoding="utf-8")
        try:
            lock = load_mappings(mappings).lock
        except QmsError as error:
            assert all(p.file == mappings / LOCK_FILE and p.hint for p in error.problems)
            return
    assert lock == WHOLE_LOCK  # accepted only when nothing that matters was cut (the last newline)


def test_an_error_in_the_overrides_a_review_would_create_says_it_was_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qms_standards.overrides_edit as edit

    standards, mappings = make_tree(tmp_path)
    workbook = _workbook(
        tmp_path / "review.xlsx", [_row(1, "beta-2023:4.1", "alpha-2020:4.1")], {1: ("same", "QA lead")}
    )
    real = edit.add_links
    monkeypatch.setattr(edit, "add_links", lambda *args: real(*args) + "colour: blue\n")  # a writer's slip
    with pytest.raises(QmsError) as caught:
        apply_review(workbook, mappings, _refs(standards), by=None, date=TODAY)
    (problem,) = caught.value.problems
    assert problem.file == mappings / OVERRIDES_FILE
    assert problem.message.endswith("(in the file this review would create; nothing was written)")
    assert not (mappings / OVERRIDES_FILE).exists()
