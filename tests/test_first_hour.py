"""What a new reader following the README stumbled on: each fix, checked."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from qms_standards.cli import app

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
