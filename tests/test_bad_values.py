"""Values that change meaning on the way (issue 17): review answers, control characters, long echoes."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from engine_helpers import make_tree
from qms_standards.errors import Problem, QmsError
from qms_standards.load import OVERRIDES_FILE, load_mappings
from qms_standards.overrides_edit import apply_review
from qms_standards.review import REVIEW_SHEET
from test_review import LETTER, TODAY, _refs, _row, _workbook

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
