"""Fuzzing the loader: whatever a file holds, loading it gives a set or a QmsError, and `qms validate` exits
0 or 2. Anything else (a traceback, exit 1, a hang) is a bug.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qms_standards.cli import ExitCode, app
from qms_standards.errors import Problem, QmsError
from qms_standards.load import load_standard_sets, validate_paths
from qms_standards.yamlsource import Document, _read_fast, read_yaml

TESTS = Path(__file__).resolve().parent
MINI_A = TESTS / "data" / "mini-a.yaml"
DOMAINS = TESTS.parent / "mappings" / "domains.yaml"

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces YAML gives meaning to, so random text hits the scanner's and parser's corners.
_TOKENS = [
    "id: ",
    "name: ",
    "requirements:\n",
    "  - ",
    "- ",
    ": ",
    ":",
    "\n",
    "\n  ",
    "\t",
    " ",
    "#",
    "'",
    '"',
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "*a",
    "!!str ",
    "!!int ",
    "!!python/name:os.system ",
    "? ",
    "|",
    ">-",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "<<: ",
    "~",
    "null",
    "yes",
    "1.0",
    "2024-01-31",
    "0x1F",
    "\\",
    "\ufeff",
    "\x85",
    "\u2028",
    "é",
    "😀",
    "\x07",
    "\r\n",
    "id: x\n",
    "title: T\n",
    "text: X\n",
    "severity: 9\n",
    "tags: [A]\n",
]
yaml_text = st.one_of(
    st.lists(st.sampled_from(_TOKENS) | st.text(max_size=5), max_size=40).map("".join),
    st.text(max_size=200),
)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["1", "7.1", "x-y", "mini-a:1", "D1"]),
)
_data = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10) | st.integers(0, 3), inner, max_size=5)
    ),
    max_leaves=25,
)

_FIELDS = [
    "id",
    "name",
    "publisher",
    "version",
    "licence",
    "text_is",
    "attribution",
    "url",
    "requirements",
    "title",
    "text",
    "section",
    "tags",
    "severity",
    "verified",
    "colour",
]


@st.composite
def mutated_sets(draw: st.DrawFn) -> str:
    """The good fixture with a few fields dropped or replaced by random values: schema errors galore."""
    data: dict[str, Any] = yaml.safe_load(MINI_A.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        requirements = data.get("requirements")
        pool = requirements if isinstance(requirements, list) and requirements else [{}]
        target = data if draw(st.booleans()) else draw(st.sampled_from(pool))
        if not isinstance(target, dict):
            continue
        key = draw(st.sampled_from(_FIELDS))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(_data)
    text = yaml.safe_dump(data, sort_keys=draw(st.booleans()), allow_unicode=True)
    cut = draw(st.integers(0, len(text)))
    return text if draw(st.booleans()) else text[:cut]  # sometimes truncated as well


_OVERRIDE_VALUES = st.one_of(
    st.sampled_from(["mini-a:1", "mini-a:2", "mini-a:3", "mini-a:9", "x:1", "D1", "D9", "QS-001"]), _scalars
)
_overrides = (
    st.fixed_dictionaries(
        {},
        optional={
            "must_link": st.lists(
                st.fixed_dictionaries({"refs": st.lists(_OVERRIDE_VALUES, max_size=3)}), max_size=3
            ),
            "cannot_link": st.lists(
                st.fixed_dictionaries({"refs": st.lists(_OVERRIDE_VALUES, max_size=3)}), max_size=3
            ),
            "exclude": st.lists(
                st.fixed_dictionaries({"ref": _OVERRIDE_VALUES}, optional={"reason": _scalars}), max_size=2
            ),
            "standards": st.lists(
                st.fixed_dictionaries(
                    {"id": _OVERRIDE_VALUES}, optional={"domain": _OVERRIDE_VALUES, "severity": _scalars}
                ),
                max_size=2,
            ),
            "extra": _data,
        },
    )
    | _data
)


@contextmanager
def _file(content: str | bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8", "surrogatepass"))
        else:
            path.write_bytes(content)
        yield path


def _loads_or_raises_qms_error(path: Path) -> None:
    try:
        load_standard_sets([path])
    except QmsError as error:
        assert error.problems, "a QmsError must carry at least one problem"
        for problem in error.problems:
            assert problem.file is not None and problem.hint, problem
            assert problem.line is None or problem.line >= 1, problem


def _validate_exits_0_or_2(*paths: Path) -> None:
    result = CliRunner().invoke(app, ["validate", *map(str, paths)], env={"COLUMNS": "200"})
    assert result.exit_code in (ExitCode.OK, ExitCode.BAD_INPUT), result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == ExitCode.BAD_INPUT:
        assert result.stderr.startswith("error: "), result.output


@FUZZ
@given(text=yaml_text)
def test_any_text_loads_or_gives_a_located_qms_error(text: str) -> None:
    with _file(text) as path:
        _loads_or_raises_qms_error(path)
        _validate_exits_0_or_2(path)


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_load_or_give_a_qms_error(data: bytes) -> None:
    with _file(data) as path:
        _loads_or_raises_qms_error(path)
        _validate_exits_0_or_2(path)


@FUZZ
@given(text=mutated_sets())
def test_a_mangled_standard_set_loads_or_gives_a_located_qms_error(text: str) -> None:
    with _file(text) as path:
        _loads_or_raises_qms_error(path)
        _validate_exits_0_or_2(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=_overrides, lock=st.none() | _data)
def test_any_overrides_and_lock_validate_or_give_a_qms_error(overrides: Any, lock: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        mappings = Path(folder)
        shutil.copy(DOMAINS, mappings / "domains.yaml")
        (mappings / "overrides.yaml").write_text(
            yaml.safe_dump(overrides, allow_unicode=True), encoding="utf-8"
        )
        if lock is not None:
            (mappings / "ids.lock.yaml").write_text(
                yaml.safe_dump(lock, allow_unicode=True), encoding="utf-8"
            )
        try:
            validate_paths([MINI_A, mappings])
        except QmsError as error:
            assert all(p.file is not None and p.hint for p in error.problems), error.problems
        _validate_exits_0_or_2(MINI_A, mappings)


def _tree(node: yaml.Node | None) -> Any:
    """A node tree as plain values: kind, tag, line and scalar text, for comparing two parsers."""
    if node is None:
        return None
    line = node.start_mark.line
    if isinstance(node, yaml.ScalarNode):
        # An omitted value (`key:` then nothing) has no text to sit on: at the end of a file PyYAML puts it
        # where the trailing blanks start and libyaml where they end. Either line is next to its key.
        return ("scalar", node.tag, None if node.value == "" and not node.style else line, node.value)
    if isinstance(node, yaml.SequenceNode):
        return ("sequence", node.tag, line, [_tree(child) for child in node.value])
    return ("mapping", node.tag, line, [(_tree(k), _tree(v)) for k, v in node.value])


def _reference_read(path: Path) -> tuple[Document | None, list[Problem]]:
    problems: list[Problem] = []
    with patch("qms_standards.yamlsource._read_fast", return_value=None):
        return read_yaml(path, problems), problems


def _same_as_reference(text: str) -> None:
    """`read_yaml` gives the same document, or the same problems, with the libyaml fast path as without."""
    with _file(text) as path:
        problems: list[Problem] = []
        document = read_yaml(path, problems)
        reference, reference_problems = _reference_read(path)
    assert problems == reference_problems
    assert (document is None) == (reference is None)
    if document is not None and reference is not None:
        assert repr(document.data) == repr(reference.data)
        assert _tree(document.node) == _tree(reference.node)


@FUZZ
@given(text=yaml_text | _data.map(lambda d: yaml.safe_dump(d, allow_unicode=True)))
def test_libyaml_reads_only_what_the_reference_parser_reads_and_the_same(text: str) -> None:
    _same_as_reference(text)


def test_libyaml_reads_the_shipped_files_as_the_reference_parser_does() -> None:
    root = TESTS.parent
    for path in sorted([*root.glob("standards/*.yaml"), *root.glob("mappings/*.yaml")]):
        fast = _read_fast(path.read_text(encoding="utf-8"), path)
        assert fast is not None, path
        reference, problems = _reference_read(path)
        assert reference is not None and not problems
        assert fast.data == reference.data and _tree(fast.node) == _tree(reference.node), path


def test_nesting_deeper_than_any_schema_goes_the_reference_way_without_crashing() -> None:
    # libyaml's composer recurses in C: this depth would crash it (a segfault, not an exception).
    deep = "[" * 200_000 + "]" * 200_000
    assert _read_fast(deep, Path("deep.yaml")) is None
    with _file(deep) as path:
        document, problems = _reference_read(path)
    assert document is None and "nested too deeply" in problems[0].message
