"""`qms import oscal`: an OSCAL catalog's controls and their statement parts become a standard set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DATA
from qms_standards.cli import app
from qms_standards.errors import QmsError
from qms_standards.imports import import_oscal
from qms_standards.load import load_standard_sets

runner = CliRunner()
CATALOG = DATA / "imports" / "oscal-catalog-small.json"
PROV = {"id": "nist-800-53-r5-small", "publisher": "NIST", "licence": "Public domain (US Government work)"}


def test_controls_and_enhancements_become_requirements_and_withdrawn_ones_do_not() -> None:
    catalog = import_oscal(CATALOG, PROV)
    assert [r.id for r in catalog.requirements] == ["ac-1", "ac-2", "ac-2.1", "ir-4"]
    assert (catalog.name, catalog.version, catalog.published) == (
        "Small catalog in the shape of NIST SP 800-53 Rev 5",
        "5.1.1",
        "2024-01-15",
    )
    ac1 = catalog.requirements[0]
    assert (ac1.title, ac1.section) == ("Policy and Procedures", "Access Control")
    assert ac1.text.splitlines() == [
        "a. Develop, document, and disseminate to [Assignment: personnel or roles]:",
        "1. [Selection (one or more): organization-level; mission/business process-level; system-level] "
        "access control policy; and",
        "2. Procedures to facilitate the implementation of the access control policy and the associated "
        "access controls;",
        "b. Designate an [Assignment: official] to manage the development, documentation, and dissemination "
        "of the access control policy and procedures; and",
        "c. Review and update the current access control policy and procedures [Assignment: frequency].",
    ]
    assert "guidance" not in ac1.text and "AC family" not in ac1.text
    assert catalog.requirements[2].text == (
        "Support the management of system accounts using [Assignment: automated mechanisms]."
    )
    assert catalog.requirements[3].section == "Incident Response"


def test_cli_writes_a_set_that_loads_and_is_byte_identical_twice(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.yaml", "b.yaml"):
        out = tmp_path / name
        args = ["import", "oscal", str(CATALOG), "--set-id", PROV["id"], "--publisher", "NIST"]
        result = runner.invoke(
            app, [*args, "--licence", PROV["licence"], "-o", str(out)], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    (loaded,) = load_standard_sets([tmp_path / "a.yaml"])
    assert len(loaded.set.requirements) == 4


def test_a_control_without_a_statement_is_named_by_its_path_and_label(tmp_path: Path) -> None:
    data = json.loads(CATALOG.read_text())
    data["catalog"]["groups"][1]["controls"][0]["parts"] = []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(QmsError) as caught:
        import_oscal(bad, PROV)
    assert [p.render() for p in caught.value.problems] == [
        f"{bad}: catalog.groups[1].controls[0].parts.statement (IR-4): text is empty"
    ]


def test_not_json_and_not_a_catalog_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"catalog": {\n  "groups": [,]\n}}')
    with pytest.raises(QmsError) as caught:
        import_oscal(broken, PROV)
    assert caught.value.problems[0].render() == f"{broken}:2: not JSON: Expecting value (column 14)"
    profile = tmp_path / "profile.json"
    profile.write_text('{"profile": {}}')
    result = runner.invoke(app, ["import", "oscal", str(profile)])
    assert result.exit_code == 2
    assert "not an OSCAL catalog (top-level keys: profile)" in result.output


def test_the_yaml_form_of_a_catalog_reads_the_same(tmp_path: Path) -> None:
    import yaml

    as_yaml = tmp_path / "catalog.yaml"
    as_yaml.write_text(yaml.safe_dump(json.loads(CATALOG.read_text())), encoding="utf-8")
    assert import_oscal(as_yaml, PROV).requirements == import_oscal(CATALOG, PROV).requirements
