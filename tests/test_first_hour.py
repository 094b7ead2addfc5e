"""What a new reader following the README stumbled on: each fix, checked."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path
from unittest.mock import patch

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from conftest import DATA, ROOT
from qms_standards.cli import app
from qms_standards.cli import preview as cli_preview
from qms_standards.cli.preview import print_preview
from qms_standards.export import layout as L
from qms_standards.load import load_framework
from qms_standards.preview import preview_run
from qms_standards.tracker import FilledTracker

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_putting_the_example_back_never_checks_out_the_filled_tracker() -> None:
    # `git checkout framework` would restore the blank tracker committed before it was filled in.
    checkouts = [
        (page.name, line)
        for page in PAGES
        for line in page.read_text(encoding="utf-8").splitlines()
        if re.search(r"git checkout [\w/. ]*\bstandards\b", line)
    ]
    assert checkouts, "the README no longer says how to put the example back"
    for name, line in checkouts:
        assert not re.search(r"git checkout [\w/. ]*\bframework\b", line), f"{name}: {line}"
    walk = (ROOT / "README.md").read_text(encoding="utf-8")
    back = walk[walk.index("To put the example back") :]
    assert "$ git checkout standards mappings\n" in back and "$ qms consolidate -q\n" in back


@pytest.mark.parametrize("command", [["consolidate"], ["review"], ["evaluate"]])
def test_quiet_says_it_hides_only_the_progress_bars(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Hide the progress bars only; the summary and notes still print." in result.output


V1 = DATA / "framework-v1.yaml"
V2 = DATA / "framework-v2.yaml"


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose last commit holds V1 as framework/framework.yaml, with curly quotes and dashes."""
    (tmp_path / "framework").mkdir()
    text = V1.read_text(encoding="utf-8").replace(
        "name: Healthcare QMS framework", "name: Trust’s framework – v1"
    )
    (tmp_path / "framework" / "framework.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "copy.yaml").write_text(text, encoding="utf-8")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "framework")
    _git(tmp_path, "commit", "-q", "-m", "agreed")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _diff(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["diff", *args], env={"COLUMNS": "200"})


def test_diff_reads_the_old_side_from_a_git_revision_byte_for_byte(repo: Path) -> None:
    same = _diff("HEAD:framework/framework.yaml", "copy.yaml", "--fail-on", "any")
    assert same.exit_code == 0, same.output
    assert same.stdout.startswith("No changes: Trust’s framework – v1")
    by_revision = _diff("main:framework/framework.yaml", str(V2), "--json")
    by_file = _diff("copy.yaml", str(V2), "--json")
    assert by_revision.exit_code == by_file.exit_code == 0, by_revision.output
    assert json.loads(by_revision.stdout) == json.loads(by_file.stdout)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("NOPE:framework/framework.yaml", "error: OLD: git has no 'NOPE:framework/framework.yaml': "),
        ("HEAD:framework/missing.yaml", "error: OLD: git has no 'HEAD:framework/missing.yaml': "),
        ("HEAD:", "error: OLD: 'HEAD:' names no revision or no path"),
    ],
)
def test_diff_a_revision_git_lacks_is_exit_2_saying_how_to_name_one(
    repo: Path, spec: str, message: str
) -> None:
    result = _diff(spec, "copy.yaml")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message), result.stderr
    assert "HEAD:framework/framework.yaml" in result.stderr and "Traceback" not in result.output


def test_diff_a_revision_outside_a_repository_or_without_git_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    outside = _diff("HEAD:framework/framework.yaml", str(V2))
    assert outside.exit_code == 2, outside.output
    assert "this folder is not in a git repository" in outside.stderr
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    no_git = _diff("HEAD:framework/framework.yaml", str(V2))
    assert no_git.exit_code == 2, no_git.output
    assert "git is not installed, or not on PATH" in no_git.stderr


def test_diff_a_revisions_bad_framework_is_reported_against_the_revision(repo: Path) -> None:
    (repo / "framework" / "framework.yaml").write_text("framework: {}\n", encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "broken")
    result = _diff("HEAD:framework/framework.yaml", "copy.yaml")
    assert result.exit_code == 2, result.output
    assert "HEAD:framework/framework.yaml" in result.stderr and "qms-diff-" not in result.stderr


def test_a_tripped_gate_says_what_to_do_next_with_the_exclusion_to_paste() -> None:
    result = _diff(str(V1), str(V2), "--fail-on", "source-lost,removed")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    start = lines.index("fail: 4 change(s) match --fail-on: source-lost, removed")
    assert lines[start + 1].startswith("next: 3 requirement(s) are in no standard now. Put each back")
    yaml_lines = [line for line in lines[start + 1 :] if line.startswith("  ")]
    pasted = yaml.safe_load("\n".join(yaml_lines))
    lost = json.loads(_diff(str(V1), str(V2), "--json").stdout)
    refs = {c["ref"] for c in lost["changes"] if c["kind"] == "source-lost"}
    assert pasted["exclude"][0]["ref"] in refs and pasted["exclude"][0]["reason"]
    assert any(line.startswith("also: read the rows of those kinds above") for line in lines)
    quiet = _diff(str(V1), str(V2))
    assert "next:" not in quiet.stdout  # nothing tripped: nothing to do


def test_the_readme_says_the_gate_runs_only_once_the_workflow_is_added() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`.github/workflows/`" in readme and "pull request (a set of changes proposed" in readme


def test_the_local_check_is_the_same_command_in_the_readme_and_ci_md() -> None:
    def local(page: str) -> set[str]:
        text = (ROOT / page).read_text(encoding="utf-8")
        return set(re.findall(r"^\$ (qms diff \S+:framework/framework\.yaml .*)$", text, re.M))

    assert local("README.md") and local("README.md") == local("docs/ci.md")
    for page in ("README.md", "docs/ci.md"):  # PowerShell's re-encoding recipe is gone
        assert "| Out-File" not in (ROOT / page).read_text(encoding="utf-8")


def test_make_help_says_demo_writes_framework() -> None:
    demo = re.search(r"^demo:.*## (.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert demo and "framework/" in demo.group(1) and "out/" not in demo.group(1)


def test_a_dry_run_does_not_say_would_be_orphaned_of_a_row_already_orphaned() -> None:
    v1 = load_framework(V1)
    kept = v1.standards[0]
    gone = L.Entry(standard_id="QS-999", status="Met", owner="Ann", title="Retired long ago")
    fresh = L.Entry(standard_id=kept.id, status="Met", owner="Ann", sources=("nowhere:1",))
    tracker = FilledTracker(None, "f", "1", (), {}, {(kept.id, ""): fresh}, orphaned=(gone,))
    preview = preview_run(v1, v1, tracker)
    assert preview.still_orphaned == 1
    assert [o[0] for o in preview.orphaned] == [kept.id]  # the newly orphaned row alone
    out = io.StringIO()
    with patch.object(cli_preview, "console", Console(file=out, width=200)):
        print_preview(preview, "the committed framework")
    text = out.getvalue()
    assert f"Tracker row {kept.id} would be orphaned" in text and "QS-999 would be orphaned" not in text
    assert "1 row(s) already on the 'Orphaned entries' sheet would stay there." in text
