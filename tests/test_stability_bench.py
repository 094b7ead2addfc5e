"""The stability bench's parts: the meaning-preserving edit and the count of standards that changed."""

from __future__ import annotations

import sys

from conftest import DATA, ROOT
from qms_standards.load import load_framework

sys.path.insert(0, str(ROOT))
from bench.stability import Edit, changed_standards, reword, summarise  # noqa: E402


def test_reword_drops_the_last_clause() -> None:
    assert reword("Plan, do and check the work, and keep records.") == "Plan, do and check the work."
    assert reword("Determine the competence of people, ensure they are competent.") == (
        "Determine the competence of people."
    )
    assert reword("Keep records.") is None  # nothing to drop: the requirement is skipped


def test_changed_standards_counts_membership_changes_only() -> None:
    v1 = load_framework(DATA / "framework-v1.yaml")
    assert changed_standards(v1, v1) == 0
    renamed = v1.model_copy(
        update={"standards": tuple(s.model_copy(update={"title": "x"}) for s in v1.standards)}
    )
    assert changed_standards(v1, renamed) == 0
    fewer = v1.model_copy(update={"standards": v1.standards[1:]})
    assert changed_standards(v1, fewer) == 1


def test_summary_reports_median_and_worst() -> None:
    edits = [Edit("a:1", 0, 0.1), Edit("a:2", 0, 0.1), Edit("a:3", 3, 0.1)]
    summary = summarise(10, edits, 1)
    assert (summary["median_changed"], summary["worst_changed"]) == (0, 3)
    assert summary["edits_changing_more_than_one"] == 1
    assert summary["worst_edits"][0] == {"ref": "a:3", "changed": 3}
