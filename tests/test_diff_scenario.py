"""A new edition of a shipped set: the diff shows exactly which consolidated standards it touches."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import MAPPINGS, STANDARDS
from engine_helpers import run
from qms_standards.diff import diff_frameworks
from qms_standards.files import dump_model
from test_diff import check_diff_scenario

REWORDED = "iso-9001-2015:7.2"
ADDED = "iso-9001-2015:7.1.7"
NEW_REQUIREMENT = """  - id: "7.1.7"
    title: Clinical equipment readiness
    text: Keep clinical equipment ready for use, checked and maintained, with faults reported and fixed.
    section: 7 Support
    tags: [control, safe]
"""


def test_new_edition_of_a_shipped_set(tmp_path: Path) -> None:
    standards, mappings = tmp_path / "standards", tmp_path / "mappings"
    shutil.copytree(STANDARDS, standards)
    mappings.mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
    old = run(standards, mappings)
    (mappings / "ids.lock.yaml").write_text(dump_model(old.lock))

    path = standards / "iso-9001-2015.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "close gaps through training, hiring or other means, and keep proof.",
        "close gaps through training, hiring or other means, and keep records as proof.",
    )
    text = text.replace('version: "2015', 'version: "2026', 1) if 'version: "2015' in text else text
    text = text.replace('  - id: "7.2"\n', NEW_REQUIREMENT + '  - id: "7.2"\n', 1)
    path.write_text(text, encoding="utf-8")
    new = run(standards, mappings)

    changes = check_diff_scenario(old.framework, new.framework)
    home_old = {s.ref: st.id for st in old.framework.standards for s in st.sources}
    home_new = {s.ref: st.id for st in new.framework.standards for s in st.sources}
    moved = {ref for ref in home_old if ref in home_new and home_old[ref] != home_new[ref]}
    expected = (
        {home_new[REWORDED], home_new[ADDED]} | {home_old[r] for r in moved} | {home_new[r] for r in moved}
    )

    kinds = {c.kind for c in changes.changes}
    assert "source-lost" not in kinds
    assert [c.item for c in changes.of_kind("set-edition")] == ["iso-9001-2015"]
    assert [(c.ref, c.standard) for c in changes.of_kind("source-text-changed")] == [
        (REWORDED, home_new[REWORDED])
    ]
    assert [c.ref for c in changes.of_kind("source-gained")] == [ADDED]
    named = {c.standard for c in changes.changes if c.standard}
    # Risk weights are relative, so the new requirement may shift other standards' weights: diff ignores
    # weights, and a risk change elsewhere would be a real change. Everything named is explained:
    assert named == expected, (named, expected)
    assert diff_frameworks(new.framework, new.framework).changes == ()
