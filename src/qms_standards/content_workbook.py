"""The content round trip for people who work in Excel: the framework's words out, their agreed words back.

`render_content_workbook` writes one row per standard (its members, title, statement, what good looks like
and evidence, one line per item in a cell). A head of quality edits the cells, puts a name in *Agreed by*,
and `read_agreed` reads back every row so signed; `merge_content` writes those rows into
`mappings/content.yaml`, replacing the entries for those ids and leaving every other byte as it was.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, QmsError
from .files import canonical_xlsx
from .models import ContentFile, ContentWords, Framework, GoodLooksLikeWords
from .workbook import last_filled_row, load_checked_workbook

SHEET = "Content"
MARKER_SHEET = "qms"
MARKER = "qms-content format 1"
COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("id", "ID", 10),
    ("members", "Members", 34),
    ("title", "Title", 34),
    ("statement", "Statement", 60),
    ("outputs", "Outputs (show)", 45),
    ("behaviours", "Behaviours (do)", 45),
    ("outcomes", "Outcomes (achieve)", 45),
    ("evidence", "Evidence", 45),
    ("drafted", "Still drafted", 16),
    ("by", "Agreed by", 16),
    ("date", "Date", 12),
)
HINT = "Export a fresh one with `qms content export FRAMEWORK.yaml -o content.xlsx` and copy your edits in."


def render_content_workbook(framework: Framework) -> bytes:
    """The framework's words as a workbook to edit and sign off, row by row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    ws = book.active
    ws.title = SHEET
    for col, (_, header, width) in enumerate(COLUMNS, 1):
        ws.cell(row=1, column=col, value=header).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, s in enumerate(framework.standards, 2):
        good = s.good_looks_like
        values = [
            s.id,
            "\n".join(x.ref for x in s.sources),
            s.title,
            s.statement,
            *(
                "\n".join(line.text for line in lines)
                for lines in (good.outputs, good.behaviours, good.outcomes)
            ),
            "\n".join(line.text for line in s.evidence),
            ", ".join(s.drafted),
            None,
            None,
        ]
        for col, value in enumerate(values, 1):
            ws.cell(row=row, column=col, value=value).alignment = wrap
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{ws.cell(row=1, column=len(COLUMNS)).column_letter}{max(ws.max_row, 1)}"
    meta = book.create_sheet(MARKER_SHEET)
    meta["A1"], meta["B1"] = "format", MARKER
    meta.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return canonical_xlsx(buffer.getvalue())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\r\n", "\n").strip()
    return text or None


def _lines(value: Any) -> tuple[str, ...] | None:
    text = _text(value)
    if text is None:
        return None
    return tuple(line.strip().removeprefix("- ").strip() for line in text.splitlines() if line.strip())


def read_agreed(path: Path) -> list[ContentWords]:
    """Every row signed in *Agreed by*, as content entries; every problem with its sheet and cell.

    Raises:
        QmsError: not a content workbook, a renamed header, or rows that cannot be read.
    """
    book = load_checked_workbook(path, QmsError, HINT)
    if MARKER_SHEET not in book.sheetnames or book[MARKER_SHEET]["B1"].value != MARKER or SHEET not in book:
        raise QmsError("not a qms content workbook", file=path, hint=HINT)
    ws = book[SHEET]
    problems: list[Problem] = []
    for col, (_, header, _) in enumerate(COLUMNS, 1):
        cell = ws.cell(row=1, column=col)
        if cell.value != header:
            problems.append(
                Problem(
                    f"header is {cell.value!r}, expected {header!r}",
                    path,
                    None,
                    f"{SHEET}!{cell.coordinate}",
                    "Restore the header row; the columns must stay in order.",
                )
            )
    if problems:
        raise QmsError(f"{len(problems)} problem(s) in the content workbook", problems=problems)
    agreed: list[ContentWords] = []
    seen: dict[str, str] = {}
    for row in range(2, last_filled_row(ws) + 1):
        cells = {key: ws.cell(row=row, column=col) for col, (key, _, _) in enumerate(COLUMNS, 1)}
        by = _text(cells["by"].value)
        if by is None:
            continue
        sid = _text(cells["id"].value)
        where = f"{SHEET}!{cells['id'].coordinate}"
        if sid is None:
            problems.append(
                Problem("a signed row has no ID", path, None, where, "Restore the row's ID from the export.")
            )
            continue
        if sid in seen:
            problems.append(
                Problem(
                    f"'{sid}' is signed twice (first at {seen[sid]})",
                    path,
                    None,
                    where,
                    "Keep one row per standard.",
                )
            )
            continue
        seen[sid] = where
        date = cells["date"].value
        parts = {k: _lines(cells[k].value) for k in ("outputs", "behaviours", "outcomes")}
        agreed.append(
            ContentWords(
                id=sid,
                title=_text(cells["title"].value),
                statement=_text(cells["statement"].value),
                good_looks_like=GoodLooksLikeWords(**parts)
                if any(v is not None for v in parts.values())
                else None,
                evidence=_lines(cells["evidence"].value),
                members=_lines(cells["members"].value),
                by=by,
                date=date.date().isoformat() if hasattr(date, "date") else _text(date),
            )
        )
    if problems:
        raise QmsError(f"{len(problems)} problem(s) in the content workbook", problems=problems)
    return agreed


def _block(words: ContentWords, indent: int) -> str:
    dumped = words.model_dump(mode="json", exclude_none=True)
    order = ("id", "title", "statement", "good_looks_like", "evidence", "members", "reason", "by", "date")
    data = {key: dumped[key] for key in order if key in dumped}
    text = yaml.safe_dump([data], sort_keys=False, allow_unicode=True, width=100)
    return "".join(" " * indent + line if line.strip() else line for line in text.splitlines(keepends=True))


def merge_content(existing: str | None, agreed: Sequence[ContentWords]) -> tuple[str, list[str], list[str]]:
    """`existing` content.yaml with the agreed entries replaced or added; every other byte kept.

    Returns:
        The new text, the ids replaced and the ids added.
    """
    if not existing or not existing.strip() or yaml.safe_load(existing) is None:
        head = existing if existing and existing.endswith("\n") else (existing or "")
        body = "".join(_block(w, 2) for w in agreed)
        return head + "standards:\n" + body, [], [w.id for w in agreed]
    root = yaml.compose(existing)
    items = _items(root)
    lines = existing.splitlines(keepends=True)
    spans = {}
    for node in items:
        sid = next((v.value for k, v in node.value if k.value == "id"), None)
        if sid is not None:
            spans[sid] = (node.start_mark.line, _end_line(lines, node.end_mark))
    indent = (items[0].start_mark.column - 2) if items else 2
    replaced, added = [], []
    for words in sorted(agreed, key=lambda w: -spans.get(w.id, (-1, -1))[0]):
        if words.id in spans:
            start, end = spans[words.id]
            lines[start:end] = [_block(words, indent)]
            replaced.append(words.id)
    tail = "".join(_block(w, indent) for w in agreed if w.id not in spans)
    added = [w.id for w in agreed if w.id not in spans]
    text = "".join(lines)
    if tail and not text.endswith("\n"):
        text += "\n"
    return text + tail, sorted(replaced), added


def _end_line(lines: list[str], mark: Any) -> int:
    """The first line after an item: its end mark's line when nothing of the item precedes it there."""
    if mark.line >= len(lines) or not lines[mark.line][: mark.column].strip():
        return mark.line
    return mark.line + 1


def _items(root: Any) -> list[Any]:
    if not isinstance(root, yaml.MappingNode):
        raise QmsError(
            "content.yaml is not a mapping with a 'standards' list", hint="Start it with `standards:`."
        )
    for key, value in root.value:
        if key.value == "standards" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    raise QmsError("content.yaml has no 'standards' list", hint="Add the entries under `standards:`.")


def check_merged(text: str) -> ContentFile:
    """The merged file read back as a model (a bug if it does not read)."""
    return ContentFile.model_validate(yaml.safe_load(text))
