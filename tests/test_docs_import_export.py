"""docs/import-export.md: every `$ qms` example runs and prints what the page shows."""

from __future__ import annotations

import re
import shlex
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from conftest import DATA, MAPPINGS, ROOT, STANDARDS, FakeEmbedder
from qms_standards.cli import app

DOC = (ROOT / "docs" / "import-export.md").read_text(encoding="utf-8")
runner = CliRunner()


def _examples() -> list[tuple[str, list[str]]]:
    """(command, lines it shows) for each `$ qms` line in a console block, in page order."""
    out: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", DOC, flags=re.S):
        for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
            if chunk.startswith("$ qms "):
                command, *shown = chunk.rstrip("\n").split("\n")
                out.append((command[2:], [line for line in shown if line and line != "..."]))
    return out


def _policies_xlsx(path: Path) -> None:
    """The workbook the page describes: ids in a General column, an empty text, a duplicate, a merge."""
    book = Workbook()
    ws = book.active
    ws.title = "Clauses"
    ws.append(["Ref", "Heading", "Requirement", "Part"])
    ws.append([1.1, "Reporting", "Report incidents.", "1 Report"])
    ws.append(["1.2", "Candour", None, "1 Report"])
    ws.append(["1.2", "Candour again", "Be open.", "1 Report"])
    ws.append([datetime(2025, 2, 1), "Learning", "Learn from incidents.", "2 Learn"])
    ws.append(["2.2", "Oversight", "The board oversees learning.", "2 Learn"])
    ws.append(["2.3", "Sharing", "Learning is shared.", None])
    ws.merge_cells("D6:D7")
    book.save(path)


def test_every_example_prints_what_the_page_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    examples = _examples()
    assert len(examples) == 8
    for name in ("ncsc-caf-3.2-excerpt.yaml", "oscal-catalog-small.json"):
        shutil.copy(DATA / "imports" / name, tmp_path / name)
    csv = re.search(r"`local-policies.csv`:\n\n```\n(.*?)```", DOC, flags=re.S)
    assert csv is not None
    (tmp_path / "local-policies.csv").write_text(csv.group(1), encoding="utf-8")
    _policies_xlsx(tmp_path / "policies.xlsx")
    shutil.copytree(STANDARDS, tmp_path / "standards")
    (tmp_path / "tests" / "data").mkdir(parents=True)
    shutil.copy(DATA / "framework-small.yaml", tmp_path / "tests" / "data" / "framework-small.yaml")
    monkeypatch.chdir(tmp_path)
    # `framework/framework.yaml` for the --sources-dir example: the shipped sets consolidated (fake
    # embedder; the page shows only the lines that do not depend on the engine).
    monkeypatch.setattr("qms_standards.embedding.SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    (tmp_path / "mappings").mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", tmp_path / "mappings" / "domains.yaml")
    consolidate = ["consolidate", "-s", str(STANDARDS), "-m", "mappings", "-o", "framework", "-q"]
    assert runner.invoke(app, [*consolidate, "--no-exports"], catch_exceptions=False).exit_code == 0
    for command, shown in examples:
        result = runner.invoke(app, shlex.split(command)[1:], env={"COLUMNS": "200"}, catch_exceptions=False)
        printed = result.output.splitlines()
        for line in shown:
            assert line in printed, f"{command}\n{line!r} not in:\n{result.output}"


def test_the_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = re.search(r"```python\n(.*?)```", DOC, flags=re.S)
    assert code is not None
    csv = re.search(r"`local-policies.csv`:\n\n```\n(.*?)```", DOC, flags=re.S)
    assert csv is not None
    (tmp_path / "local-policies.csv").write_text(csv.group(1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(code.group(1), "docs/import-export.md", "exec"), scope)
    assert "id: trust-policies-2025" in str(scope["text"])
