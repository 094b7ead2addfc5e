"""People's words in mappings/content.yaml: kept byte for byte, member changes reported, mistakes located."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import FakeEmbedder
from engine_helpers import make_tree
from qms_standards.cli import app
from qms_standards.load import load_framework
from qms_standards.models import Framework, Standard

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())


def _run(standards: Path, mappings: Path, out: Path) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["consolidate", "-s", str(standards), "-m", str(mappings), "-o", str(out), "-q"],
        catch_exceptions=False,
    )
    return result.exit_code, " ".join(result.output.split())


def _home(framework: Framework, ref: str) -> Standard:
    return next(s for s in framework.standards if any(x.ref == ref for x in s.sources))


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path, Path, Standard]:
    standards, mappings = make_tree(tmp_path)
    code, output = _run(standards, mappings, tmp_path / "out")
    assert code == 0, output
    framework = load_framework(tmp_path / "out" / "framework.yaml")
    return standards, mappings, tmp_path / "out", _home(framework, "alpha-2020:7.2")


WORDS = """\
standards:
  - id: {id}
    title: "Staff are competent  – and we can show it "
    statement: |
      Everyone who works here has the skills for their job.
      Line two, with a trailing space\x20
    good_looks_like:
      outputs: [Training needs analysis for every ward]
    evidence:
      - Training matrix (95% or more)
    members: [{members}]
    by: Head of Quality
    date: "2026-12-01"
"""


def test_edited_words_survive_a_rerun_byte_for_byte(tree: tuple[Path, Path, Path, Standard]) -> None:
    standards, mappings, out, competence = tree
    text = WORDS.format(id=competence.id, members=", ".join(s.ref for s in competence.sources))
    (mappings / "content.yaml").write_text(text)
    written = yaml.safe_load(text)["standards"][0]
    for _ in range(2):
        code, output = _run(standards, mappings, out)
        assert code == 0, output
        assert "note:" not in output
        first = (out / "framework.yaml").read_bytes()
    assert (out / "framework.yaml").read_bytes() == first
    assert (mappings / "content.yaml").read_text() == text
    standard = _home(load_framework(out / "framework.yaml"), "alpha-2020:7.2")
    assert standard.title == written["title"]
    assert standard.statement == written["statement"]
    assert [x.text for x in standard.good_looks_like.outputs] == written["good_looks_like"]["outputs"]
    assert [x.text for x in standard.evidence] == written["evidence"]
    assert standard.good_looks_like.behaviours == competence.good_looks_like.behaviours  # not given: drafted
    assert standard.drafted == ("behaviours", "outcomes")  # the parts it did not give stay drafted
    assert standard.asks == ()
    assert "Staff are competent  – and we can show it " in (out / "framework.md").read_text()


def test_a_member_change_under_agreed_words_is_reported(tree: tuple[Path, Path, Path, Standard]) -> None:
    standards, mappings, out, competence = tree
    members = [s.ref for s in competence.sources]
    (mappings / "content.yaml").write_text(WORDS.format(id=competence.id, members=", ".join(members)))
    (mappings / "overrides.yaml").write_text(
        f"exclude:\n  - ref: {members[-1]}\n    reason: Not provided here\n"
    )
    code, output = _run(standards, mappings, out)
    assert code == 0, output
    said = output[output.index(f"note: {competence.id}: its members changed since its words were agreed (") :]
    assert f"-{members[-1]}" in said.split(")")[0]
    assert "check the words still fit, then update members in content.yaml" in said
    assert _home(load_framework(out / "framework.yaml"), members[0]).title.startswith("Staff are competent")


def test_words_without_members_ask_for_them(tree: tuple[Path, Path, Path, Standard]) -> None:
    standards, mappings, out, competence = tree
    (mappings / "content.yaml").write_text(f"standards:\n  - id: {competence.id}\n    title: Skilled staff\n")
    code, output = _run(standards, mappings, out)
    assert code == 0, output
    refs = ", ".join(sorted(s.ref for s in competence.sources))
    assert (
        f"note: {competence.id}: content.yaml does not say which members its words were agreed for; add "
        in output
    )
    assert f"members: [{refs}] so that a later change is reported" in output
    standard = _home(load_framework(out / "framework.yaml"), "alpha-2020:7.2")
    assert (standard.title, standard.drafted) == (
        "Skilled staff",
        ("statement", "outputs", "behaviours", "outcomes", "evidence"),
    )


@pytest.mark.parametrize(
    ("content", "overrides", "expected"),
    [
        (
            "standards:\n  - id: QS-999\n    title: X\n",
            "",
            "content.yaml:2: standards.0.id: standard 'QS-999' is not in ids.lock.yaml",
        ),
        (
            "standards:\n  - id: {id}\n    title: X\n    members: [alpha-2020:9.9]\n",
            "",
            "content.yaml:4: standards.0.members.0: 'alpha-2020:9.9' is not a requirement in the loaded sets",
        ),
        (
            "standards:\n  - id: {id}\n    title: X\n  - id: {id}\n    title: Y\n",
            "",
            "content.yaml:4: standards.1.id: '{id}' has words twice (first at line 2)",
        ),
        (
            "standards:\n  - id: {id}\n    title: X\n",
            "standards:\n  - id: {id}\n    title: Y\n",
            "content.yaml:3: standards.0.title: {id}'s title is given in overrides.yaml and in content.yaml",
        ),
        (
            "standards:\n  - id: {id}\n    titel: X\n",
            "",
            "content.yaml:3: standards[0].titel",
        ),
    ],
)
def test_mistakes_in_content_yaml_are_located(
    tree: tuple[Path, Path, Path, Standard], content: str, overrides: str, expected: str
) -> None:
    standards, mappings, out, competence = tree
    (mappings / "content.yaml").write_text(content.format(id=competence.id))
    if overrides:
        (mappings / "overrides.yaml").write_text(overrides.format(id=competence.id))
    code, output = _run(standards, mappings, out)
    assert code == 2
    assert expected.format(id=competence.id).replace("loaded sets", "loaded standard sets") in output
