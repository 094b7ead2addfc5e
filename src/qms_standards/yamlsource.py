"""Read YAML keeping node positions, and turn pydantic errors into located problems."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.reader import Reader

from .errors import Problem, QmsError
from .files import read_input
from .models import SET_ID_PATTERN
from .textcheck import ID_HINT, TEXT_HINT

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 64 * 1024 * 1024  # a framework of 20,000 requirements is about 28 MB
MAX_EXPANDED_VALUES = 1_000_000
MAX_ALIAS_CHARS = 1_000_000
MAX_FAST_DEPTH = 64  # qms files nest six levels at most
# Characters libyaml reads differently from PyYAML (found by fuzzing the two against each other): it takes
# some tabs PyYAML rejects (`key: <tab>`) and skips a byte-order mark inside the text.
_LIBYAML_DIFFERS = re.compile("[\t\ufeff]")


class Document:
    """A parsed YAML file: its data and the node tree that knows every value's line.

    The node tree of a file read by libyaml is composed when first asked for (a problem to locate): a
    valid file, the usual case, never needs it, and composing it took a third of reading a large file.
    """

    def __init__(
        self,
        path: Path,
        data: Any,
        node: yaml.Node | None,
        compose: Callable[[], yaml.Node | None] | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self._node = node
        self._compose = compose

    @property
    def node(self) -> yaml.Node | None:
        """The root node (composed now if the file was read without one)."""
        if self._compose is not None:
            self._node, self._compose = self._compose(), None
        return self._node

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """1-based line of the value at `loc` (the deepest part of it that exists), or None."""
        node = self.node
        line = node.start_mark.line + 1 if node is not None else None
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            node, line = child, child.start_mark.line + 1
        return line


def _key_matches(key: yaml.Node, part: str | int) -> bool:
    """Whether `key` is the one pydantic calls `part`; it names a non-text key (1, null, a date) by repr."""
    if key.value == part:
        return True
    if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:str":
        return False
    value = yaml.constructor.SafeConstructor().construct_object(key)
    return bool(value == part) or repr(value) == part


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if _key_matches(key, part):
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def _key_node(node: yaml.Node | None, loc: tuple[str | int, ...]) -> yaml.Node | None:
    """The key node for the last part of `loc` (where an unknown key is written)."""
    for part in loc[:-1]:
        node = _child(node, part)
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if _key_matches(key, loc[-1]):
                return key
    return None


def read_yaml(path: Path, problems: list[Problem]) -> Document | None:
    """Parse one YAML file; on failure append the problem (encoding, syntax, duplicate keys), return None."""
    try:
        raw = read_input(path, MAX_FILE_BYTES)
    except QmsError as exc:
        problems.extend(exc.problems)
        return None
    if raw.startswith(b"PK\x03\x04"):  # a zip archive: .xlsx, .docx and .ods files all are
        problems.append(
            Problem(
                "this is a zip archive (an Excel workbook?), not a YAML text file",
                path,
                hint="Give the YAML file here (a framework is framework/framework.yaml); workbooks go to "
                "`qms tracker status` or `qms review --apply`.",
            )
        )
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(re.split(rb"\r\n|\r|\n", raw[: exc.start]))  # CR alone ends a line too (old Mac files)
        problems.append(
            Problem(
                f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                path,
                line,
                hint="Save the file as UTF-8 (in most editors: Save As, Encoding: UTF-8).",
            )
        )
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    # Old Mac line endings (CR alone) and Windows ones (CR LF) become LF: YAML reads them alike, and every
    # line number qms counts itself then matches the one an editor shows.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        problems.append(
            Problem(
                "file holds NUL bytes: it looks binary, not YAML",
                path,
                text[: text.index("\x00")].count("\n") + 1,
                hint="Point qms at a YAML text file.",
            )
        )
        return None
    fast = _read_fast(text, path)
    if fast is not None:
        return fast
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # inside the try: the reader rejects control characters right here
        node = loader.get_single_node()
        if node is None:
            problems.append(Problem("file is empty", path, 1, hint="Add the content or delete the file."))
            return None
        if not _check_aliases(node, path, problems, len(text)) or not _check_tags(node, path, problems):
            return None
        _check_duplicate_keys(node, path, problems)
        try:
            data = loader.construct_document(node)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError):
            # PyYAML raises plain errors for a value its type cannot hold: 2024-02-30, !!int ''.
            problems.append(_unreadable_value(node, path))
            return None
    except yaml.reader.ReaderError as exc:
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        problems.append(
            Problem(
                f"character U+{code:04X} is not allowed in YAML",
                path,
                text[: exc.position].count("\n") + 1,
                hint="Remove the control character; save the file as plain UTF-8 text.",
            )
        )
        return None
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(exc, text, path))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(f"invalid YAML: {exc}", path, hint="Fix the YAML syntax."))
        return None
    except RecursionError:
        # PyYAML's composer recurses once per nesting level; a few hundred levels exhaust the stack.
        deep_line = loader.get_mark().line + 1 if loader is not None else None
        problems.append(
            Problem(
                "values are nested too deeply",
                path,
                deep_line,
                hint="Standard sets nest three levels deep; check for runaway brackets.",
            )
        )
        return None
    finally:
        if loader is not None:
            loader.dispose()
    return Document(path, data, node)


def _read_fast(text: str, path: Path) -> Document | None:
    """Parse with libyaml (about 8x faster than pure-Python PyYAML) when it can only succeed cleanly.

    It returns a document only for a file that parses without a single problem and holds nothing the two
    parsers treat differently; anything else (libyaml missing, a syntax error, a duplicate key, a tag, an
    anchor, a tab) returns None, and the pure-Python parser reads the file again, to report any problem in
    its established words. libyaml's composer recurses in C, so a file nested deeper than any qms schema
    (found first from libyaml's event stream, which does not recurse) also goes the slow way, which reports
    it as too deeply nested rather than crashing.

    The data is built straight from libyaml's events (`_build`), as PyYAML's SafeConstructor would build
    it from the nodes; the node tree is composed only if a problem needs a line. A file the builder leaves
    alone (a merge key `<<`, a key that is not text) is composed and constructed by libyaml as before.
    """
    if not yaml.__with_libyaml__ or _LIBYAML_DIFFERS.search(text) or Reader.NON_PRINTABLE.search(text):
        return None
    try:
        built = _build(yaml.parse(text, Loader=yaml.CSafeLoader))
        if built is _REFUSED:
            return None
        if built is not _UNBUILT:
            return Document(path, built, None, lambda: _compose(text))
        if not _composable(text):  # the builder stopped early: check the rest before libyaml composes it
            return None
        # No anchor, alias or tag: aliases cannot expand this file.
        loader = yaml.CSafeLoader(text)
        try:
            node = loader.get_single_node()
            scratch: list[Problem] = []
            if node is None:
                return None
            _check_duplicate_keys(node, path, scratch)
            if scratch:
                return None
            return Document(path, loader.construct_document(node), node)
        finally:
            loader.dispose()
    except Exception:  # noqa: BLE001 - any failure is reported by the reference parser instead
        return None


def _composable(text: str) -> bool:
    """Whether libyaml's event stream holds no tag or anchor and nests no deeper than MAX_FAST_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if getattr(event, "tag", None) or getattr(event, "anchor", None):
            return False  # qms files use neither; the two parsers resolve some tags differently
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_FAST_DEPTH:
                return False
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return True


def _compose(text: str) -> yaml.Node | None:
    """The node tree libyaml composes for a file `_read_fast` accepted (not too deep for its composer)."""
    loader = yaml.CSafeLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


_REFUSED = object()  # the file goes to the reference parser
_UNBUILT = object()  # the builder leaves this file to libyaml's composer and constructor
_NO_KEY = object()
_STR_TAG = "tag:yaml.org,2002:str"
_BUILT_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
)


def _build(events: Iterator[Any]) -> Any:
    """The data of a one-document event stream, as SafeConstructor builds it from the composed nodes.

    Returns _REFUSED for what the reference parser must read (a tag, an anchor or alias, nesting deeper than
    MAX_FAST_DEPTH, a duplicate key by its text, as `_check_duplicate_keys` sees them, or no document), and
    _UNBUILT for what libyaml's own constructor handles (a key that is not a plain value, a merge key `<<`
    or a value key `=`, more than one document, which it refuses).
    """
    resolver = yaml.resolver.Resolver()
    constructor = yaml.constructor.SafeConstructor()
    scalar_node = yaml.ScalarNode
    resolved: dict[tuple[str, Any], Any] = {}  # (text, implicit) -> value, for the repeated plain values
    root: Any = _NO_KEY
    # One entry per open collection: [container, key or _NO_KEY, key texts seen] (a list: [list]).
    stack: list[list[Any]] = []
    documents = 0
    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.tag is not None or event.anchor is not None:
                return _REFUSED
            text = event.value
            cache_key = (text, event.implicit)
            value = resolved.get(cache_key, _NO_KEY)
            if value is _NO_KEY:
                tag = resolver.resolve(scalar_node, text, event.implicit)
                if tag == _STR_TAG:
                    value = text
                elif tag in _BUILT_TAGS:
                    value = constructor.yaml_constructors[tag](constructor, scalar_node(tag, text))
                else:
                    return _UNBUILT  # a merge `<<` or value `=` key
                resolved[cache_key] = value
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.tag is not None or event.anchor is not None:
                return _REFUSED
            if len(stack) >= MAX_FAST_DEPTH:
                return _REFUSED
            stack.append([{}, _NO_KEY, set()] if kind is yaml.MappingStartEvent else [[]])
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            value = stack.pop()[0]
            text = None
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                return _UNBUILT
            continue
        elif kind is yaml.AliasEvent:
            return _REFUSED
        else:  # stream start and end, document end
            continue
        if not stack:
            root = value
            continue
        top = stack[-1]
        if len(top) == 1:
            top[0].append(value)
        elif top[1] is _NO_KEY:
            if text is None:
                return _UNBUILT  # a collection as a key
            if text in top[2]:
                return _REFUSED  # a duplicate key: the reference parser names both lines
            top[2].add(text)
            top[1] = value
        else:
            top[0][top[1]] = value
            top[1] = _NO_KEY
    return _REFUSED if root is _NO_KEY else root


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, path: Path) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if mark is not None and exc.context_mark is not None and mark.index >= len(text):
        # Unexpected end of the file (an unclosed quote or bracket): point at where it was opened.
        mark = exc.context_mark
    lines = text.splitlines()
    line = min(mark.line + 1, max(len(lines), 1)) if mark is not None else None
    context = exc.context
    if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
        context = f"{context} at line {exc.context_mark.line + 1},"
    what = " ".join(x for x in (context, exc.problem) if x)
    hint = "Fix the YAML syntax at that line: check indentation (spaces, not tabs), colons and quotes."
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in (exc.problem or ""):
        hint = "Remove the tag (!!...): qms reads plain YAML values only."
    if line is not None and line <= len(lines):
        source = lines[line - 1]
        if "\t" in source[: len(source) - len(source.lstrip())]:
            hint = "YAML does not allow tab characters for indentation; replace them with spaces."
    return Problem(f"invalid YAML: {what}", path, line, hint=hint)


def _unreadable_value(node: yaml.Node, path: Path) -> Problem:
    """Find the scalar that PyYAML could not construct, to name its line."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            try:
                yaml.constructor.SafeConstructor().construct_object(current)
            except Exception:  # whatever PyYAML raises, this is the culprit, and it is reported
                kind = current.tag.rsplit(":", 1)[-1].replace("timestamp", "date")
                return Problem(
                    f"invalid YAML: {current.value!r} is not a valid {kind}",
                    path,
                    current.start_mark.line + 1,
                    hint="Correct the value, or quote it to keep it as text.",
                )
        stack.extend(reversed(_children(current)))
    return Problem(
        "invalid YAML: a value cannot be read",
        path,
        node.start_mark.line + 1,
        hint="Correct the value, or quote it to keep it as text.",
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_aliases(node: yaml.Node, path: Path, problems: list[Problem], text_chars: int = 0) -> bool:
    """Reject an alias that contains itself, or aliases that expand to a huge document ("billion laughs").

    Both would hang the loader or fill the memory: the node graph is walked once, counting each node's
    expanded size in values and in characters (a short file whose aliases repeat a long text is as bad as
    one whose aliases nest). Aliases may add at most `MAX_EXPANDED_VALUES` values to those the file writes
    and `MAX_ALIAS_CHARS` characters to its own, so the size of a file without aliases never counts here.
    """
    sizes: dict[int, tuple[int, int]] = {}  # node -> (values, characters) once expanded
    open_nodes: set[int] = set()  # nodes whose subtree is being walked: the ancestors of the current one
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, finished = stack.pop()
        key = id(current)
        if finished:
            open_nodes.discard(key)
            children = [sizes[id(child)] for child in _children(current)]
            own = len(current.value) if isinstance(current, yaml.ScalarNode) else 0
            sizes[key] = (1 + sum(c[0] for c in children), own + sum(c[1] for c in children))
        elif key in open_nodes:
            problems.append(
                Problem(
                    "an alias refers to a value that contains it (a recursive alias)",
                    path,
                    current.start_mark.line + 1,
                    hint="Replace the alias (*name) with the value.",
                )
            )
            return False
        elif key not in sizes:
            open_nodes.add(key)
            stack.append((current, True))
            stack.extend((child, False) for child in _children(current))
    values, chars = sizes[id(node)]
    written = len(sizes)  # each node once, as the file writes it: a large file without aliases is fine
    if values > written + MAX_EXPANDED_VALUES:
        problems.append(
            Problem(
                f"aliases expand the file to {values:,} values, more than {MAX_EXPANDED_VALUES:,} beyond "
                f"the {written:,} written in it",
                path,
                node.start_mark.line + 1,
                hint="Write the values out rather than nesting aliases (*name).",
            )
        )
        return False
    if chars > text_chars + MAX_ALIAS_CHARS:
        problems.append(
            Problem(
                f"aliases expand the file to {chars:,} characters of text, more than "
                f"{MAX_ALIAS_CHARS:,} beyond the {text_chars:,} written in it",
                path,
                node.start_mark.line + 1,
                hint="Write the values out rather than repeating them with aliases (*name).",
            )
        )
        return False
    return True


# Tags whose values have no fixed order (a set) or are not text (binary): an output built from them would
# change with the hash seed, or hold bytes no person typed.
_REFUSED_TAGS = {f"tag:yaml.org,2002:{name}": name for name in ("set", "omap", "pairs", "binary")}


def _check_tags(node: yaml.Node, path: Path, problems: list[Problem]) -> bool:
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.tag in _REFUSED_TAGS:
            problems.append(
                Problem(
                    f"!!{_REFUSED_TAGS[current.tag]} values are not accepted",
                    path,
                    current.start_mark.line + 1,
                    hint="Write a plain list ('- item' lines, or [a, b]) or plain text instead.",
                )
            )
            return False
        stack.extend(_children(current))
    return True


def _check_duplicate_keys(node: yaml.Node, path: Path, problems: list[Problem]) -> None:
    stack = [node]
    visited: set[int] = set()  # an aliased node is checked once, not once per alias
    while stack:
        current = stack.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in current.value:
                name = str(key.value)
                if name in seen:
                    problems.append(
                        Problem(
                            f"duplicate key '{name}' (first at line {seen[name]})",
                            path,
                            key.start_mark.line + 1,
                            name,
                            hint="Keep one of the two; YAML would silently drop the first.",
                        )
                    )
                else:
                    seen[name] = key.start_mark.line + 1
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def validate_document(doc: Document, cls: type[M], problems: list[Problem]) -> M | None:
    """Validate a document against a model; append one located problem per pydantic error."""
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__ if doc.data is not None else "nothing"
        problems.append(
            Problem(
                f"expected a mapping of keys ({', '.join(cls.model_fields)}), found {kind}",
                doc.path,
                doc.line_of(()),
                hint="Start the file with 'key: value' lines.",
            )
        )
        return None
    try:
        return cls.model_validate(doc.data)
    except ValidationError as exc:
        errors = exc.errors()
        for err in errors:
            # pydantic adds "too short after validation" to a list whose items failed: noise, not news.
            if err["type"] == "too_short" and any(
                len(o["loc"]) > len(err["loc"]) and o["loc"][: len(err["loc"])] == err["loc"] for o in errors
            ):
                continue
            problems.append(problem_from_error(doc, cls, err))
        return None


def problem_from_error(doc: Document, cls: type[BaseModel], err: Any) -> Problem:
    """Turn one pydantic error into `path:line: field: message` with a hint."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    field = _field_name(loc)
    kind = err["type"]
    if kind in ("extra_forbidden", "invalid_key"):  # the problem is the key itself: point at its line
        key = _key_node(doc.node, loc)
        line = key.start_mark.line + 1 if key is not None else doc.line_of(loc)
    else:
        line = doc.line_of(loc)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(cls, loc[:-1])
        hint = (
            f"Remove '{loc[-1]}' or correct its spelling; allowed here: {', '.join(allowed)}."
            if allowed
            else f"Remove '{loc[-1]}'."
        )
        return Problem(f"unknown key '{loc[-1]}'", doc.path, line, field, hint)
    if kind == "missing":
        return Problem(
            f"required field '{loc[-1]}' is missing",
            doc.path,
            line,
            field,
            f"Add '{loc[-1]}:' with a value to this entry.",
        )
    value = err.get("input")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    if len(shown) > 60:
        shown = shown[:57] + "..."
    message = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {shown})"
    hints = {
        "string_type": 'Put the value in quotes, e.g. version: "2015".',
        "int_type": "Write a whole number without quotes.",
        "int_parsing": "Write a whole number without quotes.",
        "bool_type": "Write true or false.",
        "tuple_type": "Write a list: one '- item' per line, or [a, b].",
        "list_type": "Write a list: one '- item' per line, or [a, b].",
        "model_type": "Write a mapping of 'key: value' lines here.",
        "dict_type": "Write a mapping of 'key: value' lines here.",
        "too_short": "Add at least one entry.",
        "string_too_short": "Write a non-empty value.",
        "string_too_long": "Shorten the value.",
        "string_pattern_mismatch": "Use lower-case letters, digits and hyphens, e.g. iso-9001-2015.",
        "literal_error": "Use one of the values listed.",
        "less_than_equal": "Use a smaller number within the range.",
        "greater_than_equal": "Use a larger number within the range.",
        "invalid_key": "Write field names as words; YAML reads 1, 1.5, null or a date as something else.",
        "boolean_value": "Write a number (1-5 for a level); yes, no, on and off are read as true or false.",
        "control_character": TEXT_HINT,
        "confusable_id": ID_HINT,
    }
    hint = hints.get(kind, "Correct the value.")
    if kind == "string_type" and (value is None or isinstance(value, dict | list)):
        hint = "Write one text value after the colon (not a list, a mapping or nothing)."
    if kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") != SET_ID_PATTERN:
        hint = "Ids may not hold spaces or ':'; see the pattern above."  # set ids alone are kebab-case
    return Problem(message, doc.path, line, field, hint)


def _field_name(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed_keys(cls: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    model: Any = cls
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return []
        model = _inner_model(model.model_fields[part].annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The model class inside `X`, `tuple[X, ...]`, `X | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (tuple, list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None
