"""`qms validate`, `qms list`, `qms show` through typer's CliRunner, plus a smoke test of the installed `qms`.

Rich sizes its output to the terminal (or $COLUMNS), so every invocation pins COLUMNS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from qms_standards.cli import ExitCode, app, sets

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
MINI_A = "tests/data/mini-a.yaml"
WIDE = "250"


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # so paths in messages are short and exact


def qms(*args: str, columns: str = WIDE, ok: bool = True) -> Result:
    """Run `qms ARGS`; on a success path let any exception raise, so a bug cannot pass as exit 1."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": columns}, catch_exceptions=not ok)
    if ok:
        assert result.exit_code == ExitCode.OK, result.output
    return result


def _cells(output: str) -> list[list[str]]:
    """The body rows of a rich table, as lists of stripped cell texts."""
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def _expect_error(result: Result, *lines: str) -> None:
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert result.stdout == ""
    assert result.stderr == "".join(f"{line}\n" for line in lines)


# --- validate ------------------------------------------------------------------------------------

SUMMARY = (
    "ok: 1 standard set(s); 3 requirements; mappings: 7 domains, 0 must-link, 0 cannot-link, "
    "0 excluded, 0 locked ids\n"
)


def _domains_only(folder: Path) -> Path:
    """A mappings folder holding only the repository's domains.yaml (its overrides and lock change)."""
    folder.mkdir()
    shutil.copy(ROOT / "mappings" / "domains.yaml", folder)
    return folder


@pytest.mark.parametrize("columns", [WIDE, "80"])
def test_validate_a_set_and_the_mappings_prints_one_summary_line(columns: str, tmp_path: Path) -> None:
    result = qms("validate", MINI_A, str(_domains_only(tmp_path / "mappings")), columns=columns)
    assert result.stdout == SUMMARY
    assert result.stderr == ""


def test_validate_counts_sets_requirements_links_exclusions_and_locked_ids(tmp_path: Path) -> None:
    shutil.copy(ROOT / MINI_A, tmp_path / "mini-a.yaml")
    (tmp_path / "mini-b.yaml").write_text(
        "id: mini-b\nname: B\npublisher: T\nversion: '1'\nlicence: L\n"
        "requirements:\n  - {id: '1', title: T, text: X}\n  - {id: '2', title: U, text: Y}\n",
        encoding="utf-8",
    )
    mappings = _domains_only(tmp_path / "mappings")
    (mappings / "overrides.yaml").write_text(
        "must_link:\n  - refs: [mini-a:1, mini-b:1]\ncannot_link:\n  - refs: [mini-a:2, mini-b:2]\n"
        "exclude:\n  - ref: mini-a:3\n    reason: Covered elsewhere.\n",
        encoding="utf-8",
    )
    (mappings / "ids.lock.yaml").write_text(
        "standards:\n  - {id: QS-001, refs: [mini-a:1, mini-b:1]}\n  - {id: QS-002, refs: [mini-a:2]}\n"
        "totals: {standards: 2, retired: 0, refs: 3}\n",
        encoding="utf-8",
    )
    result = qms("validate", str(tmp_path), str(mappings))
    assert result.stdout == (
        "ok: 2 standard set(s); 5 requirements; mappings: 7 domains, 1 must-link, "
        "1 cannot-link, 1 excluded, 2 locked ids\n"
    )


def test_validate_sets_alone_does_not_mention_mappings() -> None:
    assert qms("validate", MINI_A).stdout == "ok: 1 standard set(s); 3 requirements\n"


def test_validate_defaults_to_standards_and_mappings_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "standards").mkdir()
    shutil.copy(ROOT / MINI_A, tmp_path / "standards")
    _domains_only(tmp_path / "mappings")
    monkeypatch.chdir(tmp_path)
    assert qms("validate").stdout == SUMMARY


def test_the_shipped_library_and_mappings_validate() -> None:
    result = qms("validate")  # standards/ and mappings/ of the repository
    assert result.stdout.startswith("ok: ") and "; mappings: 7 domains, " in result.stdout
    assert result.stdout.count("\n") == 1


def test_validate_without_standards_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _expect_error(
        qms("validate", ok=False),
        "error: standards: no such file or folder",
        "  hint: Check the path (standard sets live in standards/).",
    )


def test_validate_reports_every_problem_and_their_count() -> None:
    result = qms(
        "validate", "tests/data/bad/sets/tabs.yaml", "tests/data/bad/sets/unknown-key.yaml", ok=False
    )
    _expect_error(
        result,
        "error: tests/data/bad/sets/tabs.yaml:8: invalid YAML: while scanning for the next token found "
        "character '\\t' that cannot start any token",
        "  hint: YAML does not allow tab characters for indentation; replace them with spaces.",
        "error: tests/data/bad/sets/unknown-key.yaml:10: requirements[0].severty: unknown key 'severty'",
        "  hint: Remove 'severty' or correct its spelling; allowed here: id, title, text, section, tags, "
        "severity, verified, url.",
        "2 problems found.",
    )


# --- list ----------------------------------------------------------------------------------------


def test_list_shows_one_row_per_set_and_a_total() -> None:
    result = qms("list", "--standards", MINI_A)
    assert result.stdout.splitlines()[0].strip() == f"Standard sets in {MINI_A}"
    assert (
        "┃ id     ┃ name            ┃ version ┃ publisher ┃ licence   ┃ text       ┃ requirements ┃"
        in result.stdout
    )
    assert _cells(result.stdout) == [
        ["mini-a", "Mini standard A", "1", "Test", "Test data", "paraphrase", "3"],
        ["", "1 sets", "", "", "", "", "3"],
    ]


def test_list_on_a_narrow_terminal_gives_a_block_per_set() -> None:
    lines = [line.rstrip() for line in qms("list", "--standards", MINI_A, columns="80").stdout.splitlines()]
    assert lines[:3] == [
        f"Standard sets in {MINI_A}: 1 sets, 3 requirements",
        "",
        "mini-a  3 requirements, text paraphrase",
    ]
    assert lines[3:] == ["name      Mini standard A", "version   1", "publisher Test", "licence   Test data"]


def test_list_a_folder_sorts_sets_by_id(tmp_path: Path) -> None:
    for name, set_id in (("a.yaml", "zz-last"), ("b.yaml", "aa-first")):
        (tmp_path / name).write_text(
            f"id: {set_id}\nname: {set_id}\npublisher: P\nversion: v\nlicence: L\ntext_is: verbatim\n"
            "requirements:\n  - {id: '1', title: T, text: X}\n",
            encoding="utf-8",
        )
    rows = _cells(qms("list", "-s", str(tmp_path)).stdout)
    assert [row[0] for row in rows] == ["aa-first", "zz-last", ""]
    assert rows[0][5] == "verbatim" and rows[-1] == ["", "2 sets", "", "", "", "", "2"]


def test_list_with_a_broken_set_exits_2() -> None:
    _expect_error(
        qms("list", "-s", "tests/data/bad/sets/empty.yaml", ok=False),
        "error: tests/data/bad/sets/empty.yaml:1: file is empty",
        "  hint: Add the content or delete the file.",
    )


def test_list_an_empty_folder_exits_2(tmp_path: Path) -> None:
    _expect_error(
        qms("list", "-s", str(tmp_path), ok=False),
        f"error: {tmp_path}: folder holds no .yaml files",
        "  hint: Add one YAML file per standard set.",
    )


def test_list_prints_names_holding_square_brackets_literally(tmp_path: Path) -> None:
    path = tmp_path / "markup.yaml"
    path.write_text(
        (ROOT / MINI_A)
        .read_text(encoding="utf-8")
        .replace("name: Mini standard A", 'name: "Mini [/bold] standard [draft]"'),
        encoding="utf-8",
    )
    assert _cells(qms("list", "-s", str(path)).stdout)[0][1] == "Mini [/bold] standard [draft]"


# --- show ----------------------------------------------------------------------------------------


def test_show_a_requirement_with_its_provenance() -> None:
    result = qms("show", "mini-a:1", "-s", MINI_A)
    assert result.stdout.splitlines()[0].strip() == "mini-a:1"
    assert _cells(result.stdout) == [
        ["title", "Learning from incidents"],
        ["text", "Incidents are reported, investigated and lessons are shared."],
        ["tags", "improvement"],
        ["severity", "4"],
        ["verified", "yes"],
        ["set", "Mini standard A (mini-a)"],
        ["edition", "1"],
        ["publisher", "Test"],
        ["licence", "Test data"],
        ["text is", "paraphrase"],
        ["file", MINI_A],
    ]


def test_show_leaves_out_empty_fields_and_prints_markup_literally(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "id: s\nname: S\npublisher: P\nversion: v\nlicence: L\nurl: https://example.org/s\n"
        "requirements:\n  - id: a/b\n    title: '[bold]Not bold[/bold]'\n    text: '[/] stray'\n"
        "    verified: false\n",
        encoding="utf-8",
    )
    rows = dict(_cells(qms("show", "s:a/b", "-s", str(path)).stdout))
    assert rows["title"] == "[bold]Not bold[/bold]" and rows["text"] == "[/] stray"
    assert rows["verified"] == "no (title not confirmed)" and rows["url"] == "https://example.org/s"
    assert "tags" not in rows and "severity" not in rows and "section" not in rows


def test_show_an_unknown_set_exits_2_with_one_error() -> None:
    _expect_error(
        qms("show", "nope:1", "-s", MINI_A, ok=False),
        f"error: ref: no standard set 'nope' in {MINI_A}",
        "  hint: Write refs as <set-id>:<requirement-id>; `qms list` shows the set ids.",
    )


def test_show_an_unknown_requirement_exits_2_with_one_error() -> None:
    _expect_error(
        qms("show", "mini-a:9.9", "-s", MINI_A, ok=False),
        "error: ref: set 'mini-a' has no requirement '9.9'",
        f"  hint: `qms list` shows the sets; requirement ids are in {MINI_A}.",
    )


# --- help and the installed command --------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "function"), [("validate", sets.validate), ("list", sets.list_sets), ("show", sets.show)]
)
def test_every_command_has_help(command: str, function: Callable[..., None]) -> None:
    result = qms(command, "--help")
    assert f"Usage: qms {command}" in result.stdout
    summary = (function.__doc__ or "").splitlines()[0]
    assert summary and summary in result.stdout


def test_no_arguments_prints_help() -> None:
    result = CliRunner().invoke(app, [], env={"COLUMNS": WIDE})
    assert "Usage: qms" in result.output
    assert all(name in result.output for name in ("validate", "list", "show"))


def _installed_qms() -> Path:
    script = Path(sys.executable).parent / "qms"
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    return script


def test_installed_qms_help_runs() -> None:
    done = subprocess.run(
        [str(_installed_qms()), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": WIDE},
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: qms" in done.stdout
    assert all(name in done.stdout for name in ("validate", "list", "show"))


def test_python_dash_m_runs_the_same_app() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "qms_standards", "validate", MINI_A],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok: 1 standard set(s); 3 requirements\n", "")


def test_installed_qms_exits_2_on_bad_input_without_a_traceback() -> None:
    done = subprocess.run(
        [str(_installed_qms()), "validate", "tests/data/bad/sets/latin1.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == ExitCode.BAD_INPUT
    assert done.stdout == ""
    assert done.stderr.startswith("error: tests/data/bad/sets/latin1.yaml:2: not UTF-8 text")
    assert "Traceback" not in done.stderr
