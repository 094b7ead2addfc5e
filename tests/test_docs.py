import importlib
import re
import subprocess
import sys

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
    imports = re.findall(r"^from (qms_standards[\w.]*) import ([\w, ]+)$", README, flags=re.MULTILINE)
    assert len(imports) >= 5
    for module, names in imports:
        loaded = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(loaded, name), f"README: from {module} import {name}"
    for module, name in re.findall(r"`(\w+)\.(?!(?:py|yaml|md|xlsx|json)`)(\w+)`", README):
        if (ROOT / "src" / "qms_standards" / f"{module}.py").exists():  # `review_eval.simulate_review` ...
            found = hasattr(importlib.import_module(f"qms_standards.{module}"), name)
            assert found, f"README: {module}.{name}"
