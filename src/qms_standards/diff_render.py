"""Renderings of a diff: Markdown for a pull-request comment, JSON for machines. Pure: each returns str."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from .diff import EXCLUDED_PREFIX, KIND_GROUPS, LOCATION_KINDS, Change, Changes, Titles, Value

KIND_DESCRIPTIONS: dict[str, str] = {
    "source-lost": "A source requirement in OLD (in a standard or excluded) is nowhere in NEW.",
    "source-excluded": "A source requirement held by a standard in OLD is excluded in NEW.",
    "source-included": "A source requirement excluded in OLD is held by a standard in NEW.",
    "source-gained": "A source requirement absent from OLD is in NEW (in a standard or excluded).",
    "source-moved": "A source requirement moved from one standard to another.",
    "source-text-changed": "The source's title or text changed (its `text_sha` differs).",
    "relationship-changed": "The source's set-theory relationship to its standard changed.",
    "exclusion-changed": "The reason for excluding a source requirement changed.",
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


def render_changes_markdown(changes: Changes) -> str:
    """The changes as a Markdown pull-request comment.

    Lost source requirements come first in a caution block, then a table of counts per kind, then one
    table per group of kinds (source requirements, standards, risk, domains, source sets, engine).
    """
    lines = [f"## qms diff: {_md(heading(changes))}", ""]
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
        return ", ".join(f"{key}={value[key]}" for key in sorted(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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
    return _value(change, change.old, titles)


def _new(change: Change, titles: Titles) -> str:
    return _value(change, change.new, titles)


def _columns(group: str) -> list[tuple[str, Cell]]:
    kind: tuple[str, Cell] = ("Change", lambda c, _: c.kind)
    values: list[tuple[str, Cell]] = [("Old", _old), ("New", _new)]
    if group == "Source requirements":
        return [
            kind,
            ("Ref", lambda c, _: _code(c.ref or "")),
            ("Source", lambda c, t: _md(t.sources.get(c.ref or "", ""))),
            ("Standard", lambda c, t: _labelled(c.standard, t.standards)),
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
