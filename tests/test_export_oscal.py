"""`qms export oscal`: the framework as an OSCAL catalog, valid against the OSCAL models and re-importable.

The OSCAL check uses oscal-bindings (PyPI), pydantic models generated from NIST's OSCAL JSON Schema; NIST's
schema file itself is not on PyPI.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DATA, MAPPINGS, STANDARDS, FakeEmbedder, check_golden
from qms_standards.cli import app
from qms_standards.export.oscal import build_catalog, build_mapping, render_catalog, render_mapping, token
from qms_standards.imports import import_oscal
from qms_standards.load import load_framework
from qms_standards.models import Framework, RelatedLink

parser = pytest.importorskip("oscal_bindings.v1.parser")
runner = CliRunner()


@pytest.fixture
def framework() -> Framework:
    base = load_framework(DATA / "framework-small.yaml")
    link = RelatedLink(
        ref="iso-9001-2015:5.1.1", title="Leadership", relationship="subset", strength=3, similarity=0.48
    )
    standards = tuple(
        s.model_copy(update={"related": (link,) if s.id == "QS-003" else ()}) for s in base.standards
    )
    return base.model_copy(update={"standards": standards})


def test_the_catalog_is_valid_oscal_and_matches_the_golden_file(
    framework: Framework, regen_golden: bool
) -> None:
    text = render_catalog(framework, "2025-06-30T00:00:00Z")
    parsed = parser.parse_catalog(text)
    assert len(parsed.catalog.groups) == len(framework.domains)
    check_golden("oscal-catalog.json", text, regen_golden)
    assert render_catalog(framework, "2025-06-30T00:00:00Z") == text


def test_the_validator_rejects_what_oscal_forbids(framework: Framework) -> None:
    data = build_catalog(framework)
    del data["catalog"]["metadata"]["last-modified"]
    with pytest.raises(parser.OscalParseError):
        parser.parse_catalog(json.dumps(data))
    data = build_catalog(framework)
    data["catalog"]["groups"][0]["controls"][0]["id"] = "1 bad id"
    with pytest.raises(parser.OscalParseError):
        parser.parse_catalog(json.dumps(data))


def test_controls_carry_risk_and_every_source_link(framework: Framework) -> None:
    control = build_catalog(framework)["catalog"]["groups"][1]["controls"][0]
    standard = next(s for s in framework.standards if s.id == "QS-003")
    assert (control["id"], control["title"]) == ("QS-003", standard.title)
    assert control["parts"] == [{"id": "QS-003_smt", "name": "statement", "prose": standard.statement}]
    props = {(p["name"], p["value"]): p for p in control["props"]}
    assert ("risk-rating", standard.risk.rating) in props
    for link in standard.sources:
        assert props[("source-requirement", link.ref)]["class"] == link.relationship
    assert (
        props[("related-requirement", "iso-9001-2015:5.1.1")]["remarks"]
        == "subset, strength 3/10 (NIST OLIR)"
    )
    assert token("1.2 x") == "_1.2-x"


def test_the_catalog_re_imports_as_the_same_requirements(tmp_path: Path, framework: Framework) -> None:
    out = tmp_path / "catalog.json"
    args = ["export", "oscal", str(DATA / "framework-small.yaml"), "-o", str(out)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "OSCAL catalog, 6 controls in 4 groups" in result.output
    again = import_oscal(out, {"id": "small", "publisher": "Us", "licence": "Ours"})
    assert [(r.id, r.title, r.text) for r in again.requirements] == [
        (s.id, s.title, s.statement) for s in framework.standards
    ]


def test_a_time_without_a_zone_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "catalog.json"
    args = [
        "export",
        "oscal",
        str(DATA / "framework-small.yaml"),
        "-o",
        str(out),
        "--last-modified",
        "2025-06-30",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--last-modified 2025-06-30: not a time with a time zone" in result.output
    assert not out.exists()


def test_the_shipped_consolidation_exports_as_valid_oscal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", mappings / "domains.yaml")
    args = ["consolidate", "-s", str(STANDARDS), "-m", str(mappings), "-o", str(tmp_path / "out"), "-q"]
    assert runner.invoke(app, [*args, "--no-exports"], catch_exceptions=False).exit_code == 0
    framework = load_framework(tmp_path / "out" / "framework.yaml")
    parsed = parser.parse_catalog(render_catalog(framework))
    controls = sum(len(g.controls or []) for g in parsed.catalog.groups)
    assert controls == len(framework.standards)


def test_the_crosswalk_is_a_valid_oscal_mapping_collection(framework: Framework, regen_golden: bool) -> None:
    text = render_mapping(framework, "2025-06-30T00:00:00Z")
    parsed = parser.parse_oscal(text)
    assert type(parsed.root).__name__ == "MappingCollectionDocument"
    check_golden("oscal-mapping.json", text, regen_golden)
    collection = build_mapping(framework)["mapping-collection"]
    maps = [m for mapping in collection["mappings"] for m in mapping["maps"]]
    assert len(maps) == sum(len(s.sources) + len(s.related) for s in framework.standards)
    related = next(
        m for m in maps if m["sources"][0]["id-ref"] == "5.1.1" and m["targets"][0]["id-ref"] == "QS-003"
    )
    assert (related["relationship"], related["confidence-score"]) == ("subset-of", {"percentage": 0.48})
    assert {"name": "link", "ns": "urn:qms-standards:oscal", "value": "related"} in related["props"]
    resources = {r["uuid"]: r["title"] for r in collection["back-matter"]["resources"]}
    sources = {resources[m["source-resource"]["href"][1:]] for m in collection["mappings"]}
    assert sources == {s.name for s in framework.framework.sources}


def test_the_cli_writes_the_mapping_next_to_the_catalog(tmp_path: Path) -> None:
    out, mapping = tmp_path / "catalog.json", tmp_path / "maps" / "crosswalk.json"
    mapping.parent.mkdir()
    args = ["export", "oscal", str(DATA / "framework-small.yaml"), "-o", str(out), "--mapping", str(mapping)]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "OSCAL mapping collection, 3 mappings" in result.output
    data = json.loads(mapping.read_text())
    assert {m["target-resource"]["href"] for m in data["mapping-collection"]["mappings"]} == {
        "../catalog.json"
    }
    parser.parse_oscal(mapping.read_text())
