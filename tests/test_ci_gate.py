"""The documented CI gate works when pasted: its steps run on a pull-request-like pair of commits.

The GitHub Actions workflow in docs/ci.md is read from the page itself; every `run:` step except the
install runs in a temporary git repository whose base branch holds one framework and whose pull request
holds another, with GitHub's expressions and files (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`) stood in for.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from conftest import DATA, ROOT
from qms_standards.cli.sets import DEFAULT_FRAMEWORK_DIR

DOC = ROOT / "docs" / "ci.md"
GITIGNORE = ROOT / ".gitignore"
FRAMEWORK = f"{DEFAULT_FRAMEWORK_DIR.as_posix()}/framework.yaml"


def _workflow() -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    (workflow,) = [yaml.safe_load(b) for b in blocks if "pull_request" in b]
    return workflow


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def _pull_request(tmp_path: Path, base: Path, head: Path) -> Path:
    """A clone as actions/checkout leaves it: the PR's commit checked out, origin/main fetched."""
    repo = tmp_path / "repo"
    (repo / DEFAULT_FRAMEWORK_DIR).mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    shutil.copy(base, repo / FRAMEWORK)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "agreed framework")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(repo, "checkout", "-q", "-b", "proposal")
    shutil.copy(head, repo / FRAMEWORK)
    _git(repo, "commit", "-q", "-am", "proposed framework")
    return repo


def _expand(text: str, outputs: dict[str, str]) -> str:
    """Replace the GitHub expressions the workflow uses."""
    text = text.replace("${{ github.base_ref }}", "main")
    return re.sub(r"\$\{\{ steps\.(\w+)\.outputs\.(\w+) \}\}", lambda m: outputs.get(m.group(2), ""), text)


def _condition(text: str | None, outputs: dict[str, str]) -> bool:
    if text is None:
        return True
    match = re.fullmatch(r"steps\.\w+\.outputs\.(\w+) != '(.*)'", text.strip())
    assert match, f"the test does not know how to evaluate `if: {text}`"
    return outputs.get(match.group(1)) != match.group(2)


def _run_job(repo: Path, tmp_path: Path) -> tuple[int, dict[str, str], str]:
    """Run the job's steps as a runner would; returns the job's exit code, outputs and summary."""
    job = _workflow()["jobs"]["diff"]
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("")
    summary.write_text("")
    outputs: dict[str, str] = {}
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    for step in job["steps"]:
        if "run" not in step or step.get("name") == "Install qms" or not _condition(step.get("if"), outputs):
            continue
        env = {**os.environ, "PATH": path, "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output)}
        env.update({"GITHUB_STEP_SUMMARY": str(summary), **job.get("env", {})})
        env.update({k: _expand(str(v), outputs) for k, v in step.get("env", {}).items()})
        # GitHub runs `run:` with `bash --noprofile --norc -eo pipefail`.
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _expand(step["run"], outputs)],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for line in output.read_text().splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
        if done.returncode != 0:
            return done.returncode, outputs, summary.read_text()
    return 0, outputs, summary.read_text()


def test_the_workflow_watches_the_committed_framework_not_an_ignored_folder() -> None:
    workflow = _workflow()
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True
    assert on["pull_request"]["paths"] == [FRAMEWORK]
    ignored = GITIGNORE.read_text(encoding="utf-8").split()
    assert not any(FRAMEWORK.startswith(p.strip("/") + "/") for p in ignored), ignored
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    clean = next(line for line in makefile.splitlines() if line.startswith("\trm -rf") and "out" in line)
    assert DEFAULT_FRAMEWORK_DIR.as_posix() not in clean.split()


def test_the_gate_fails_a_pull_request_that_loses_a_source_and_says_why(tmp_path: Path) -> None:
    repo = _pull_request(tmp_path, DATA / "framework-v1.yaml", DATA / "framework-v2.yaml")
    code, outputs, summary = _run_job(repo, tmp_path)
    assert outputs["code"] == "1"
    assert code == 1
    first = summary.splitlines()[2]
    assert first.startswith("**Gate failed:**") and "source-lost (3)" in first and "removed (1)" in first
    assert (repo / "qms-diff.md").read_text(encoding="utf-8") == summary


def test_the_gate_passes_a_pull_request_that_changes_nothing_it_watches(tmp_path: Path) -> None:
    head = tmp_path / "renamed.yaml"
    head.write_text(
        (DATA / "framework-v1.yaml")
        .read_text(encoding="utf-8")
        .replace('version: "1.0"', 'version: "1.0.1"', 1)
    )
    repo = _pull_request(tmp_path, DATA / "framework-v1.yaml", head)
    code, outputs, summary = _run_job(repo, tmp_path)
    assert (code, outputs["code"]) == (0, "0"), summary
    assert "**Gate passed:**" in summary


def test_a_broken_framework_fails_the_job_with_exit_2_not_a_pass(tmp_path: Path) -> None:
    repo = _pull_request(tmp_path, DATA / "framework-v1.yaml", DATA / "framework-v2.yaml")
    (repo / FRAMEWORK).write_text("framework: {}\n", encoding="utf-8")  # a PR that breaks the file
    code, outputs, _ = _run_job(repo, tmp_path)
    assert outputs["code"] == "2" and code == 1
