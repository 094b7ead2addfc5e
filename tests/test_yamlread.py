"""Reading YAML through libyaml's events (`yamlsource._build`): the reference parser's data and problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml

from qms_standards.errors import Problem
from qms_standards.yamlsource import _UNBUILT, MAX_FAST_DEPTH, _build, _read_fast, read_yaml

ROOT = Path(__file__).resolve().parent.parent


def _read(path: Path, fast: bool) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    if fast:
        document = read_yaml(path, problems)
    else:
        with patch("qms_standards.yamlsource._read_fast", return_value=None):
            document = read_yaml(path, problems)
    return document, problems


def _tree(node: yaml.Node | None) -> Any:
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.start_mark.line, node.value)
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, node.start_mark.line, [_tree(child) for child in node.value])
    return (node.tag, node.start_mark.line, [(_tree(k), _tree(v)) for k, v in node.value])


def _nested(depth: int) -> str:
    """`depth` mappings, one inside the other."""
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth)) + "  " * depth + "leaf\n"


CASES = {
    "plain": "id: a\nname: A\nlist:\n  - 1\n  - two\n  - {x: 1.5, y: null}\n",
    "scalars": "a: 1\nb: -0x1F\nc: 1e3\nd: 1.0e+3\ne: .inf\nf: ~\ng: yes\nh: 'yes'\ni: 2024-01-31\n"
    "j: 2024-01-31 10:00:00\nk: '007'\nl:\nm: 1_000\nn: 1:30\no: \"\"\n",
    "duplicate plain key": "a: 1\nb: 2\na: 3\n",
    "duplicate key by its text": "1: a\n'1': b\n",
    "duplicate nested key": "top:\n  - x: 1\n    x: 2\n",
    "same key in two mappings": "a: {x: 1}\nb: {x: 2}\n",
    "merge key": "base: {a: 1}\nother:\n  <<: {a: 2, b: 3}\n  c: 4\n",
    "value key": "=: x\nb: 1\n",
    "complex key": "? [a, b]\n: 1\n",
    "mapping as key": "? {a: 1}\n: 1\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "explicit empty document": "---\n",
    "comments only": "# nothing\n",
    "empty": "",
    "root scalar": "just text\n",
    "root list": "- 1\n- [2, 3]\n",
    "impossible date": "a: 2024-02-30\n",
    "bad int": "a: !!int x\n",
    "tag": "a: !!str 1\n",
    "anchor": "a: &x 1\nb: *x\n",
    "syntax error": "a: [1, 2\n",
    "literal blocks": "a: |\n  one\n  two\nb: >-\n  folded\n  text\n",
    "quoted multi-line": "a: 'one\n\n  two'\nb: \"x\\ty\"\n",
    f"nested {MAX_FAST_DEPTH} deep": _nested(MAX_FAST_DEPTH),
    f"nested {MAX_FAST_DEPTH + 1} deep": _nested(MAX_FAST_DEPTH + 1),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_the_fast_read_gives_the_reference_data_problems_and_lines(tmp_path: Path, text: str) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    document, problems = _read(path, fast=True)
    reference, reference_problems = _read(path, fast=False)
    assert problems == reference_problems
    assert (document is None) == (reference is None)
    if document is not None and reference is not None:
        assert repr(document.data) == repr(reference.data)
        assert _tree(document.node) == _tree(reference.node)


def test_what_goes_which_way() -> None:
    def built(text: str) -> Any:
        return _build(yaml.parse(text, Loader=yaml.CSafeLoader))

    assert built(CASES["plain"]) == yaml.safe_load(CASES["plain"])
    assert built(CASES["scalars"]) == yaml.safe_load(CASES["scalars"])
    for name in ("merge key", "value key", "complex key", "mapping as key", "two documents"):
        assert built(CASES[name]) is _UNBUILT, name  # left to libyaml's own constructor
    assert _read_fast(CASES["merge key"], Path("m.yaml")).data == yaml.safe_load(CASES["merge key"])
    for name in ("duplicate plain key", "duplicate key by its text", "duplicate nested key", "tag", "anchor"):
        assert _read_fast(CASES[name], Path("x.yaml")) is None, name  # the reference parser reports them
    assert _read_fast(_nested(MAX_FAST_DEPTH), Path("d.yaml")) is not None
    assert _read_fast(_nested(MAX_FAST_DEPTH + 1), Path("d.yaml")) is None  # too deep for libyaml's composer


def test_the_node_tree_is_composed_only_when_asked_for() -> None:
    document = _read_fast(CASES["plain"], Path("p.yaml"))
    assert document is not None and document._node is None
    assert document.line_of(("list", 2, "y")) == 6
    assert document._node is not None and document._compose is None


def test_the_shipped_files_read_fast_as_the_reference_reads_them() -> None:
    for path in sorted([*ROOT.glob("standards/*.yaml"), *ROOT.glob("mappings/*.yaml")]):
        built = _build(yaml.parse(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader))
        reference, problems = _read(path, fast=False)
        assert reference is not None and not problems
        assert repr(built) == repr(reference.data), path
