import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from conftest import ROOT
from qms_standards.cli import app

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix: str = "qms"):
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):  # typer vendors its own click: duck-type groups
            yield from _commands(command, path)
        else:
            yield path, command


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_there_are_commands_to_check() -> None:
    assert {"qms validate", "qms consolidate", "qms diff", "qms export tracker"} <= {p for p, _ in COMMANDS}


def test_every_command_has_help_and_appears_in_the_readme() -> None:
    for path, command in COMMANDS:
        assert (command.help or "").strip(), f"{path} has no help text"
        assert f"`{path}" in README or f"$ {path}" in README, f"{path} is not in README.md"
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option":
                assert (param.help or "").strip(), f"{path} {param.opts[0]} has no help text"


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = README[: README.index("## Commands")]
    assert "$ make demo" in head and "$ make test" in head


def test_ci_runs_the_readme_test_command() -> None:
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), re.M)


def test_installed_console_script_answers_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qms_standards", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "consolidate" in result.stdout


def test_every_import_the_readme_shows_works() -> None:
    # The README and the reference pages it links to (the library API is in docs/development.md).
    pages = "\n".join(
        p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    )
    imports = re.findall(r"^from (qms_standards[\w.]*) import ([\w, ]+)$", pages, flags=re.MULTILINE)
    assert len(imports) >= 5
    for module, names in imports:
        loaded = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(loaded, name), f"README: from {module} import {name}"
    for module, name in re.findall(r"`(\w+)\.(?!(?:py|yaml|md|xlsx|json)`)(\w+)`", pages):
        if (ROOT / "src" / "qms_standards" / f"{module}.py").exists():  # `review_eval.simulate_review` ...
            found = hasattr(importlib.import_module(f"qms_standards.{module}"), name)
            assert found, f"README: {module}.{name}"


# --- Every example in README.md and docs/*.md prints what it says ---------------------------------
#
# A ```console block holds `$ command` lines, each followed by the output it prints (stdout and stderr
# together, as a terminal shows them). A page's blocks run in order, like a tutorial, in one scratch
# copy of the repository (standards/, mappings/, tests/data/, a git history on a `main` branch), and
# each output must match what the page shows line for line: a line `...` stands for any number of lines,
# `[...]` for any text within a line. `make` lines are not run (they install things): the target must
# exist. A page whose blocks run the embedding model (consolidate, review, explain, evaluate) is a slow
# test. Examples not meant to run as they stand (output shapes, fragments) go in ```text blocks. A page
# can set up what its examples need, unseen by readers, in `<!-- docs-test ... -->` comments of
# `$ command` lines (run in page order; output not compared, but they must succeed); `$QMS_REPO` there
# is the repository.

DOC_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Pages whose console examples need inputs the page does not create (filled trackers, returned
# workbooks, spreadsheets to import); each is skipped by name, with the reason, until it sets them up.
UNCHECKED = {
    "import-export.md": "checked by tests/test_docs_import_export.py, which builds the files it imports",
    "promises.md": "needs a consolidated framework and filled trackers the page does not create",
    "self-assessment.md": "needs a consolidated framework and returned trackers the page does not create",
}
CONSOLE = re.compile(r"^```console\n(.*?)^```|^<!-- docs-test\n(.*?)^-->", re.S | re.M)
SETUP = "#setup\n"  # marks a hidden block: its commands must succeed, their output is not compared
MODEL_COMMANDS = re.compile(r"^\$ qms (consolidate|review|explain|evaluate)\b", re.M)


def _pages() -> list:  # type: ignore[type-arg]
    params = []
    for page in DOC_PAGES:
        text = page.read_text(encoding="utf-8")
        blocks = [
            (text[: m.start()].count("\n") + 1, m.group(1) if m.group(1) is not None else SETUP + m.group(2))
            for m in CONSOLE.finditer(text)
        ]
        if blocks:
            marks = [pytest.mark.slow] if any(MODEL_COMMANDS.search(b) for _, b in blocks) else []
            if page.name in UNCHECKED:
                marks.append(pytest.mark.skip(reason=f"{page.name}: {UNCHECKED[page.name]}"))
            if "$QMS_REPO/../shared" in text and not (ROOT.parent / "shared" / "eval").is_dir():
                marks.append(pytest.mark.skip(reason=f"{page.name}: needs shared/eval beside the repository"))
            params.append(pytest.param(page, blocks, id=page.name, marks=marks))
    return params


def _steps(block: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality (trailing spaces ignored), where an expected `...` matches any lines."""
    while expected and not expected[-1].strip():
        expected = expected[:-1]
    while actual and not actual[-1].strip():
        actual = actual[:-1]
    pattern = "".join(
        r"(?:[^\n]*\n)*?"
        if line.strip() == "..."
        else "[^\n]*".join(re.escape(part) for part in line.rstrip().split("[...]")) + r"\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(line.rstrip() + "\n" for line in actual)) is not None


def _environment() -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "HF_HUB_OFFLINE": "1"}
    env.update({"GIT_AUTHOR_NAME": "d", "GIT_AUTHOR_EMAIL": "d@e", "GIT_COMMITTER_NAME": "d"})
    env["GIT_COMMITTER_EMAIL"] = "d@e"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """A copy of the shipped data with a git history, as a quality lead's clone has."""
    repo = tmp_path / "repo"
    for folder in ("standards", "mappings", "tests/data"):  # as a clone has them
        shutil.copytree(ROOT / folder, repo / folder)
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "start"]):
        subprocess.run(["git", *args], cwd=repo, env=_environment(), check=True, capture_output=True)
    return repo


@pytest.mark.parametrize(("page", "blocks"), _pages())
def test_every_console_example_prints_what_the_page_shows(
    page: Path, blocks: list[tuple[int, str]], scratch_repo: Path
) -> None:
    env = _environment()
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    env["QMS_REPO"] = str(ROOT)
    for line, block in blocks:
        for command, expected in _steps(block):
            if command.startswith("make "):
                assert re.search(rf"^{re.escape(command.split()[1])}:", makefile, re.M), command
                continue
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=scratch_repo,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            actual = (done.stdout + done.stderr).splitlines()
            if block.startswith(SETUP):
                assert done.returncode == 0, f"{page.name}:{line}: setup $ {command}\n" + "\n".join(actual)
                continue
            assert _matches(expected, actual), (
                f"{page.name}:{line}: $ {command}\n--- the page shows:\n"
                + "\n".join(expected)
                + "\n--- the tool printed:\n"
                + "\n".join(actual)
            )


def test_the_example_matcher() -> None:
    assert _matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert _matches(["a", "...", "b"], ["a", "b"])
    assert not _matches(["a", "b"], ["a", "c"])
    assert _matches(["a   ", ""], ["a"])
    assert _matches(["x [...] z"], ["x y y z"]) and not _matches(["x [...] z"], ["x y", "z"])
