"""A standard's content (asks, what good looks like, evidence) as tracker cells and Markdown lines."""

from __future__ import annotations

from collections.abc import Callable

from ..models import ContentLine, Standard

GOOD_PARTS = (("outputs", "Show"), ("behaviours", "Do"), ("outcomes", "Achieve"))
DRAFTED_NOTE = "drafted by qms from the sources; not yet agreed"


def statement_cell(standard: Standard) -> str:
    """The Tracker's Statement cell: the statement, then what a service should have ready to evidence."""
    if not standard.evidence:
        return standard.statement
    lines = "\n".join(f"- {line.text}" for line in standard.evidence)
    return f"{standard.statement}\n\nTo evidence:\n{lines}"


def good_looks_like_cell(standard: Standard) -> str:
    """Outputs, behaviours and outcomes as one wrapped cell, marked when still drafted."""
    good = standard.good_looks_like
    blocks = [
        f"{label}:\n" + "\n".join(f"- {line.text}" for line in getattr(good, part))
        for part, label in GOOD_PARTS
        if getattr(good, part)
    ]
    if blocks and any(part in standard.drafted for part, _ in GOOD_PARTS):
        blocks.append(f"({DRAFTED_NOTE})")
    return "\n".join(blocks)


def evidence_cell(standard: Standard) -> str:
    """Typical evidence, one per line."""
    return "\n".join(f"- {line.text}" for line in standard.evidence)


def content_markdown(
    standard: Standard, inline: Callable[[str], str], code: Callable[[str], str]
) -> list[str]:
    """Markdown lines for a standard's asks, what good looks like and evidence, each line with its refs."""

    def item(line: ContentLine) -> str:
        refs = f" ({', '.join(code(r) for r in line.refs)})" if line.refs else ""
        return f"- {inline(line.text)}{refs}"

    def mark(field: str) -> str:
        return f" *({DRAFTED_NOTE})*" if field in standard.drafted else ""

    out: list[str] = []
    if standard.asks:
        out += ["", f"**What it asks**{mark('statement')}:", "", *(item(a) for a in standard.asks)]
    good = standard.good_looks_like
    if any(getattr(good, part) for part, _ in GOOD_PARTS):
        out += ["", "**What good looks like**:"]
        for part, label in GOOD_PARTS:
            if getattr(good, part):
                lines = (item(line) for line in getattr(good, part))
                out += ["", f"*{label}* ({part}){mark(part)}:", "", *lines]
    if standard.evidence:
        out += ["", f"**Typical evidence**{mark('evidence')}:", "", *(item(e) for e in standard.evidence)]
    return out[1:] if out else out
