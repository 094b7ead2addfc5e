"""Renderings of a diff: Markdown for a pull-request comment, JSON for machines. Pure: each returns str."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Sequence

from .diff import (
    ANY,
    EXCLUDED_PREFIX,
    KIND_GROUPS,
    KINDS,
    LOCATION_KINDS,
    Change,
    Changes,
    Scalar,
    Titles,
    Value,
)

KIND_DESCRIPTIONS: dict[str, str] = {
    "source-lost": "A source requirement in OLD (in a standard or excluded) is nowhere in NEW.",
    "source-excluded": "A source requirement held by a standard in OLD is excluded in NEW.",
    "source-included": "A source requirement excluded in OLD is held by a standard in NEW.",
    "source-gained": "A source requirement absent from OLD is in NEW (in a standard or excluded).",
    "source-moved": "A source requirement moved from one standard to another.",
    "source-text-changed": "The source's title or text changed: old and new wording, changed words marked.",
    "relationship-changed": "The source's set-theory relationship to its standard changed.",
    "exclusion-changed": "The reason for excluding a source requirement changed.",
    "related-removed": "A standard no longer partly covers a source requirement homed in another standard.",
    "related-added": "A standard now also partly covers a source requirement homed in another standard.",
    "removed": "A standard id in OLD is not in NEW.",
    "added": "A standard id in NEW is not in OLD.",
    "title-changed": "A standard's title changed.",
    "statement-changed": "A standard's statement changed.",
    "domain-moved": "A standard moved to another domain.",
    "component-changed": "A standard's QMS component changed.",
    "risk-up": "A standard's risk score rose.",
    "risk-down": "A standard's risk score fell.",
    "risk-changed": "Severity or likelihood changed, the score did not.",
    "domain-removed": "A domain id in OLD is not in NEW.",
    "domain-added": "A domain id in NEW is not in OLD.",
    "domain-renamed": "A domain's name changed.",
    "domain-description-changed": "A domain's description changed.",
    "set-removed": "A source set in OLD is not in NEW.",
    "set-added": "A source set in NEW is not in OLD.",
    "set-edition": "A source set's version or file SHA-256 changed.",
    "engine-changed": "An engine setting changed (threshold, weights, model ...).",
}

NONE = "—"


def render_changes_json(changes: Changes) -> str:
    """The changes as JSON: keys sorted, indent 2, with per-kind `counts` and a `total`."""
    data = changes.model_dump(mode="json")
    data["counts"] = changes.counts()
    data["total"] = len(changes.changes)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_changes_markdown(changes: Changes, fail_on: frozenset[str] = frozenset()) -> str:
    """The changes as a Markdown pull-request comment.

    With `fail_on` (the parsed `--fail-on` kinds) the first line under the heading says whether the gate
    failed and which kinds tripped it. Lost source requirements come next in a caution block, then a
    table of counts per kind, then one table per group of kinds (source requirements, standards, risk,
    domains, source sets, engine).
    """
    lines = [f"## qms diff: {_md(heading(changes))}", ""]
    if fail_on:
        lines += [gate_line(changes, fail_on, markdown=True), ""]
    lost = changes.of_kind("source-lost")
    if lost:
        lines += _lost_block(lost, changes.titles)
    if not changes.changes:
        return "\n".join([*lines, "No changes.", ""])
    lines += ["| Change | Count |", "| :-- | --: |"]
    lines += [f"| {kind} | {count} |" for kind, count in changes.counts().items()]
    lines += [f"| **total** | **{len(changes.changes)}** |", ""]
    for title, kinds in KIND_GROUPS:
        rows = changes.of_kind(*kinds)
        if rows:
            columns = _columns(title)
            lines += [f"### {title}", "", _row([name for name, _ in columns]), _row(["---"] * len(columns))]
            lines += [_row([cell(change, changes.titles) for _, cell in columns]) for change in rows]
            lines.append("")
    return "\n".join(lines)


def gate_line(changes: Changes, fail_on: frozenset[str], *, markdown: bool = False) -> str:
    """One line: whether any change matches `--fail-on`, and how many of each kind tripped it."""
    order = {kind: index for index, kind in enumerate((ANY, *KINDS))}
    given = ",".join(sorted(fail_on, key=lambda kind: order.get(kind, len(order))))
    option = f"`--fail-on {given}`" if markdown else f"--fail-on {given}"
    matched = changes.matching(fail_on)
    if not matched:
        verdict = "**Gate passed:**" if markdown else "Gate passed:"
        return f"{verdict} no change matches {option}."
    counts: dict[str, int] = {}
    for change in matched:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    tripped = ", ".join(f"{kind} ({count})" for kind, count in counts.items())
    verdict = "**Gate failed:**" if markdown else "Gate failed:"
    return f"{verdict} {len(matched)} change(s) match {option}: {tripped}."


def heading(changes: Changes) -> str:
    """`name old-version → new-version`, naming both frameworks when their names differ."""
    old, new = changes.old, changes.new
    if old.name == new.name:
        return f"{new.name} {old.version} → {new.version}"
    return f"{old.name} {old.version} → {new.name} {new.version}"


def format_value(value: Value) -> str:
    """Plain text for an old or new value: risk as `12 high (severity 4, likelihood 3)`, sets by edition."""
    if value is None:
        return NONE
    if isinstance(value, dict):
        if "score" in value:
            return (
                f"{value['score']} {value['rating']} "
                f"(severity {value['severity']}, likelihood {value['likelihood']})"
            )
        if "sha256" in value:
            return f"{value['version']} (sha256 {str(value['sha256'])[:12]})"
        if "text" in value:
            return wording(value)
        if "relationship" in value:
            return f"{value['relationship']}, strength {value['strength']}"
        return ", ".join(f"{key}={value[key]}" for key in sorted(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def wording(value: dict[str, Scalar]) -> str:
    """A source's words as the engine reads them: `Title. Text`."""
    return f"{str(value['title']).strip().rstrip('.')}. {str(value['text']).strip()}"


def word_diff(old: str, new: str) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
    """Split two wordings into runs of words, each marked True where it differs from the other side.

    Returns:
        (old runs, new runs): joining a side's runs with spaces gives its wording back.
    """
    a, b = old.split(), new.split()
    left: list[tuple[bool, str]] = []
    right: list[tuple[bool, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        changed = op != "equal"
        if i2 > i1:
            left.append((changed, " ".join(a[i1:i2])))
        if j2 > j1:
            right.append((changed, " ".join(b[j1:j2])))
    return left, right


def _word_runs(change: Change) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]] | None:
    """Old and new word runs for a changed source text recorded with its words on both sides."""
    if change.kind != "source-text-changed":
        return None
    if not (isinstance(change.old, dict) and isinstance(change.new, dict)):
        return None
    return word_diff(wording(change.old), wording(change.new))


# --- Markdown pieces -----------------------------------------------------------------------------

Cell = Callable[[Change, Titles], str]
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _md(text: str) -> str:
    """Escape text for a Markdown table cell: specials backslashed, newlines as <br>."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r\n", "\n").replace("\n", "<br>")


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text and "|" not in text else _md(text)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _labelled(ident: str | None, labels: dict[str, str]) -> str:
    if ident is None:
        return NONE
    label = labels.get(ident)
    return f"{_code(ident)} {_md(label)}" if label else _code(ident)


def _value(change: Change, value: Value, titles: Titles) -> str:
    """A value as a Markdown cell: ids and hashes in code, domains with their names."""
    if isinstance(value, str):
        if change.kind in LOCATION_KINDS and not value.startswith(EXCLUDED_PREFIX):
            return _code(value)
        if change.kind == "source-text-changed":
            return _code(value)
        if change.kind == "domain-moved":
            return _labelled(value, titles.domains)
    return _md(format_value(value))


def _old(change: Change, titles: Titles) -> str:
    runs = _word_runs(change)
    if runs is not None:
        return " ".join(f"~~{_md(text)}~~" if changed else _md(text) for changed, text in runs[0])
    return _value(change, change.old, titles)


def _new(change: Change, titles: Titles) -> str:
    runs = _word_runs(change)
    if runs is not None:
        return " ".join(f"**{_md(text)}**" if changed else _md(text) for changed, text in runs[1])
    return _value(change, change.new, titles)


def _columns(group: str) -> list[tuple[str, Cell]]:
    kind: tuple[str, Cell] = ("Change", lambda c, _: c.kind)
    values: list[tuple[str, Cell]] = [("Old", _old), ("New", _new)]
    if group in ("Source requirements", "Related links"):
        return [
            kind,
            ("Ref", lambda c, _: _code(c.ref or "")),
            ("Source", lambda c, t: _md(t.sources.get(c.ref or "", ""))),
            (
                "Standard" if group == "Source requirements" else "Partly covered by",
                lambda c, t: _labelled(c.standard, t.standards),
            ),
            *values,
        ]
    if group in ("Standards", "Risk"):
        return [
            kind,
            ("Standard", lambda c, _: _code(c.standard or "")),
            ("Title", lambda c, t: _md(t.standards.get(c.standard or "", ""))),
            *values,
        ]
    header = {"Domains": "Domain", "Source sets": "Set"}.get(group, "Setting")
    return [kind, (header, lambda c, _: _code(c.item or "")), *values]


def _lost_block(lost: tuple[Change, ...], titles: Titles) -> list[str]:
    count = len(lost)
    noun = "source requirement" if count == 1 else "source requirements"
    lines = [
        "> [!CAUTION]",
        f"> **{count} {noun} lost.** Each was in the old framework and is in no standard and not in "
        "`excluded` in the new one. Every source requirement must be covered by a standard or excluded "
        "with a reason.",
        ">",
    ]
    for change in lost:
        title = titles.sources.get(change.ref or "")
        where = _value(change, change.old, titles)
        if change.standard is not None:
            where = _labelled(change.standard, titles.standards)
        label = f" {_md(title)}" if title else ""
        lines.append(f"> - {_code(change.ref or '')}{label}: was {where}")
    return [*lines, ""]


def next_steps(matched: Sequence[Change]) -> list[str]:
    """What to do once `--fail-on` tripped: plain lines; for a lost requirement, the exclusion to paste."""
    lost = [c.ref for c in matched if c.kind == "source-lost" and c.ref]
    steps = []
    if lost:
        steps += [
            f"next: {len(lost)} requirement(s) are in no standard now. Put each back in its set in "
            "standards/, or, if leaving it out is agreed, exclude it in mappings/overrides.yaml with the "
            "reason and rerun `qms consolidate`:",
            "  exclude:",
            f"    - ref: {lost[0]}",
            "      reason: Why it is left out, and who agreed it",
        ]
    if any(c.kind != "source-lost" for c in matched):
        steps.append(
            ("also: " if lost else "next: ")
            + "read the rows of those kinds above. If the change is intended, the reviewer approves it (the "
            "gate asks a person to look; it is no error); if not, undo the edit that caused it and rerun "
            "`qms consolidate`."
        )
    return steps
