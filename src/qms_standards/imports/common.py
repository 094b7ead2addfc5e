"""What every importer shares: provenance, located drafts -> a validated StandardSet, canonical YAML.

A reader turns its source into `Draft`s, each remembering where every field came from (a sheet cell, a
CSV column, a library node). `build_set` validates them all against the models and names each problem
by that place, so a set is only ever written when it would load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Problem, QmsError
from ..files import dump_yaml
from ..models import Requirement, StandardSet

# Set-level fields, in the order a standard set file lists them, with the option that gives each.
PROVENANCE_OPTIONS: dict[str, str] = {
    "id": "--set-id",
    "name": "--name",
    "publisher": "--publisher",
    "version": "--edition",
    "licence": "--licence",
    "text_is": "--text-is",
    "attribution": "--attribution",
    "url": "--url",
    "published": "--published",
    "notes": "--notes",
}
REQUIRED_PROVENANCE = ("id", "name", "publisher", "version", "licence")
_LABELS = {"id": "id", "name": "full name", "version": "edition", "text_is": "text kind"}
_TITLE_WORDS = 12
_TITLE_CHARS = 500  # Requirement.title's limit


class ImportSourceError(QmsError):
    """A source cannot be imported as a standard set; nothing was written."""


@dataclass
class Draft:
    """One requirement as read from a source, before validation.

    Attributes:
        values: Requirement fields (id, title, text, section, tags, severity, url).
        where: For each field, where it was read, e.g. `Sheet1!C7` or `A1.a.1 (description)`.
        origin: Where the requirement as a whole was read, e.g. `Sheet1 row 7`.
        reported: Fields the reader already reported a problem for (not reported twice).
        line: Line in the source file, for sources that have lines (YAML, JSON).
    """

    values: dict[str, Any]
    origin: str
    where: dict[str, str] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)
    line: int | None = None

    def at(self, name: str) -> str:
        """Where field `name` came from, falling back to the whole requirement's origin."""
        return self.where.get(name, self.origin)


def title_from_text(text: str) -> str:
    """A short title for a requirement whose source has none: its first sentence, cut to 12 words."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].rstrip(".:;")
    words = first.split() or text.split()  # a text of punctuation alone is its own title
    title = " ".join(words[:_TITLE_WORDS]) + (" ..." if len(words) > _TITLE_WORDS else "")
    return title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 4] + " ..."


def clean_text(value: str) -> str:
    """Whitespace as a set file keeps it: lines stripped, runs of spaces inside a line kept as written."""
    lines = [line.strip() for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line).strip()


def build_set(
    provenance: dict[str, Any], drafts: list[Draft], source: Path, problems: list[Problem] | None = None
) -> StandardSet:
    """Validate provenance and drafts into a StandardSet, reporting every problem where it was read.

    Args:
        provenance: Set-level fields (keys of PROVENANCE_OPTIONS); None means not given.
        drafts: The requirements, in source order.
        source: The file imported, named in every problem.
        problems: Problems the reader already found; reported together with these.

    Raises:
        ImportSourceError: listing every problem (missing provenance, duplicate ids, empty text, bad values).
    """
    problems = list(problems or [])
    given = {k: v for k, v in provenance.items() if v not in (None, "")}
    for name in REQUIRED_PROVENANCE:
        if name not in given:
            option = PROVENANCE_OPTIONS[name]
            problems.append(
                Problem(
                    f"missing {option}: the set's {_LABELS.get(name, name)}",
                    source,
                    field=option,
                    hint=f"Give it with {option} (see `qms import --help`).",
                )
            )
    requirements = _requirements(drafts, source, problems)
    if not drafts:
        problems.append(
            Problem(
                "no requirements found",
                source,
                hint="A spreadsheet needs rows below its header row; a library needs assessable nodes; "
                "a catalog needs controls.",
            )
        )
    standard_set = None
    if not problems:
        try:
            standard_set = StandardSet.model_validate({**given, "requirements": requirements})
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0])
                option = PROVENANCE_OPTIONS.get(name, name)
                problems.append(
                    Problem(
                        f"{err['msg']} (got {err.get('input')!r})",
                        source,
                        field=option,
                        hint=_HINTS["id_set"] if name == "id" else _HINTS.get(name),
                    )
                )
    if problems or standard_set is None:
        count = len(problems)
        raise ImportSourceError(f"{count} problem{'s' if count != 1 else ''} found", problems=problems)
    return standard_set


def _requirements(drafts: list[Draft], source: Path, problems: list[Problem]) -> list[Requirement]:
    out: list[Requirement] = []
    first_at: dict[str, str] = {}
    for draft in drafts:
        req_id = draft.values.get("id")
        if isinstance(req_id, str) and req_id:
            if req_id in first_at:
                problems.append(
                    Problem(
                        f"duplicate id '{req_id}' (first at {first_at[req_id]})",
                        source,
                        draft.line,
                        field=draft.at("id"),
                        hint="Requirement ids must be unique within a set: renumber one of them.",
                    )
                )
            else:
                first_at[req_id] = f"line {draft.line}" if draft.line else draft.at("id")
        values = {k: v for k, v in draft.values.items() if v not in (None, "", ())}
        if values.get("text") and not values.get("title"):
            values["title"] = title_from_text(values["text"])
        try:
            out.append(Requirement.model_validate(values))
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "requirement"
                if name in draft.reported or (name == "title" and not values.get("text")):
                    continue  # a title is drafted from the text: an empty text is the one problem
                problems.append(
                    Problem(_message(name, err, values), source, draft.line, draft.at(name), _HINTS.get(name))
                )
    return out


def _message(name: str, err: Any, values: dict[str, Any]) -> str:
    if err["type"] == "missing":
        return f"{name} is empty"
    shown = values.get(name)
    if isinstance(shown, str) and len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{name} {shown!r}: {err['msg'][0].lower()}{err['msg'][1:]}"


_HINTS = {
    "id": "Ids are the source's own references, without spaces or ':' (e.g. 4.1, reg-12, safe/1).",
    "text": "Every requirement needs its text: fill the cell or drop the row.",
    "title": "Titles are at most 500 characters; put the rest in the text column.",
    "severity": "Severity is a whole number from 1 (minor harm) to 5 (catastrophic), or empty.",
    "tags": "Tags are lower-case words joined by hyphens, separated by commas (e.g. safe, well-led).",
    "section": "Sections are at most 500 characters.",
    "text_is": "Say --text-is verbatim (quoted from the source) or paraphrase (in your own words).",
    "id_set": "A set id is lower-case words and digits joined by hyphens, with the edition: nhs-psirs-2022.",
}


def render_set(standard_set: StandardSet, header: list[str]) -> str:
    """Canonical YAML of an imported set, after `# ` comment lines saying where it came from.

    Requirement fields left at their defaults (no section, no tags, verified) are omitted, as hand-written
    sets omit them; the file loads back to the same set.
    """
    data = standard_set.model_dump(mode="json", exclude_none=True)
    data["requirements"] = [
        r.model_dump(mode="json", exclude_defaults=True) for r in standard_set.requirements
    ]
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return comments + dump_yaml(data)
