"""`qms import ciso-assistant`: a real library (NCSC CAF 3.2, objectives A and D) imports and consolidates."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import DATA, MAPPINGS, STANDARDS, FakeEmbedder
from qms_standards.cli import app
from qms_standards.errors import QmsError
from qms_standards.export.ciso_assistant import check_library, render_set_library, urn_leaf
from qms_standards.imports import import_ciso_assistant
from qms_standards.load import load_framework, load_standard_sets
from qms_standards.models import StandardSet

runner = CliRunner()
CAF = DATA / "imports" / "ncsc-caf-3.2-excerpt.yaml"
CAF_ARGS = ["--set-id", "ncsc-caf-3-2", "--edition", "3.2", "--licence", "OGL v3.0 (NCSC)"]


def test_assessable_nodes_become_requirements_with_their_parent_as_section() -> None:
    caf = import_ciso_assistant(CAF, {})
    assert caf.id == "ncsc-caf-3-2"
    assert (caf.name, caf.publisher, caf.version) == (
        "NCSC - Cyber Assessment Framework (CAF) v3.2",
        "NCSC",
        "library v2",
    )
    assert caf.licence == "NCSC https://www.ncsc.gov.uk/collection/cyber-assessment-framework"
    assert (caf.text_is, caf.published) == ("verbatim", "2026-05-19")
    # Objective A: A1.a 4, A1.b 3, A1.c 4, A2.a 9, A2.b 5, A3.a 5, A4.a 7; objective D: 4 + 6 + 4 + 3 + 5.
    assert len(caf.requirements) == 37 + 22
    first = caf.requirements[0]
    assert (first.id, first.section) == ("A1.a.1", "A1.a Board Direction")
    assert (
        first.title == "Your organisation's approach and policy relating to the security of network and ..."
    )
    assert first.text.startswith(
        "Your organisation's approach and policy relating to the security of network"
    )
    # A line separator (U+2028) inside a sentence, left from the PDF, reads as a space.
    a2b3 = next(r for r in caf.requirements if r.id == "A2.b.3")
    assert "processes can be justified to, and verified by, a third party." in a2b3.text
    assert {r.section for r in caf.requirements if r.id.startswith("A3")} == {"A3.a Asset Management"}


def test_options_override_what_the_library_records(tmp_path: Path) -> None:
    out = tmp_path / "caf.yaml"
    args = ["import", "ciso-assistant", str(CAF), *CAF_ARGS, "-o", str(out)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (loaded,) = load_standard_sets([out])
    assert (loaded.set.version, loaded.set.licence) == ("3.2", "OGL v3.0 (NCSC)")
    assert out.read_text().startswith(
        "# NCSC - Cyber Assessment Framework (CAF) v3.2: imported by `qms import ciso-assistant` from "
        "ncsc-caf-3.2-excerpt.yaml\n"
    )
    again = tmp_path / "again.yaml"
    runner.invoke(app, [*args[:-1], str(again)], catch_exceptions=False)
    assert again.read_bytes() == out.read_bytes()


def test_a_file_that_is_not_a_library_is_named(tmp_path: Path) -> None:
    with pytest.raises(QmsError) as caught:
        import_ciso_assistant(STANDARDS / "iso-9001-2015.yaml", {})
    assert "not a CISO Assistant framework library (no objects.framework)" in str(caught.value)


def test_a_broken_parent_link_and_empty_text_are_located_by_line(tmp_path: Path) -> None:
    library = tmp_path / "lib.yaml"
    library.write_text(
        "urn: urn:x:risk:library:demo\nref_id: demo-1\nname: Demo\nprovider: Us\nversion: 1\n"
        "copyright: CC-BY\nobjects:\n  framework:\n    urn: urn:x:risk:framework:demo\n"
        "    requirement_nodes:\n"
        "    - urn: urn:x:risk:req_node:demo:a\n      assessable: true\n      ref_id: A\n"
        "      parent_urn: urn:x:risk:req_node:demo:missing\n      description: Do a.\n"
        "    - urn: urn:x:risk:req_node:demo:b\n      assessable: true\n      ref_id: B\n",
        encoding="utf-8",
    )
    with pytest.raises(QmsError) as caught:
        import_ciso_assistant(library, {})
    assert [p.render() for p in caught.value.problems] == [
        f"{library}:14: requirement_nodes[0].parent_urn: parent_urn urn:x:risk:req_node:demo:missing is not "
        "a node of this framework",
        f"{library}:16: requirement_nodes[1].description: text is empty",
    ]


def test_caf_consolidates_with_the_shipped_sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    standards, mappings = tmp_path / "standards", tmp_path / "mappings"
    shutil.copytree(STANDARDS, standards)
    mappings.mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
    args = ["import", "ciso-assistant", str(CAF), *CAF_ARGS, "-o", str(standards / "ncsc-caf-3-2.yaml")]
    assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
    assert runner.invoke(app, ["validate", str(standards)]).exit_code == 0
    args = ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(tmp_path / "out"), "-q"]
    result = runner.invoke(app, [*args, "--no-exports"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    framework = load_framework(tmp_path / "out" / "framework.yaml")
    refs = {link.ref for s in framework.standards for link in s.sources}
    assert {f"ncsc-caf-3-2:{r.id}" for r in import_ciso_assistant(CAF, {}).requirements} <= refs
    assert "ncsc-caf-3-2" in {s.id for s in framework.framework.sources}


@pytest.mark.slow
def test_caf_consolidates_with_the_shipped_sets_on_the_real_model(tmp_path: Path) -> None:
    standards, mappings = tmp_path / "standards", tmp_path / "mappings"
    shutil.copytree(STANDARDS, standards)
    mappings.mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
    args = ["import", "ciso-assistant", str(CAF), *CAF_ARGS, "-o", str(standards / "ncsc-caf-3-2.yaml")]
    assert runner.invoke(app, args, catch_exceptions=False).exit_code == 0
    args = ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(tmp_path / "out"), "-q"]
    result = runner.invoke(app, [*args, "--no-exports"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    framework = load_framework(tmp_path / "out" / "framework.yaml")
    homes = {link.ref: s for s in framework.standards for link in s.sources}
    # CAF's incident response and lessons-learned requirements share standards with the shipped sets.
    shared = [
        ref
        for ref, standard in homes.items()
        if ref.startswith("ncsc-caf-3-2:") and any(not s.ref.startswith("ncsc-caf") for s in standard.sources)
    ]
    assert shared, "no CAF requirement shares a standard with a shipped set"


_word = st.text(st.characters(codec="utf-8", categories=("L", "N", "P")), min_size=1, max_size=8)
_line = st.lists(_word, min_size=1, max_size=6).map(" ".join)
_req = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9./_()-]{0,8}", fullmatch=True),
        "title": _line,
        "text": st.lists(_line, min_size=1, max_size=3).map("\n".join),
        "section": st.none() | _line,
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reqs=st.lists(_req, min_size=1, max_size=6, unique_by=lambda r: urn_leaf(r["id"]) or "-"))
def test_a_set_exported_as_a_library_imports_back_unchanged(
    tmp_path: Path, reqs: list[dict[str, Any]]
) -> None:
    assume(all(urn_leaf(r["id"]) for r in reqs))
    sections = {f"section.{r['section']}" for r in reqs if r["section"]}
    assume(not sections & {r["id"] for r in reqs} and len({urn_leaf(s) for s in sections}) == len(sections))
    original = StandardSet(
        id="prop-set", name="Property set", publisher="Us", version="1", licence="Ours", requirements=reqs
    )
    try:
        text = render_set_library(original)
    except QmsError:  # a section and an id that would share a urn: refused, never written
        return
    library = tmp_path / "lib.yaml"
    library.write_text(text, encoding="utf-8")
    assert check_library(yaml.safe_load(text)) == []
    again = import_ciso_assistant(library, {})
    assert [(r.id, r.title, r.text, r.section) for r in again.requirements] == [
        (r.id, r.title, r.text, r.section) for r in original.requirements
    ]
