"""Applying a filled review workbook: decisions -> must-link / cannot-link entries in `overrides.yaml`.

The file is edited in ruamel.yaml's round-trip mode, so hand-written entries keep their order, quoting
and comments; new entries are appended to `must_link` and `cannot_link`. Nothing is written unless every
decision is consistent (with each other and with the entries already there) and the edited file loads.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
from datetime import date as Date
from pathlib import Path
from typing import Any, Literal

from .errors import MappingError, OutputError, Problem, QmsError, raise_if
from .files import refuse_folder, write_atomic
from .load import DOMAINS_FILE, LOCK_FILE, OVERRIDES_FILE, load_mappings
from .models import Link, Model, Overrides
from .review import COLUMNS, DECISIONS, FORMAT_MARKER, META_SHEET, REVIEW_SHEET, Decision
from .textcheck import ID_HINT, TEXT_HINT, id_problem, text_problem

OVERRIDES_HEADER = (
    "# Human decisions applied on every `qms consolidate`: must-link / cannot-link pairs, exclusions and\n"
    "# per-standard values. `qms review --apply` appends to it; hand edits and comments are kept.\n"
)
HINT_REVIEW = "Write a review workbook with `qms review --out review.xlsx`, fill Decision, then apply it."
Result = Literal["added must-link", "added cannot-link", "skipped", "already present"]


_LETTER = {key: chr(ord("A") + c) for c, (key, _, _) in enumerate(COLUMNS)}  # 17 columns, A to Q


def review_cell(key: str, row: int) -> str:
    """The Review sheet cell of a column in a row, e.g. ("by", 7) -> "Review!P7"."""
    return f"{REVIEW_SHEET}!{_LETTER[key]}{row}"


class ReviewDecision(Model):
    """One filled row of a review workbook."""

    row: int
    ref_a: str
    ref_b: str
    decision: Decision
    by: str | None = None
    reason: str | None = None

    @property
    def cell(self) -> str:
        """The Decision cell, e.g. "Review!O7"."""
        return review_cell("decision", self.row)


class Outcome(Model):
    """What applying one decision did."""

    cell: str
    ref_a: str
    ref_b: str
    decision: str
    result: Result


class AppliedReview(Model):
    """The edited `overrides.yaml` text (None when nothing is added) and one outcome per decision."""

    text: str | None
    outcomes: tuple[Outcome, ...]

    def count(self, result: Result) -> int:
        """How many decisions had this result."""
        return sum(1 for o in self.outcomes if o.result == result)


def read_review(path: Path) -> list[ReviewDecision]:
    """Read the decisions of a review workbook written by `qms review --out` (blank Decision = skip).

    Raises:
        QmsError: not a review workbook, or cells hold invalid values; each problem names its sheet and cell.
    """
    from .export.cells import open_workbook
    from .workbook import last_filled_row

    book = open_workbook(path, QmsError, HINT_REVIEW)
    marker = book[META_SHEET]["B1"].value if META_SHEET in book.sheetnames else None
    if marker != FORMAT_MARKER or REVIEW_SHEET not in book.sheetnames:
        raise QmsError(
            f"not a qms review workbook (expected '{FORMAT_MARKER}' in {META_SHEET}!B1)",
            file=path,
            field=f"{META_SHEET}!B1",
            hint=HINT_REVIEW,
        )
    sheet = book[REVIEW_SHEET]
    problems: list[Problem] = []

    def problem(key: str, row: int, message: str, hint: str) -> None:
        problems.append(Problem(message, path, None, review_cell(key, row), hint))

    for c, (key, header, _) in enumerate(COLUMNS, 1):
        if sheet.cell(row=1, column=c).value != header:
            problem(
                key,
                1,
                f"header is {sheet.cell(row=1, column=c).value!r}, expected '{header}'",
                "Restore the header row; the columns must stay in order.",
            )
    raise_if(problems)
    out = []
    for row in range(2, last_filled_row(sheet) + 1):  # formatted rows below the last value are no rows
        value = {key: _text(sheet[f"{letter}{row}"].value) for key, letter in _LETTER.items()}
        if not any(value.values()):
            continue  # a blank row, perhaps formatted: nothing to apply
        decision = next((d for d in DECISIONS if d == (value["decision"] or "skip").lower()), None)
        if decision is None:
            problem("decision", row, f"decision is '{value['decision']}'", "Pick same, different or skip.")
            continue
        for key in ("ref_a", "ref_b"):
            if not value[key]:
                problem(key, row, "the ref is missing", "Restore the ref; rows come from `qms review`.")
        controls = [(key, text_problem(value[key] or "")) for key in ("by", "reason", "ref_a", "ref_b")]
        controls += [(key, id_problem(value[key] or "")) for key in ("ref_a", "ref_b")]
        for key, control in controls:
            if control is not None:
                problem(key, row, f"{key} {control}", TEXT_HINT if "control" in control else ID_HINT)
        for key in ("by", "reason"):
            if len(value[key] or "") > 500:
                problem(
                    key,
                    row,
                    f"{key} is {len(value[key] or '')} characters long",
                    "Keep it to 500 characters.",
                )
        if value["ref_a"] and value["ref_b"] and not any(c for _, c in controls):
            out.append(
                ReviewDecision(
                    row=row,
                    ref_a=value["ref_a"],
                    ref_b=value["ref_b"],
                    decision=decision,
                    by=value["by"],
                    reason=value["reason"],
                )
            )
    raise_if(problems)
    return out


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


class _Groups:
    """Union-find over refs, remembering which entries or cells joined each group (for messages)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.why: dict[str, list[str]] = {}

    def find(self, ref: str) -> str:
        while self.parent.setdefault(ref, ref) != ref:
            ref = self.parent[ref]
        return ref

    def union(self, a: str, b: str, label: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.why.setdefault(ra, []).extend(self.why.pop(rb, []))
        self.why.setdefault(ra, []).append(label)

    def labels(self, ref: str) -> str:
        found = self.why.get(self.find(ref), [])
        return ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")


def plan_decisions(
    decisions: list[ReviewDecision], overrides: Overrides, known_refs: set[str], *, workbook: Path
) -> list[Outcome]:
    """Decide what each decision adds, checking them against each other and the existing overrides (pure).

    Raises:
        QmsError: a pair marked both same and different, a 'different' between refs that must-links join, a
            'same' that a cannot-link forbids, or an unknown or excluded ref; each names the sheet and cell.
    """
    existing, joined = _Groups(), _Groups()
    for n, link in enumerate(overrides.must_link):
        for ref in link.refs[1:]:
            existing.union(link.refs[0], ref, f"{OVERRIDES_FILE} must_link[{n}]")
            joined.union(link.refs[0], ref, f"{OVERRIDES_FILE} must_link[{n}]")
    apart = [
        (a, b, f"{OVERRIDES_FILE} cannot_link[{n}]")
        for n, link in enumerate(overrides.cannot_link)
        for x, a in enumerate(link.refs)
        for b in link.refs[x + 1 :]
    ]
    present = {frozenset((a, b)) for a, b, _ in apart}
    excluded = {e.ref for e in overrides.exclude}
    problems: list[Problem] = []
    outcomes: list[Outcome] = []
    seen: dict[frozenset[str], ReviewDecision] = {}

    def fail(d: ReviewDecision, message: str, hint: str, cell: str = "") -> None:
        problems.append(Problem(message, workbook, None, cell or d.cell, hint))

    for d in decisions:
        a, b = sorted((d.ref_a, d.ref_b))
        result: Result | None = None
        bad = [r for r in (a, b) if r not in known_refs or r in excluded]
        earlier = seen.setdefault(frozenset((a, b)), d) if d.decision != "skip" else d
        if d.decision == "skip":
            result = "skipped"
        elif bad:
            fail(
                d,
                f"'{bad[0]}' is "
                + ("excluded" if bad[0] in excluded else "not a requirement in the loaded sets"),
                "Decide only pairs listed by `qms review` for the current standards and overrides.",
                review_cell("ref_a" if bad[0] == d.ref_a else "ref_b", d.row),
            )
        elif a == b:
            fail(d, f"'{a}' is paired with itself", "Ref A and Ref B must differ.")
        elif earlier is not d:
            if earlier.decision != d.decision:
                fail(
                    d,
                    f"{a} / {b} marked '{d.decision}' here but '{earlier.decision}' at {earlier.cell}",
                    "Decide each pair once: same or different.",
                )
            else:
                result = "already present"
        elif d.decision == "same":
            ra, rb = joined.find(a), joined.find(b)
            against = [
                label for x, y, label in apart if ra != rb and {joined.find(x), joined.find(y)} == {ra, rb}
            ]
            if existing.find(a) == existing.find(b):
                result = "already present"
            elif against:
                fail(
                    d,
                    f"'same' for {a} / {b} contradicts {', '.join(against)}, which keeps them apart",
                    "Mark the pair 'different' or 'skip', or remove the cannot-link from overrides.yaml.",
                )
            else:
                joined.union(a, b, d.cell)
                result = "added must-link"
        elif frozenset((a, b)) in present:
            result = "already present"
        elif joined.find(a) == joined.find(b):
            fail(
                d,
                f"'different' for {a} / {b}, but must-links join them ({joined.labels(a)})",
                "Mark the pair 'same' or 'skip', or remove the must-link that chains them together.",
            )
        else:
            apart.append((a, b, d.cell))
            result = "added cannot-link"
        if result is not None:
            outcomes.append(Outcome(cell=d.cell, ref_a=a, ref_b=b, decision=d.decision, result=result))
    raise_if(problems)
    return outcomes


def add_links(text: str | None, must_link: list[Link], cannot_link: list[Link]) -> str:
    """Append links to the text of an `overrides.yaml` (None: no file yet), keeping everything else as is.

    The file's indentation is kept; a comment block that followed the last entry of a list (typically
    the heading of the next section) moves below the appended entries.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.util import load_yaml_guess_indent

    if not must_link and not cannot_link:
        return text or ""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100_000  # never re-wrap long hand-written lines
    _, indent, offset = load_yaml_guess_indent(text) if text else (None, None, None)
    indent = indent or 2
    offset = offset if offset is not None else 2
    yaml.indent(mapping=indent, sequence=max(indent, offset + 2), offset=offset)
    content = [
        line for line in (text or "").splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    yaml.explicit_start = bool(content) and content[0].startswith("---")  # keep a document-start marker
    data = yaml.load(text) if content else None  # this instance keeps quotes; the guesser's does not
    prefix = ""
    if data is None:  # no file, or only comments: keep the text and add a mapping after it
        data = CommentedMap()
        prefix = (
            OVERRIDES_HEADER if text is None else text + ("\n" if text and not text.endswith("\n") else "")
        )
    for key, links in (("must_link", must_link), ("cannot_link", cannot_link)):
        if links:
            _append(data, key, [_entry(link) for link in links])
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return prefix + buffer.getvalue()


def _entry(link: Link) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    refs = CommentedSeq(link.refs)
    refs.fa.set_flow_style()
    entry = CommentedMap(refs=refs)
    for key in ("reason", "by", "date"):
        value = getattr(link, key)
        if value is not None:
            # Quoted when qms would read it back as anything but this text: a date (2025-01-31), and
            # answers such as No, Yes, on, 1:30 or 0x1F, which YAML 1.1 reads as booleans and numbers.
            entry[key] = SingleQuotedScalarString(value) if key == "date" or _not_plain(value) else value
    return entry


def _not_plain(value: str) -> bool:
    """Whether `value`, written unquoted, would be read back as something other than itself."""
    import yaml

    try:
        return bool(yaml.safe_load(value) != value)
    except yaml.YAMLError:
        return True


def _append(data: Any, key: str, entries: list[Any]) -> None:
    from ruamel.yaml.comments import CommentedSeq

    current = data.get(key)
    if not isinstance(current, CommentedSeq):
        data[key] = current = CommentedSeq()
    elif not current and current.fa.flow_style():
        current.fa.set_block_style()
    moved = _take_trailing(current[-1]) if current else None
    current.extend(entries)
    if moved is not None:
        _give_trailing(current[-1], moved)


def _tail_slot(node: Any) -> tuple[dict[Any, Any], Any, int] | None:
    """Where ruamel keeps the comment after a node's last line: (ca.items, key or index, slot)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if not isinstance(node, (CommentedMap, CommentedSeq)) or not node:
        return None
    key = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
    child = node[key]
    if isinstance(child, (CommentedMap, CommentedSeq)) and child and not child.fa.flow_style():
        return _tail_slot(child)
    return node.ca.items, key, 2 if isinstance(node, CommentedMap) else 0


def _take_trailing(node: Any) -> str | None:
    """Detach the blank and comment lines after a node's last line; an end-of-line comment stays put."""
    slot = _tail_slot(node)
    token = slot[0].get(slot[1], [None] * 4)[slot[2]] if slot else None
    if token is None or "\n" not in token.value:
        return None
    head, _, rest = token.value.partition("\n")
    if not rest:
        return None
    token.value = head + "\n"
    return rest


def _give_trailing(node: Any, rest: str) -> None:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slot = _tail_slot(node)
    if slot is not None:
        items, key, index = slot
        entry = items.setdefault(key, [None, None, None, None])
        entry[index] = CommentToken("\n" + rest, CommentMark(0), None)


def check_review_overwrite(path: Path, overrides: Overrides, known_refs: set[str]) -> None:
    """Refuse to overwrite a review workbook holding decisions not yet applied (or a file that is not one).

    Raises:
        OutputError: `path` exists and holds unapplied decisions, or is not a clean qms review workbook.
    """
    refuse_folder(path)
    if not path.exists():
        return
    hint = f"Apply it first (`qms review --apply {path}`), write to another file, or pass --force."
    try:
        outcomes = plan_decisions(read_review(path), overrides, known_refs, workbook=path)
    except QmsError as exc:
        raise OutputError(
            f"exists and is not a clean qms review workbook ({exc.problems[0].render()})",
            file=path,
            hint=hint,
        ) from exc
    pending = sum(1 for o in outcomes if o.result.startswith("added"))
    if pending:
        raise OutputError(
            f"holds {pending} decision(s) not yet applied; refusing to overwrite", file=path, hint=hint
        )


def validate_overrides(text: str, mappings: Path, known_refs: set[str]) -> Overrides:
    """Load an edited `overrides.yaml` text beside the folder's other mapping files, as `consolidate` will.

    Raises:
        MappingError: the text does not load; problems name `mappings/overrides.yaml`.
    """
    with tempfile.TemporaryDirectory(prefix="qms-review-") as scratch:
        folder = Path(scratch)
        for name in (DOMAINS_FILE, LOCK_FILE):
            if (mappings / name).exists():
                write_atomic(folder / name, (mappings / name).read_bytes())
        write_atomic(folder / OVERRIDES_FILE, text)
        try:
            return load_mappings(folder, known_refs).overrides
        except MappingError as error:
            # Name the real file: the scratch copy is gone when the user reads the message. A file that
            # does not exist yet is named as the one this review would have written.
            unborn = not (mappings / OVERRIDES_FILE).exists()
            moved = [
                dataclasses.replace(
                    p,
                    file=mappings / p.file.name if p.file else None,
                    message=p.message + (" (in the file this review would create; nothing was written)")
                    if unborn and p.file is not None and p.file.name == OVERRIDES_FILE
                    else p.message,
                )
                for p in error.problems
            ]
            raise MappingError(str(error), problems=moved) from None


def apply_review(
    workbook: Path, mappings: Path, known_refs: set[str], *, by: str | None, date: str
) -> AppliedReview:
    """Read a filled review workbook and compute the edited `overrides.yaml` (the caller writes it).

    Args:
        workbook: The review workbook.
        mappings: The mappings folder holding `overrides.yaml` (created when absent).
        known_refs: Every requirement ref of the loaded standard sets.
        by: Who decided, for rows whose By cell is empty.
        date: The ISO date recorded with each new entry (today's, passed in by the CLI).

    Raises:
        QmsError: an invalid workbook, date or decision, or decisions that conflict (nothing is written).
    """
    try:
        Date.fromisoformat(date)
    except ValueError:
        raise QmsError(
            f"date '{date}' is not an ISO date", field="--date", hint="Write it as 2025-01-31."
        ) from None
    by = " ".join((by or "").split()) or None
    if by is not None and len(by) > 500:
        raise QmsError(f"--by is {len(by)} characters long", field="--by", hint="Keep it to 500 characters.")
    overrides = load_mappings(mappings, known_refs).overrides
    decisions = read_review(workbook)
    outcomes = plan_decisions(decisions, overrides, known_refs, workbook=workbook)
    source = {d.cell: d for d in decisions}
    unsigned = [
        source[o.cell]
        for o in outcomes
        if o.result in ("added must-link", "added cannot-link") and not (source[o.cell].by or by)
    ]
    raise_if(
        [
            Problem(
                "who decided is missing",
                workbook,
                None,
                review_cell("by", d.row),
                "Fill in the By column, or pass --by NAME for the rows whose By is empty: "
                "an auditor must see who made each decision.",
            )
            for d in unsigned
        ]
    )

    def links(result: Result) -> list[Link]:
        return [
            Link(refs=(o.ref_a, o.ref_b), reason=source[o.cell].reason, by=source[o.cell].by or by, date=date)
            for o in outcomes
            if o.result == result
        ]

    must, cannot = links("added must-link"), links("added cannot-link")
    if not must and not cannot:
        return AppliedReview(text=None, outcomes=tuple(outcomes))
    path = mappings / OVERRIDES_FILE
    text = add_links(path.read_text(encoding="utf-8") if path.exists() else None, must, cannot)
    result = validate_overrides(text, mappings, known_refs)
    expected = (overrides.must_link + tuple(must), overrides.cannot_link + tuple(cannot))
    if (result.must_link, result.cannot_link) != expected or result.exclude != overrides.exclude:
        raise AssertionError("editing overrides.yaml changed entries it should have kept")  # a bug, not input
    return AppliedReview(text=text, outcomes=tuple(outcomes))
