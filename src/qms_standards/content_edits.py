"""People's words for standards (`mappings/content.yaml`): checked on load, applied each run, never rewritten.

A quality team writes a standard's title, statement, what good looks like or evidence under its stable id.
Each field given replaces qms's draft as written, byte for byte, and leaves the standard's `drafted` list.
`members` records the refs the words were agreed for: when the standard's members change, the run says so,
so nobody keeps (or drops) agreed words without looking at them again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import Problem
from .models import (
    ContentFile,
    ContentLine,
    ContentWords,
    Framework,
    GoodLooksLike,
    IdsLock,
    Overrides,
    Standard,
)
from .yamlsource import Document

CONTENT_FILE = "content.yaml"
GOOD_PARTS = ("outputs", "behaviours", "outcomes")


def check_content(
    doc: Document,
    content: ContentFile,
    known_refs: set[str] | None,
    lock: IdsLock,
    overrides: Overrides,
    problems: list[Problem],
) -> None:
    """Every problem of a content file, located: unknown ids and refs, an id twice, a title given twice."""
    live = {e.id for e in lock.standards}
    retired = {e.id for e in lock.retired}
    seen: dict[str, int] = {}
    by_override = {o.id: o for o in overrides.standards}

    def add(message: str, loc: tuple[str | int, ...], hint: str) -> None:
        problems.append(Problem(message, doc.path, doc.line_of(loc), ".".join(map(str, loc)), hint))

    for i, words in enumerate(content.standards):
        line = doc.line_of(("standards", i, "id")) or 0
        if words.id in seen:
            add(
                f"'{words.id}' has words twice (first at line {seen[words.id]})",
                ("standards", i, "id"),
                "Keep one entry per standard id.",
            )
        seen.setdefault(words.id, line)
        if words.id not in live | retired:
            add(
                f"standard '{words.id}' is not in ids.lock.yaml",
                ("standards", i, "id"),
                "Use an id from the last framework.yaml (run `qms consolidate` first).",
            )
        for j, ref in enumerate(words.members or ()):
            if known_refs is not None and ref not in known_refs:
                add(
                    f"'{ref}' is not a requirement in the loaded standard sets",
                    ("standards", i, "members", j),
                    "Write refs as <set-id>:<requirement-id>, as the framework's sources list them.",
                )
        override = by_override.get(words.id)
        for field in ("title", "statement"):
            if override is not None and getattr(override, field) and getattr(words, field):
                add(
                    f"{words.id}'s {field} is given in overrides.yaml and in content.yaml",
                    ("standards", i, field),
                    f"Keep the {field} in content.yaml and remove it from overrides.yaml.",
                )


def _lines(texts: tuple[str, ...] | None, drafted: tuple[ContentLine, ...]) -> tuple[ContentLine, ...]:
    return drafted if texts is None else tuple(ContentLine(text=t) for t in texts)


def apply_words(standard: Standard, words: ContentWords) -> Standard:
    """The standard with people's words in place of the drafts they replace."""
    good = standard.good_looks_like
    mine = words.good_looks_like
    if mine is not None:
        good = GoodLooksLike(
            outputs=_lines(mine.outputs, good.outputs),
            behaviours=_lines(mine.behaviours, good.behaviours),
            outcomes=_lines(mine.outcomes, good.outcomes),
        )
    given = {
        "title": words.title is not None,
        "statement": words.statement is not None,
        "evidence": words.evidence is not None,
        **{part: mine is not None and getattr(mine, part) is not None for part in GOOD_PARTS},
    }
    return standard.model_copy(
        update={
            "title": words.title if words.title is not None else standard.title,
            "statement": words.statement if words.statement is not None else standard.statement,
            "asks": () if words.statement is not None else standard.asks,
            "good_looks_like": good,
            "evidence": _lines(words.evidence, standard.evidence),
            "drafted": tuple(f for f in standard.drafted if not given.get(f)),
        }
    )


@dataclass(frozen=True)
class ContentNote:
    """Something a run tells the quality team about their words."""

    standard: str
    message: str


def content_notes(framework: Framework, content: ContentFile) -> list[ContentNote]:
    """Agreed words whose standard's members changed, lack a members list, or whose standard is gone."""
    standards = {s.id: s for s in framework.standards}
    notes = []
    for words in content.standards:
        standard = standards.get(words.id)
        if standard is None:
            notes.append(
                ContentNote(
                    words.id,
                    f"{words.id} is no longer a standard (its requirements moved): its words in content.yaml "
                    "are not used; move them to the standard that now holds its requirements",
                )
            )
            continue
        now = {s.ref for s in standard.sources}
        if words.members is None:
            notes.append(
                ContentNote(
                    words.id,
                    f"{words.id}: content.yaml does not say which members its words were agreed for; add "
                    f"members: [{', '.join(sorted(now))}] so that a later change is reported",
                )
            )
            continue
        agreed = set(words.members)
        if agreed != now:
            change = [*(f"+{r}" for r in sorted(now - agreed)), *(f"-{r}" for r in sorted(agreed - now))]
            notes.append(
                ContentNote(
                    words.id,
                    f"{words.id}: its members changed since its words were agreed ({', '.join(change)}): "
                    "check the words still fit, then update members in content.yaml",
                )
            )
    return notes
