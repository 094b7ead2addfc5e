"""Errors: the Problem/QmsError types, their rendering, and the bad-input corpus in tests/data/bad/.

Every bad input must give exit code 2, name `file:line` (and the field), carry a hint, show no
traceback and write nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from qms_standards import yamlsource
from qms_standards.cli import ExitCode, app
from qms_standards.cli._app import render_error
from qms_standards.errors import DuplicateIdError, MappingError, Problem, QmsError, StandardSetError, raise_if
from qms_standards.load import load_standard_sets, validate_paths

DATA = Path(__file__).resolve().parent / "data"
BAD = DATA / "bad"

# --- Problem and QmsError ------------------------------------------------------------------------


def test_problem_renders_path_line_field_message() -> None:
    problem = Problem("unknown key 'x'", Path("sets/a.yaml"), 7, "requirements[0].x", "Remove 'x'.")
    assert problem.location() == "sets/a.yaml:7: requirements[0].x"
    assert problem.render() == "sets/a.yaml:7: requirements[0].x: unknown key 'x'"


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (Problem("no such file", Path("a.yaml")), "a.yaml: no such file"),
        (Problem("bad", Path("a.yaml"), 3), "a.yaml:3: bad"),
        (Problem("bad", None, None, "ref"), "ref: bad"),
        (Problem("bad"), "bad"),
        (Problem("bad", None, 3), "bad"),  # a line without a file says nothing
    ],
)
def test_problem_renders_only_the_parts_it_knows(problem: Problem, expected: str) -> None:
    assert problem.render() == expected


def test_qms_error_sorts_problems_by_file_then_line_then_field() -> None:
    problems = [
        Problem("c", Path("b.yaml"), 1),
        Problem("b", Path("a.yaml"), 10, "z"),
        Problem("a", Path("a.yaml"), 2),
        Problem("d", Path("a.yaml"), 10, "a"),
    ]
    error = QmsError("4 problems", problems=problems)
    assert [p.message for p in error.problems] == ["a", "d", "b", "c"]
    assert (error.file, error.line, error.field) == (Path("a.yaml"), 2, None)
    assert str(error) == "a.yaml:2: a\na.yaml:10: a: d\na.yaml:10: z: b\nb.yaml:1: c"


def test_qms_error_from_keywords_is_one_problem() -> None:
    error = StandardSetError("bad id", file="a.yaml", line=3, field="id", hint="Fix it.")
    assert error.problems == [Problem("bad id", Path("a.yaml"), 3, "id", "Fix it.")]
    assert (error.file, error.line, error.field, error.hint) == (Path("a.yaml"), 3, "id", "Fix it.")
    assert isinstance(error, QmsError)


def test_raise_if_raises_one_error_listing_every_problem() -> None:
    raise_if([])  # nothing to report: no error
    with pytest.raises(MappingError) as info:
        raise_if([Problem("b", Path("x"), 2), Problem("a", Path("x"), 1)], MappingError)
    assert info.value.args == ("2 problems found",)
    assert [p.line for p in info.value.problems] == [1, 2]
    with pytest.raises(QmsError) as info:
        raise_if([Problem("a")])
    assert info.value.args == ("1 problem found",)


def _rendered(error: QmsError) -> str:
    out = io.StringIO()
    render_error(error, Console(file=out, width=40, color_system=None))
    return out.getvalue()


def test_render_error_prints_each_problem_with_its_hint_unwrapped_and_counts_them() -> None:
    error = QmsError(
        "x",
        problems=[
            Problem("a message long enough to wrap at forty columns", Path("a.yaml"), 1, "id", "Do this."),
            Problem("second", Path("b.yaml"), 2),
        ],
    )
    assert _rendered(error) == (
        "error: a.yaml:1: id: a message long enough to wrap at forty columns\n"
        "  hint: Do this.\n"
        "error: b.yaml:2: second\n"
        "2 problems found.\n"
    )


def test_render_error_escapes_rich_markup_from_user_input() -> None:
    error = QmsError("unknown key '[bold]x[/bold]'", file="[red]a.yaml", line=1, hint="Remove '[i]x'.")
    assert _rendered(error) == "error: [red]a.yaml:1: unknown key '[bold]x[/bold]'\n  hint: Remove '[i]x'.\n"


def test_load_standard_sets_raises_duplicate_id_error_when_only_ids_clash() -> None:
    with pytest.raises(DuplicateIdError):
        load_standard_sets([BAD / "sets" / "duplicate-set-id"])
    with pytest.raises(StandardSetError) as info:
        load_standard_sets([BAD / "sets" / "unknown-key.yaml"])
    assert not isinstance(info.value, DuplicateIdError)


# --- The bad-input corpus ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input and the problem `qms validate` must report for it."""

    id: str
    paths: list[str]
    file: str
    line: int | None
    field: str | None
    message: str
    problems: int = 1


CORPUS = [Case(**entry) for entry in yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))]

_SET_HEAD = (
    'id: generated\nname: Generated\npublisher: Test\nversion: "1"\nlicence: Test data\nrequirements:\n'
)


def _huge_field(root: Path) -> Case:
    text = "Staff are trained. " * 1100  # 20,900 characters: over the 20,000 limit
    body = f'  - id: "1"\n    title: Training\n    text: {text}\n'
    (root / "huge.yaml").write_text(_SET_HEAD + body, encoding="utf-8")
    return Case(
        "huge-field",
        ["huge.yaml"],
        "huge.yaml",
        9,
        "requirements[0].text",
        "string should have at most 20000 characters",
    )


def _png_header(root: Path) -> Case:
    (root / "image.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    return Case(
        "binary-not-utf8", ["image.yaml"], "image.yaml", 1, None, "not UTF-8 text (byte 0x89 at offset 0)"
    )


def _nul_bytes(root: Path) -> Case:
    (root / "nul.yaml").write_bytes(b"id: nul\nname: \x00\x00\x01\x02\n")
    return Case("nul-bytes", ["nul.yaml"], "nul.yaml", 2, None, "file holds NUL bytes")


def _control_character(root: Path) -> Case:
    (root / "bell.yaml").write_bytes(_SET_HEAD.encode() + b'  - id: "1"\n    title: Ring\x07\n')
    return Case("control-character", ["bell.yaml"], "bell.yaml", 8, None, "character U+0007 is not allowed")


def _utf16(root: Path) -> Case:
    (root / "utf16.yaml").write_bytes(_SET_HEAD.encode("utf-16"))
    return Case("utf-16", ["utf16.yaml"], "utf16.yaml", 1, None, "not UTF-8 text (byte 0xff at offset 0)")


def _deep_nesting(root: Path) -> Case:
    (root / "deep.yaml").write_text(_SET_HEAD + "  - " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    return Case("deep-nesting", ["deep.yaml"], "deep.yaml", 7, None, "nested too deeply")


def _missing_path(root: Path) -> Case:
    return Case("missing-path", ["nowhere.yaml"], "nowhere.yaml", None, None, "no such file or folder")


def _empty_folder(root: Path) -> Case:
    (root / "empty").mkdir()
    (root / "empty" / "notes.txt").write_text("not a standard set\n", encoding="utf-8")
    return Case("folder-without-yaml", ["empty"], "empty", None, None, "folder holds no .yaml files")


def _several_files(root: Path) -> Case:
    (root / "b.yaml").write_text(_SET_HEAD + '  - id: "1"\n    title: T\n', encoding="utf-8")
    (root / "a.yaml").write_text("id: [\n", encoding="utf-8")
    return Case(
        "problems-in-two-files",
        ["b.yaml", "a.yaml"],
        "b.yaml",
        7,
        "requirements[0].text",
        "required field 'text' is missing",
        problems=2,
    )


GENERATED: list[Callable[[Path], Case]] = [
    _huge_field,
    _png_header,
    _nul_bytes,
    _control_character,
    _utf16,
    _deep_nesting,
    _missing_path,
    _empty_folder,
    _several_files,
]


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in sorted(root.rglob("*"))
    }


def _expect_cli(root: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    before = _listing(root)
    result = CliRunner().invoke(app, ["validate", *case.paths])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""  # errors go to stderr
    lines = result.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == case.problems, result.stderr
    where = case.file if case.line is None else f"{case.file}:{case.line}"
    prefix = f"error: {where}: " + (f"{case.field}: " if case.field else "")
    found = [i for i in errors if lines[i].startswith(prefix) and case.message in lines[i]]
    assert found, f"no line starting {prefix!r} and holding {case.message!r} in:\n{result.stderr}"
    assert lines[found[0] + 1].startswith("  hint: "), result.stderr
    assert all(lines[i + 1].startswith("  hint: ") for i in errors), result.stderr
    assert _listing(root) == before, "validate wrote or changed a file"


def _expect_library(root: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    with pytest.raises(QmsError) as info:
        validate_paths([Path(p) for p in case.paths])
    problems = info.value.problems
    assert len(problems) == case.problems, problems
    matching = [p for p in problems if (p.file, p.line, p.field) == (Path(case.file), case.line, case.field)]
    assert len(matching) == 1, problems
    assert case.message in matching[0].message
    assert all(p.hint for p in problems)
    assert problems == sorted(problems, key=Problem.sort_key)


def test_corpus_is_large_and_every_file_in_it_is_used() -> None:
    assert len(CORPUS) + len(GENERATED) >= 20
    assert len({case.id for case in CORPUS}) == len(CORPUS)
    used = {str((BAD / p).resolve()) for case in CORPUS for p in [*case.paths, case.file]}
    # frameworks/ and gold/ are exercised by tests/test_bad_inputs.py through diff, export and evaluate.
    for path in [*(BAD / "sets").rglob("*"), *(BAD / "mappings").rglob("*")]:
        if path.is_file():
            assert any(str(path.resolve()).startswith(u) for u in used), f"{path} is in no case"


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_bad_input_cli(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    _expect_cli(BAD, case, monkeypatch)


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_bad_input_library(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    _expect_library(BAD, case, monkeypatch)


@pytest.mark.parametrize("make", GENERATED, ids=[f.__name__.strip("_") for f in GENERATED])
def test_generated_bad_input(
    make: Callable[[Path], Case], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = make(tmp_path)
    _expect_library(tmp_path, case, monkeypatch)
    _expect_cli(tmp_path, case, monkeypatch)


def test_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsource, "MAX_FILE_BYTES", 100)  # rather than writing 64 MB
    (tmp_path / "big.yaml").write_text(_SET_HEAD + "#" * 100 + "\n", encoding="utf-8")
    case = Case("too-big", ["big.yaml"], "big.yaml", None, None, "file is 193 bytes, over the 100-byte limit")
    _expect_library(tmp_path, case, monkeypatch)
    _expect_cli(tmp_path, case, monkeypatch)
