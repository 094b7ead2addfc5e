"""The fast YAML writer against PyYAML's own emitter: the same bytes for every input, or a fallback."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA
from engine_helpers import make_tree, run
from qms_standards.files import _DUMP_OPTIONS, _Dumper, dump_model, dump_yaml, dump_yaml_reference
from qms_standards.yamlemit import FastWriter, Unsupported

ROOT = DATA.parent.parent


def fast(data: Any) -> str:
    """The fast writer alone, without dump_yaml's fallback."""
    return FastWriter(_Dumper, **_DUMP_OPTIONS).dump(data)


def _yaml_files() -> list[Path]:
    found = [
        *ROOT.glob("standards/*.yaml"),
        *ROOT.glob("mappings/*.yaml"),
        *ROOT.glob("tests/golden/*.yaml"),
        *DATA.glob("*.yaml"),
        *DATA.glob("sets/*.yaml"),
        *DATA.glob("review/**/*.yaml"),
    ]
    return sorted(found)


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_project_files_are_written_alike(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert fast(data) == dump_yaml_reference(data)


def test_a_consolidated_framework_and_lock_are_written_alike(tmp_path: Path) -> None:
    result = run(*make_tree(tmp_path))
    for model in (result.framework, result.lock):
        data = model.model_dump(mode="json")
        assert fast(data) == dump_yaml_reference(data)
        assert dump_model(model) == dump_yaml_reference(data)


def test_the_framework_takes_the_fast_path_for_nearly_every_value(tmp_path: Path) -> None:
    # A guard on speed, not bytes: the emitter itself should write only the rare value (double quotes).
    data = run(*make_tree(tmp_path)).framework.model_dump(mode="json")
    with patch.object(FastWriter, "_reference", autospec=True, side_effect=FastWriter._reference) as slow:
        fast(data)
    assert slow.call_count <= 5


# --- Hand-picked corners ----------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "  ",
    "plain text",
    " leading",
    "trailing ",
    "a: b",
    "a:b",
    "a:",
    ":a",
    ": a",
    "?",
    "? a",
    "-",
    "- a",
    "-a",
    "--- a",
    "...",
    "... a",
    "a #b",
    "a#b",
    "#a",
    "'quoted'",
    '"quoted"',
    "it's",
    "a, b",
    "[a]",
    "{a}",
    "&a",
    "*a",
    "!a",
    "|a",
    ">a",
    "%a",
    "@a",
    "`a",
    "yes",
    "no",
    "on",
    "off",
    "Yes",
    "NO",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "1",
    "-1",
    "1e3",
    "1.0e3",
    "1.5",
    ".5",
    ".inf",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    "1_000",
    "1:30",
    "2024-01-31",
    "2024-01-31 10:00:00",
    "<<",
    "=",
    "tab\there",
    "\ttab",
    "nel\x85here",
    "line\u2028sep",
    "para\u2029sep",
    "bom\ufeff",
    "bell\x07",
    "nul\x00",
    "del\x7f",
    "c1\x9f",
    "nbsp\xa0x",
    "é",
    "日本語",
    "😀 emoji",
    "\ud800 lone surrogate",
    "\ufffe",
    "\U0010ffff",
    "\n",
    "\n\n",
    "a\n",
    "a\n\n",
    "a\nb",
    "a\nb\n",
    "\na",
    " a\nb",
    "a \nb",
    "a\n b",
    "a\n\n b\n",
    "a\nb ",
    "a\r\nb",
    "a\rb",
    "a\n\tb",
    "x" * 130,
    "word " * 30_000,
    "word " * 30_000 + "\nmore",
    ("it's " * 25_000).strip(),
    "a" * 120_000,
]


@pytest.mark.parametrize("text", NASTY, ids=repr)
def test_nasty_strings_as_values_items_and_keys(text: str) -> None:
    for data in ({"key": text}, [text], {"a": {"b": [text, {"c": text}]}}, [[text]], {"k": [[{"x": text}]]}):
        assert fast(data) == dump_yaml_reference(data), data
    data = {text: 1}
    try:
        assert fast(data) == dump_yaml_reference(data)
    except Unsupported:  # a key the emitter writes in the `? key` form
        assert "? " in dump_yaml_reference(data) or text == ""
    assert dump_yaml(data) == dump_yaml_reference(data)


SCALARS = [
    0,
    -7,
    10**30,
    1.5,
    -0.0,
    0.0,
    1e-05,
    1e16,
    1.0e300,
    math.inf,
    -math.inf,
    math.nan,
    True,
    False,
    None,
]


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_numbers_booleans_and_none(value: Any) -> None:
    for data in ({"key": value}, [value], {"a": [value, {"b": value}]}):
        assert fast(data) == dump_yaml_reference(data)
    assert dump_yaml({value: "x"}) == dump_yaml_reference({value: "x"})


def test_empty_collections_and_nesting() -> None:
    for data in ({}, [], {"a": []}, {"a": {}}, [[]], [{}], [[], {}, [[]]], {"a": [[], [{}]]}, [[[1]]]):
        assert fast(data) == dump_yaml_reference(data)


def test_a_literal_block_at_the_end_keeps_the_document_end_marker() -> None:
    # `|+` leaves the document open-ended: the emitter closes it with `...`.
    for data in ({"a": "x\n\n"}, ["x\n\n"], {"a": "x\n\n", "b": 1}, {"a": ["y", "x\n\n"]}):
        assert fast(data) == dump_yaml_reference(data)
    assert fast({"a": "x\n\n"}).endswith("...\n")


def test_what_the_fast_writer_leaves_to_the_reference() -> None:
    shared = {"a": 1}
    nested: Any = []
    for _ in range(150):
        nested = [nested]
    cases: list[Any] = [
        "root text",
        7,
        None,
        {"k": shared, "j": shared},  # an anchor and an alias
        {"a\nb": 1},  # a key holding a line break
        {"x" * 123: 1},  # a key too long to be simple
        {("a", "b"): 1},
        nested,
    ]
    for data in cases:
        with pytest.raises(Unsupported):
            fast(data)
        assert dump_yaml(data) == dump_yaml_reference(data)


def test_types_the_safe_dumper_refuses_are_refused_alike() -> None:
    class Text(str):
        pass

    for data in ({"a": (1, 2)}, {"a": Text("x")}, {"a": object()}, {"a": b"bytes"}):
        try:
            expected: Any = dump_yaml_reference(data)
        except yaml.YAMLError as exc:
            expected = type(exc)
        try:
            actual: Any = dump_yaml(data)
        except yaml.YAMLError as exc:
            actual = type(exc)
        assert actual == expected


# --- Property: any nested data with nasty text ------------------------------------------------------

_pieces = st.sampled_from(
    [
        " ",
        "  ",
        ":",
        ": ",
        "#",
        " #",
        "- ",
        "-",
        "?",
        "'",
        '"',
        "\\",
        "\n",
        "\n\n",
        "\t",
        "\r",
        "\x85",
        "\u2028",
        "\u2029",
        "\ufeff",
        "\x00",
        "\x1b",
        "é",
        "😀",
        "yes",
        "no",
        "null",
        "~",
        "1e3",
        "0x1F",
        "1.0",
        "2024-01-31",
        "---",
        "...",
        "[",
        "{",
        ",",
        "&",
        "*",
        "!",
        "|",
        ">",
        "%",
        "@",
        "`",
        "<<",
        "=",
        "a",
        "word",
    ]
)
_text = st.one_of(
    st.text(max_size=30),
    st.lists(_pieces, max_size=8).map("".join),
    st.builds(lambda a, b: a * b, st.sampled_from(["ab ", "it's ", "x: y "]), st.integers(0, 30_000)),
)
_scalars = st.one_of(
    _text,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
_keys = st.one_of(_text, st.integers(), st.booleans(), st.none())
_data = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.lists(_data, max_size=4) | st.dictionaries(_keys, _data, max_size=5))
def test_any_nested_data_is_written_as_the_reference_writes_it(data: Any) -> None:
    reference = dump_yaml_reference(data)
    assert dump_yaml(data) == reference
    try:
        written = fast(data)
    except Unsupported:  # only for a key the emitter writes in the `? key` form
        assert "? " in reference
    else:
        assert written == reference


def test_the_bench_step_script_reports_the_same_text() -> None:
    script = ROOT / "bench" / "yaml_io.py"
    done = subprocess.run(
        [sys.executable, str(script), str(DATA / "framework-v1.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "same text: True" in done.stdout and "load average" in done.stdout
