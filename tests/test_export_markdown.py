"""`render_markdown` and `qms export markdown`: golden file, GitHub anchors, escaping, coverage figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DATA, ROOT, check_golden
from qms_standards.cli import ExitCode, app
from qms_standards.export.crosswalk import coverage, crosswalk, natural_key
from qms_standards.export.markdown import github_slug, render_markdown
from qms_standards.load import load_framework
from qms_standards.models import Framework

SMALL = DATA / "framework-small.yaml"


@pytest.fixture
def framework() -> Framework:
    return load_framework(SMALL)


def _with_title(framework: Framework, index: int, title: str) -> Framework:
    standards = list(framework.standards)
    standards[index] = standards[index].model_copy(update={"title": title})
    return framework.model_copy(update={"standards": tuple(standards)})


def _headings(text: str) -> list[str]:
    """Heading texts as GitHub sees them (escapes removed), in document order."""
    return [re.sub(r"\\(.)", r"\1", m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)]


def _anchors(text: str) -> set[str]:
    """The anchors GitHub generates for a document's headings, duplicates numbered like github-slugger."""
    seen: dict[str, int] = {}
    out = set()
    for heading in _headings(text):
        base = slug = github_slug(heading)
        while slug in seen:
            seen[base] += 1
            slug = f"{base}-{seen[base]}"
        seen[slug] = 0
        out.add(slug)
    return out


def test_markdown_matches_the_golden_file(framework: Framework, regen_golden: bool) -> None:
    check_golden("framework-small.md", render_markdown(framework), regen_golden)


def test_markdown_is_deterministic(framework: Framework) -> None:
    assert render_markdown(framework) == render_markdown(load_framework(SMALL))


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("QS-001 Leadership & governance", "qs-001-leadership--governance"),
        ("QS-002 Openness | duty of candour", "qs-002-openness--duty-of-candour"),
        ("D1 Leadership, governance and accountability", "d1-leadership-governance-and-accountability"),
        ("Appendix: iso-9001-2015", "appendix-iso-9001-2015"),
        ("Person-centred care (CQC) – café", "person-centred-care-cqc--café"),
        ("snake_case *stays*", "snake_case-stays"),
    ],
)
def test_github_slug_follows_githubs_rules(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_every_internal_link_points_at_a_heading(framework: Framework) -> None:
    text = render_markdown(framework)
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links, "the document should link to its own sections"
    assert links <= _anchors(text)


def test_contents_lists_every_domain_standard_and_appendix(framework: Framework) -> None:
    text = render_markdown(framework)
    contents = text.split("## Contents\n\n", 1)[1].split("\n\n", 1)[0]
    for standard in framework.standards:
        assert f"[{standard.id} " in contents
    for domain in framework.domains:
        assert f"[{domain.id} {domain.name}](#" in contents
    for source in framework.framework.sources:
        assert f"[Appendix: {source.id}](#appendix-{source.id})" in contents


def test_duplicate_headings_get_numbered_anchors(framework: Framework) -> None:
    # Two standards with the same id and title would share an anchor; GitHub numbers the second.
    same = _with_title(_with_title(framework, 0, "Same"), 1, "Same")
    standards = list(same.standards)
    standards[1] = standards[1].model_copy(update={"id": "QS-001"})
    text = render_markdown(same.model_copy(update={"standards": tuple(standards)}))
    assert "(#qs-001-same)" in text and "(#qs-001-same-1)" in text


def test_table_cells_escape_pipes_and_line_breaks(framework: Framework) -> None:
    text = render_markdown(_with_title(framework, 0, "Plan | do\ncheck"))
    assert r"[QS-001](#qs-001-plan--do-check) Plan \| do<br>check |" in text
    assert "\n### QS-001 Plan | do check\n" in text


def test_tables_have_as_many_cells_in_every_row_as_in_the_header(framework: Framework) -> None:
    text = render_markdown(_with_title(framework, 0, "A | B"))
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("| ")]
        if rows:
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
            assert len(widths) == 1, block


def test_markdown_syntax_in_text_is_escaped(framework: Framework) -> None:
    text = render_markdown(_with_title(framework, 0, "*Draft* <b>[x]</b> &copy;"))
    assert r"### QS-001 \*Draft\* \<b\>\[x\]\</b\> &amp;copy;" in text


def test_statement_lines_that_look_like_lists_or_headings_stay_text(framework: Framework) -> None:
    standards = list(framework.standards)
    standards[0] = standards[0].model_copy(update={"statement": "1. first\n- second\n# third"})
    text = render_markdown(framework.model_copy(update={"standards": tuple(standards)}))
    assert "> 1\\. first\n> \\- second\n> \\# third\n" in text
    assert "### QS-001 Leadership & governance\n" in text


def test_coverage_figures(framework: Framework) -> None:
    cov = coverage(framework)
    assert (cov.requirements_in, cov.mapped, cov.excluded, cov.standards) == (13, 12, 1, 6)
    assert cov.by_set_count == {"1": 2, "2": 2, "3+": 2}
    assert [(s.source.id, s.mapped, s.excluded, s.standards) for s in cov.sets] == [
        ("cqc-saf-2024", 5, 0, 5),
        ("iso-7101-2023", 3, 0, 3),
        ("iso-9001-2015", 4, 1, 4),
    ]
    text = render_markdown(framework)
    assert "| Standards drawing on 3+ sets | 2 |" in text
    assert "| Excluded on purpose | 1 |" in text


def test_appendix_shows_where_each_requirement_went_in_clause_order(framework: Framework) -> None:
    text = render_markdown(framework)
    appendix = text.split("## Appendix: iso-9001-2015\n", 1)[1].split("\n## ", 1)[0]
    order = re.findall(r"^\| `([^`]+)` \|", appendix, re.M)
    assert order == ["4.4.2", "5.1.1", "9.2", "10.2", "10.3"]
    assert "excluded: Documented information is covered by 7.5" in appendix
    assert "[QS-003](#qs-003-learning-from-incidents) Learning from incidents | subset" in appendix


def test_every_source_ref_appears_once_in_the_crosswalk(framework: Framework) -> None:
    refs = [row.ref for row in crosswalk(framework)]
    expected = [link.ref for s in framework.standards for link in s.sources] + [
        e.ref for e in framework.excluded
    ]
    assert sorted(refs) == sorted(expected)


def test_natural_key_orders_clause_numbers() -> None:
    assert sorted(["10.2", "9.2", "4.4.2", "10.10", "10.3"], key=natural_key) == [
        "4.4.2",
        "9.2",
        "10.2",
        "10.3",
        "10.10",
    ]


def test_empty_domain_and_empty_framework_render(framework: Framework) -> None:
    assert "No standards in this domain." in render_markdown(framework)
    empty = framework.model_copy(update={"standards": (), "excluded": ()})
    assert render_markdown(empty).startswith("# Small test framework\n")


# --- CLI ------------------------------------------------------------------------------------------


def _qms(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"}, catch_exceptions=not ok)
    if ok:
        assert result.exit_code == ExitCode.OK, result.output
    return result


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_cli_export_markdown_writes_the_file(tmp_path: Path, framework: Framework) -> None:
    out = tmp_path / "framework.md"
    result = _qms("export", "markdown", "tests/data/framework-small.yaml", "-o", str(out))
    assert out.read_text(encoding="utf-8") == render_markdown(framework)
    assert result.stdout == f"wrote {out}\n"


def test_cli_export_markdown_without_output_prints_to_stdout(framework: Framework) -> None:
    assert _qms("export", "markdown", "tests/data/framework-small.yaml").stdout == render_markdown(framework)


def test_cli_export_markdown_missing_framework_exits_2() -> None:
    result = _qms("export", "markdown", "nope.yaml", ok=False)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr == (
        "error: nope.yaml: no such file\n  hint: Run `qms consolidate` to write framework/framework.yaml.\n"
    )


def test_cli_export_markdown_into_a_missing_folder_exits_2(tmp_path: Path) -> None:
    result = _qms(
        "export", "markdown", "tests/data/framework-small.yaml", "-o", str(tmp_path / "no" / "x.md"), ok=False
    )
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "does not exist" in result.stderr
