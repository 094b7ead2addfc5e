"""`qms export ciso-assistant`: a library that passes CISO Assistant's loader rules and re-imports."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from conftest import DATA, MAPPINGS, STANDARDS, FakeEmbedder, check_golden
from qms_standards.cli import app
from qms_standards.errors import QmsError
from qms_standards.export.ciso_assistant import (
    build_library,
    check_library,
    render_library,
    render_set_library,
    urn_leaf,
)
from qms_standards.imports import import_ciso_assistant
from qms_standards.load import load_framework, load_standard_sets
from qms_standards.models import Framework, RelatedLink

runner = CliRunner()
CAF = DATA / "imports" / "ncsc-caf-3.2-excerpt.yaml"


@pytest.fixture
def framework() -> Framework:
    """The small test framework, with related links as the engine will assert them."""
    base = load_framework(DATA / "framework-small.yaml")
    related = {
        "QS-001": (RelatedLink(ref="cqc-saf-2024:safe/learning-culture", title="Learning culture",
                               relationship="intersect", strength=4, similarity=0.55),),
        "QS-003": (RelatedLink(ref="iso-9001-2015:5.1.1", title="Leadership and commitment",
                               relationship="subset", strength=3, similarity=0.48),),
    }  # fmt: skip
    standards = tuple(s.model_copy(update={"related": related.get(s.id, ())}) for s in base.standards)
    return base.model_copy(update={"standards": standards})


def test_the_library_passes_the_loader_rules_and_matches_the_golden_file(
    framework: Framework, regen_golden: bool
) -> None:
    text = render_library(framework)
    assert check_library(yaml.safe_load(text)) == []
    check_golden("ciso-library.yaml", text, regen_golden)
    assert render_library(framework) == text


def test_the_checker_accepts_a_real_library_and_finds_every_broken_rule() -> None:
    assert check_library(yaml.safe_load(CAF.read_text())) == []
    broken = yaml.safe_load(CAF.read_text())
    del broken["copyright"]
    broken["version"] = "2"
    nodes = broken["objects"]["framework"]["requirement_nodes"]
    nodes[3]["urn"] = "urn:intuitem:risk:req_node:ncsc caf:a1.a.1"
    nodes[5]["parent_urn"] = "urn:intuitem:risk:req_node:ncsc-caf-3.2:zz"
    nodes[6]["urn"] = nodes[4]["urn"]
    broken["objects"]["requirement_mapping_sets"] = [
        {
            "urn": "urn:intuitem:risk:req_mapping_set:x",
            "source_framework_urn": "urn:intuitem:risk:framework:ncsc-caf-3.2",
            "target_framework_urn": "urn:intuitem:risk:framework:ncsc-caf-3.2",
            "requirement_mappings": [
                {
                    "source_requirement_urn": "urn:other:risk:req_node:y:1",
                    "target_requirement_urn": "urn:intuitem:risk:req_node:ncsc-caf-3.2:nope",
                    "relationship": "equivalent",
                    "rationale": "gut feeling",
                    "strength_of_relationship": 11,
                }
            ],
        }
    ]
    at = "objects.framework.requirement_nodes"
    m = "objects.requirement_mapping_sets[0]"
    mapping = f"{m}.requirement_mappings[0]"
    assert check_library(broken) == [
        "copyright: missing",
        "version: must be a whole number",
        f"{at}[3].urn: 'urn:intuitem:risk:req_node:ncsc caf:a1.a.1' is not a CISO Assistant urn",
        f"{at}[5].parent_urn: urn:intuitem:risk:req_node:ncsc-caf-3.2:zz is not an earlier node of this "
        "framework",
        f"{at}[5].depth: 4 but its parent makes it 1",
        f"{at}[6].urn: duplicate urn urn:intuitem:risk:req_node:ncsc-caf-3.2:a1.a.2 (also {at}[4].urn)",
        f"{m}: source and target framework are the same",
        f"{mapping}.target_requirement_urn: not a node of urn:intuitem:risk:framework:ncsc-caf-3.2",
        f"{mapping}.source_requirement_urn: not a node of urn:intuitem:risk:framework:ncsc-caf-3.2",
        f"{mapping}.relationship: 'equivalent' is not one of ('equal', 'subset', 'superset', 'intersect', "
        "'not_related')",
        f"{mapping}.rationale: 'gut feeling' is not one of ('syntactic', 'semantic', 'functional')",
        f"{mapping}.strength_of_relationship: 11 is not a whole number 0-10",
    ]


def test_each_source_set_maps_every_requirement_to_its_home_and_related_standards(
    framework: Framework,
) -> None:
    library = build_library(framework)
    sets = {m["source_framework_urn"]: m for m in library["objects"]["requirement_mapping_sets"]}
    assert set(sets) == {f"urn:qms:risk:framework:{s.id}" for s in framework.framework.sources}
    node = "urn:qms:risk:req_node:small-test-framework"
    cqc = sets["urn:qms:risk:framework:cqc-saf-2024"]
    assert cqc["target_framework_urn"] == "urn:qms:risk:framework:small-test-framework"
    rows = {
        (m["source_requirement_urn"], m["target_requirement_urn"]): m for m in cqc["requirement_mappings"]
    }
    source = "urn:qms:risk:req_node:cqc-saf-2024:safe-learning-culture"
    home = next(
        s for s in framework.standards if any(x.ref.endswith("safe/learning-culture") for x in s.sources)
    )
    link = next(x for x in home.sources if x.ref == "cqc-saf-2024:safe/learning-culture")
    assert rows[(source, f"{node}:{home.id.lower()}")] == {
        "source_requirement_urn": source,
        "target_requirement_urn": f"{node}:{home.id.lower()}",
        "relationship": link.relationship,
        "strength_of_relationship": link.strength,
        "rationale": "semantic",
        "annotation": f"cqc-saf-2024:safe/learning-culture -> {home.id}: its home standard; similarity "
        f"{link.similarity:.2f}.",
    }
    related = rows[(source, f"{node}:qs-001")]
    assert (related["relationship"], related["strength_of_relationship"]) == ("intersect", 4)
    assert "partly covers it (related)" in related["annotation"]
    homes = sum(len(s.sources) for s in framework.standards)
    relateds = sum(len(s.related) for s in framework.standards)
    assert sum(len(m["requirement_mappings"]) for m in sets.values()) == homes + relateds


def test_the_library_re_imports_as_the_same_requirements(framework: Framework, tmp_path: Path) -> None:
    out = tmp_path / "lib.yaml"
    args = ["export", "ciso-assistant", str(DATA / "framework-small.yaml"), "-o", str(out)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "6 standards in 4 domains, 3 mapping sets" in result.output
    again = import_ciso_assistant(out, {"id": "small-test-framework"})
    assert [(r.id, r.title, r.text) for r in again.requirements] == [
        (s.id, s.title, s.statement) for s in framework.standards
    ]
    domain = {d.id: d.name for d in framework.domains}
    assert [r.section for r in again.requirements] == [
        f"{s.domain} {domain[s.domain]}" for s in framework.standards
    ]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A framework consolidated from the shipped sets (fake embedder): its refs are the sets' own."""
    root = tmp_path_factory.mktemp("shipped")
    mappings = root / "mappings"
    mappings.mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
    args = ["consolidate", "-s", str(STANDARDS), "-m", str(mappings), "-o", str(root / "out"), "-q"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QMS_CACHE_DIR", str(root / "cache"))
        patch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
        result = runner.invoke(app, [*args, "--no-exports"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root / "out" / "framework.yaml"


def _export(framework: Path, tmp_path: Path, standards: Path = STANDARDS) -> tuple[Path, Path, Any]:
    lib, sources = tmp_path / "lib.yaml", tmp_path / "sources"
    args = ["export", "ciso-assistant", str(framework), "-o", str(lib), "--sources-dir", str(sources)]
    return lib, sources, runner.invoke(app, [*args, "-s", str(standards)])


def test_the_shipped_sets_export_as_libraries_that_pass_the_rules(shipped: Path, tmp_path: Path) -> None:
    lib, sources, result = _export(shipped, tmp_path)
    assert result.exit_code == 0, result.output
    assert check_library(yaml.safe_load(lib.read_text())) == []
    for path in sorted(sources.iterdir()):
        assert check_library(yaml.safe_load(path.read_text())) == [], path.name
    mapping_sets = yaml.safe_load(lib.read_text())["objects"]["requirement_mapping_sets"]
    mapped = {m["source_requirement_urn"] for s in mapping_sets for m in s["requirement_mappings"]}
    libraries = [yaml.safe_load(p.read_text())["objects"]["frameworks"][0] for p in sources.iterdir()]
    nodes = {n["urn"] for f in libraries for n in f["requirement_nodes"] if n["assessable"]}
    assert mapped == nodes  # every source requirement is mapped, to a node its own library defines


def test_source_set_libraries_re_import_as_the_set(shipped: Path, tmp_path: Path) -> None:
    _, sources, result = _export(shipped, tmp_path)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in sources.iterdir())
    assert names == sorted(f"{loaded.set.id}.yaml" for loaded in load_standard_sets([STANDARDS]))
    for loaded in load_standard_sets([STANDARDS]):
        text = render_set_library(loaded.set)
        assert (sources / f"{loaded.set.id}.yaml").read_text() == text
        again = import_ciso_assistant(sources / f"{loaded.set.id}.yaml", {})
        assert [(r.id, r.title, r.text, r.section) for r in again.requirements] == [
            (r.id, r.title, r.text, r.section) for r in loaded.set.requirements
        ]


def test_a_missing_source_set_is_named(shipped: Path, tmp_path: Path) -> None:
    standards = tmp_path / "standards"
    standards.mkdir()
    shutil.copy(STANDARDS / "iso-9001-2015.yaml", standards / "iso-9001-2015.yaml")
    lib, _, result = _export(shipped, tmp_path, standards)
    assert result.exit_code == 2
    missing = "cqc-fundamental-standards-2014, cqc-saf-2024, iso-31000-2018, iso-7101-2023, nhs-impact-2023"
    assert f"source set(s) not found in {standards}: {missing}" in result.output.replace("\n", "")
    assert not lib.exists()


def test_a_set_edited_since_consolidating_is_refused_before_anything_is_written(
    shipped: Path, tmp_path: Path
) -> None:
    standards = tmp_path / "standards"
    shutil.copytree(STANDARDS, standards)
    path = standards / "cqc-saf-2024.yaml"
    path.write_text(path.read_text().replace("id: safe/learning-culture", "id: safe/learning-culture-2"))
    lib, sources, result = _export(shipped, tmp_path, standards)
    assert result.exit_code == 2
    output = result.output.replace("\n", "")
    assert f"the framework maps 1 requirement(s) that {standards} no longer holds" in output
    assert "cqc-saf-2024:safe/learning-culture" in output and "rerun `qms consolidate`" in output
    assert not lib.exists() and not sources.exists()


def test_ids_that_would_share_a_urn_are_refused(framework: Framework) -> None:
    assert urn_leaf("safe/Learning culture") == "safe-learning-culture"
    first = framework.standards[0]
    twin = first.model_copy(update={"id": first.id.lower()})
    clash = framework.model_copy(update={"standards": (*framework.standards, twin)})
    with pytest.raises(QmsError) as caught:
        build_library(clash)
    assert str(
        caught.value
    ) == f"id: '{first.id}' and '{twin.id}' in the framework would share the urn leaf " + (f"'{twin.id}'")
