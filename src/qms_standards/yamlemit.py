"""A fast writer of canonical YAML that writes, byte for byte, what PyYAML's pure-Python emitter writes.

`files.dump_yaml` formats plain data (dicts, lists, text, numbers, booleans, None) with PyYAML's `_Dumper`.
That emitter runs a state machine per value and inspects every character in Python, twice: a framework of
20,000 requirements (28 MB) took most of a warm run to write. This module walks the same data and writes the
same text without the machinery:

- the layout (block mappings and sequences, `[]` and `{}` for empty ones, indentation, line breaks) follows
  the emitter's own steps (`write_indent`, `write_indicator`, the block handlers), kept in the same state;
- a text value whose style the emitter would choose as plain, single-quoted or literal (`|`), and which
  holds only ordinary characters, is classified and written with string operations that give the
  emitter's result (`analyze_scalar` and `choose_scalar_style` worked out for those characters);
- every other value (double quotes, control characters, tabs, NEL and the Unicode line separators, a
  value that could reach the line width) is written by PyYAML's emitter itself, put in the same state.

Whatever this writer does not reproduce (a key that is not simple, a root that is not a mapping or a list,
a type other than dict, list, str, int, float, bool and None, an object that appears twice, deep nesting)
raises `Unsupported`, and `dump_yaml` writes the document with the reference emitter instead. Tests hold
the two to the same bytes (`tests/test_yamlemit.py`).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import ScalarEvent

_STR_TAG = "tag:yaml.org,2002:str"
# Characters `Emitter.analyze_scalar` counts as special with allow_unicode (they force double quotes), and
# the line breaks other than LF (written in double quotes by `_str_representer`): a value holding one is
# written by the emitter itself.
_NOT_FAST = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010fffe]"
)
# A leading character that makes a plain scalar impossible (`analyze_scalar`'s leading indicators).
_LEADING_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_MAX_DEPTH = 100  # deeper data goes to the reference emitter (whose representer recurses)


class Unsupported(Exception):  # noqa: N818 - a signal to use the reference emitter, not an error
    """The data holds something this writer does not reproduce; the reference emitter writes it."""


def _block_plain_ok(value: str) -> bool:
    """`analyze_scalar(value).allow_block_plain` for a non-empty value without line breaks or specials.

    With those excluded, the only whitespace `analyze_scalar` looks for is the space.
    """
    first = value[0]
    if first == " " or value[-1] == " " or first in _LEADING_INDICATORS:
        return False
    if first in "?:-" and (len(value) == 1 or value[1] == " "):
        return False
    if value.startswith(("---", "...")):
        return False
    # ':' followed by whitespace or the end, and '#' after whitespace, are block indicators anywhere.
    return not (": " in value or value[-1] == ":" or " #" in value)


class FastWriter:
    """Writes one document the way `yaml.dump(data, Dumper=dumper_class, **options)` does."""

    def __init__(self, dumper_class: type[yaml.SafeDumper], **options: Any) -> None:
        self.chunks: list[str] = []
        # The reference dumper, for the values written by PyYAML's own emitter, and for its settings.
        self.em = dumper_class(self, **options)
        self.em.tag_prefixes = dict(self.em.DEFAULT_TAG_PREFIXES)
        self.width: int = self.em.best_width
        self.step: int = self.em.best_indent
        # The emitter's state: the column, and whether the last character written was whitespace or
        # indentation, and whether the document is open-ended (after a `|+` block).
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.open_ended = False
        self.seen: set[int] = set()
        self.plain: dict[str, bool] = {}  # text -> written plain (else single-quoted), for repeated values
        self.scalars: dict[tuple[type, str], tuple[str, bool]] = {}  # non-text value -> (text, plain)

    # The stream the reference emitter writes to.
    def write(self, data: str) -> None:  # noqa: D102
        self.chunks.append(data)

    def dump(self, data: Any) -> str:
        """The document, as the reference emitter writes it.

        Raises:
            Unsupported: the data holds something this writer does not reproduce.
        """
        if type(data) not in (dict, list):
            raise Unsupported("the root is not a mapping or a list")
        self._node(data, None, 0)
        self._indent(0)  # expect_document_end
        if self.open_ended:  # expect_document_start at the stream's end
            self._indicator("...", True)
            self._indent(0)
        return "".join(self.chunks)

    # --- The emitter's primitives (write_indicator, write_indent, write_line_break) ---------------------

    def _indicator(self, indicator: str, need_whitespace: bool, whitespace: bool = False) -> None:
        data = indicator if self.whitespace or not need_whitespace else " " + indicator
        self.whitespace = whitespace
        self.indention = False
        self.column += len(data)
        self.open_ended = False
        self.chunks.append(data)

    def _indent(self, indent: int) -> None:
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.chunks.append("\n")
            self.whitespace = self.indention = True
            self.column = 0
        if self.column < indent:
            self.whitespace = True
            self.chunks.append(" " * (indent - self.column))
            self.column = indent

    # --- Nodes ---------------------------------------------------------------------------------------

    def _node(self, data: Any, indent: int | None, depth: int, key: bool = False) -> None:
        kind = type(data)
        if kind is dict or kind is list:
            if key:
                raise Unsupported("a collection as a key")
            if id(data) in self.seen:
                raise Unsupported("an object that appears twice (the emitter writes an anchor)")
            if depth > _MAX_DEPTH:
                raise Unsupported("nested too deeply")
            self.seen.add(id(data))
            if not data:  # expect_flow_sequence / expect_flow_mapping, empty
                self._indicator("[" if kind is list else "{", True, whitespace=True)
                self._indicator("]" if kind is list else "}", False)
                return
            inner = 0 if indent is None else indent + self.step  # increase_indent, never indentless
            if kind is dict:
                for name, value in data.items():
                    self._indent(inner)
                    self._node(name, inner, depth + 1, key=True)
                    self._indicator(":", False)
                    self._node(value, inner, depth + 1)
            else:
                for item in data:
                    self._indent(inner)
                    # write_indicator('-', True, indention=True) keeps the indention flag as it was.
                    indention = self.indention
                    self._indicator("-", True)
                    self.indention = indention
                    self._node(item, inner, depth + 1)
            return
        scalar_indent = self.step if indent is None else indent + self.step  # increase_indent(flow=True)
        if kind is str:
            self._text(data, scalar_indent, key)
        elif kind is int or kind is float or kind is bool or data is None:
            self._other(data, scalar_indent, key)
        else:
            raise Unsupported(f"a value of type {kind.__name__}")

    def _text(self, value: str, indent: int, key: bool) -> None:
        plain = self.plain.get(value)
        if plain is None:
            if not value or _NOT_FAST.search(value):
                self._reference(value, indent, key)
                return
            if "\n" in value:
                self._literal(value, indent, key)
                return
            plain = (
                _block_plain_ok(value) and self.em.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG
            )
            self.plain[value] = plain
        if key and len(value) + len("!!str") >= 128:  # check_simple_key
            raise Unsupported("a key of 123 characters or more")
        if plain:
            self._plain(value, value, indent, key)
        else:
            self._single_quoted(value, indent, key)

    def _other(self, value: Any, indent: int, key: bool) -> None:
        """An int, float, bool or None: its text as the representer gives it, plain when the emitter would."""
        if key:
            self._reference(value, indent, key)
            return
        cache_key = (type(value), repr(value))
        found = self.scalars.get(cache_key)
        if found is None:
            node = self.em.represent_data(value)
            text = node.value
            plain = (
                bool(text)
                and not _NOT_FAST.search(text)
                and "\n" not in text
                and _block_plain_ok(text)
                and self.em.resolve(yaml.ScalarNode, text, (True, False)) == node.tag
            )
            found = self.scalars[cache_key] = (text, plain)
        text, plain = found
        if plain:
            self._plain(value, text, indent, key)
        else:
            self._reference(value, indent, key)

    # --- Scalar writers (write_plain, write_single_quoted, write_literal, for the values they take) ----

    def _plain(self, value: Any, text: str, indent: int, key: bool) -> None:
        data = text if self.whitespace else " " + text
        if self.column + len(data) > self.width:  # write_plain could break the line at a space
            self._reference(value, indent, key)
            return
        self.chunks.append(data)
        self.column += len(data)
        self.whitespace = self.indention = False

    def _single_quoted(self, text: str, indent: int, key: bool) -> None:
        body = text.replace("'", "''")
        if self.column + len(body) + 3 > self.width:  # write_single_quoted could break at a space
            self._reference(text, indent, key)
            return
        self._indicator("'", True)
        self.chunks.append(body)
        self.column += len(body)
        self._indicator("'", False)

    def _literal(self, text: str, indent: int, key: bool) -> None:
        # choose_scalar_style takes `|` when analyze_scalar allows a block: no trailing space and no space
        # before a line break (special characters are excluded already); otherwise double quotes.
        if key:
            raise Unsupported("a key holding a line break")
        if text[-1] == " " or " \n" in text:
            self._reference(text, indent, key)
            return
        hints = ""  # determine_block_hints
        if text[0] in " \n":
            hints += str(self.step)
        if text[-1] != "\n":
            hints += "-"
        elif len(text) == 1 or text[-2] == "\n":
            hints += "+"
        self._indicator("|" + hints, True)
        if hints.endswith("+"):
            self.open_ended = True
        margin = " " * indent
        lines = text.split("\n")
        # Each line after the indentation (an empty line gets none), then a final line break.
        self.chunks.append("\n" + "\n".join(margin + line if line else "" for line in lines))
        if text[-1] != "\n":
            self.chunks.append("\n")
        self.column = 0
        self.whitespace = self.indention = True

    def _reference(self, value: Any, indent: int, key: bool) -> None:
        """Write one scalar with PyYAML's own emitter, in this writer's state (expect_node, expect_scalar)."""
        em = self.em
        node = em.represent_data(value)
        assert isinstance(node, yaml.ScalarNode)  # only scalars come here
        detected = em.resolve(yaml.ScalarNode, node.value, (True, False))
        default = em.resolve(yaml.ScalarNode, node.value, (False, True))
        em.event = ScalarEvent(
            None, node.tag, (node.tag == detected, node.tag == default), node.value, style=node.style
        )
        em.column, em.whitespace, em.indention, em.open_ended = (
            self.column,
            self.whitespace,
            self.indention,
            self.open_ended,
        )
        em.indent, em.indents, em.flow_level = indent - self.step, [], 0
        em.root_context, em.simple_key_context = False, key
        em.analysis = em.style = em.prepared_anchor = em.prepared_tag = None
        if key and not em.check_simple_key():
            raise Unsupported("a key that is not simple")
        em.process_anchor("&")
        em.process_tag()
        em.increase_indent(flow=True)
        em.process_scalar()
        self.column, self.whitespace, self.indention, self.open_ended = (
            em.column,
            em.whitespace,
            em.indention,
            em.open_ended,
        )
