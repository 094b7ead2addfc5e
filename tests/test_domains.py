"""Domains by subject: the subjects a description lists, the score, the conflict check and the CLI note."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FakeEmbedder
from engine_helpers import make_tree, run
from qms_standards.cli import app
from qms_standards.domains import Named, content_words, domain_conflicts, subject_scores, subjects
from qms_standards.load import load_framework
from qms_standards.models import Domain, Framework

DOMAINS = (
    Domain(id="P", name="Person-centred care", description="Dignity and respect; consent; equity of access."),
    Domain(id="R", name="Resources", description="Premises and equipment; records and information."),
)


def test_a_description_splits_into_subjects_with_their_content_words() -> None:
    found = subjects(DOMAINS)
    assert [(s.phrase, s.domain) for s in found][:4] == [
        ("Person-centred care", 0),
        ("Dignity", 0),
        ("respect", 0),
        ("consent", 0),
    ]
    assert content_words("Meeting nutritional and hydration needs") == {"meet", "nutrition", "hydr", "need"}


def test_a_subject_named_in_a_title_outweighs_one_named_in_a_text() -> None:
    titled = subject_scores([Named("Equity of access", "Everyone can use it.", 0.9)], DOMAINS)
    texted = subject_scores([Named("Getting in", "Equity of access for all.", 0.9)], DOMAINS)
    assert titled[0] == 1.0 and titled[1] == 0.0
    assert texted[0] == 0.2


def test_members_count_by_how_central_they_are() -> None:
    members = [Named("Consent", "", 0.9), Named("Records", "", 0.1)]
    assert subject_scores(members, DOMAINS) == [0.9, 0.1]


def test_a_standard_goes_to_the_domain_that_names_its_subject(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    (standards / "delta.yaml").write_text(
        "id: delta-2025\nname: Delta\npublisher: Test\nversion: '2025'\nlicence: Test data\nrequirements:\n"
        "  - id: a\n    title: Equity of access\n"
        "    text: Everyone can get the treatment they need, when they need it, whatever their needs.\n"
    )
    framework = run(standards, mappings).framework
    home = next(s for s in framework.standards if any(x.ref == "delta-2025:a" for x in s.sources))
    assert framework.domain(home.domain).name == "Person-centred care and experience"


def _moved(framework: Framework, ref: str, domain: str) -> Framework:
    standards = tuple(
        s.model_copy(update={"domain": domain}) if any(x.ref == ref for x in s.sources) else s
        for s in framework.standards
    )
    return framework.model_copy(update={"standards": standards})


def test_a_standard_in_the_wrong_domain_is_reported_with_the_subject(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    framework = run(standards, mappings).framework
    assert domain_conflicts(framework) == []
    moved = _moved(framework, "alpha-2020:7.2", "D2")
    conflicts = domain_conflicts(moved)
    assert [(c.domain, c.better, c.subjects[0]) for c in conflicts] == [("D2", "D5", "competence")]
    message = conflicts[0].message(moved)
    assert "is in D2 (Safety and risk management), but its members name 'competence'" in message
    assert message.endswith(
        "listed under D5 (Workforce, competence and culture): move it with an override, or edit domains.yaml"
    )


def test_consolidate_notes_a_domain_an_override_puts_against_its_description(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standards, mappings = make_tree(tmp_path)
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    args = ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(tmp_path / "out"), "-q"]
    first = CliRunner().invoke(app, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "note:" not in first.output
    framework = load_framework(tmp_path / "out" / "framework.yaml")
    competence = next(s for s in framework.standards if any(x.ref == "alpha-2020:7.2" for x in s.sources))
    (mappings / "overrides.yaml").write_text(f"standards:\n  - id: {competence.id}\n    domain: D2\n")
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"note: {competence.id} is in D2 (Safety and risk management), but its members name" in " ".join(
        result.output.split()
    )


def test_a_subject_two_domains_list_is_no_evidence_for_either(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    framework = _moved(run(standards, mappings).framework, "alpha-2020:7.2", "D1")

    def titled(title: str) -> Framework:
        def retitle(s):  # the standard holding 7.2, its members retitled
            if not any(x.ref == "alpha-2020:7.2" for x in s.sources):
                return s
            return s.model_copy(
                update={"sources": tuple(x.model_copy(update={"title": title}) for x in s.sources)}
            )

        return framework.model_copy(update={"standards": tuple(retitle(s) for s in framework.standards)})

    # "control" is listed by D2 (infection prevention and control) and D3 (choice and control).
    assert domain_conflicts(titled("Type and extent of control")) == []
    assert [(c.domain, c.better) for c in domain_conflicts(titled("Infection prevention"))] == [("D1", "D2")]
