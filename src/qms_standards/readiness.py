"""Readiness against every source set: one self-assessment, read through the crosswalk.

The rule (also in docs/self-assessment.md and on the report):

- A standard's score in a service is 1 when Met, 0.5 when Partially met, 0 otherwise (blank included); a
  Not applicable standard has no score there. For the trust, a standard's score is the mean of its scores
  over the services that returned it (Not applicable ones left out).
- A source requirement is covered by its home standard (the standard it sits in) and by every standard
  that lists it as a related link. Its readiness is the mean score of those covering standards that have
  a score. It is **met** when every one of them is met (score 1), **partly** when any has a score above 0,
  **not met** otherwise, and **not applicable** when none has a score (or it was excluded).
- A set's (or a section's) readiness is the mean readiness of its applicable requirements, with the count
  of requirements met, partly met, not met and not applicable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from .errors import QmsError
from .export import layout as L
from .models import Framework, Model, StandardSet, split_ref
from .returns import ReturnsSet

Level = Literal["met", "partly", "not met", "not applicable"]
LEVELS: tuple[Level, ...] = ("met", "partly", "not met", "not applicable")
READINESS_RULE = (
    "A source requirement is covered by its home standard and by every standard that lists it as related. "
    "Its readiness is the mean score of those covering standards (Met 1, Partially met 0.5, else 0; Not "
    "applicable left out; for the trust, a standard's score is its mean over the services). It is met when "
    "every covering standard is met, partly when any scores above 0, not met otherwise. A set's readiness "
    "is the mean over its applicable requirements."
)


class RequirementReadiness(Model):
    """How ready one source requirement is, and through which standards."""

    ref: str
    title: str
    section: str
    home: str | None  # None when the requirement was excluded from the framework
    related: tuple[str, ...]
    level: Level
    score: float | None
    met: int  # covering standards met
    covering: int  # covering standards with a score (not Not applicable)


class GroupReadiness(Model):
    """Readiness of a set of requirements: a whole source set, or one section of it."""

    key: str  # the set's id, or the section's name
    name: str
    requirements: int
    counts: dict[str, int]  # per level
    score: float | None


class SetReadiness(Model):
    """One source set: its readiness, each section's, and each requirement's."""

    overall: GroupReadiness
    sections: tuple[GroupReadiness, ...]
    requirements: tuple[RequirementReadiness, ...]


class Readiness(Model):
    """Readiness of every source set for one scope: the trust, or one service."""

    scope: str
    rule: str = READINESS_RULE
    sets: tuple[SetReadiness, ...]


def sections_of(sets: Sequence[StandardSet]) -> dict[str, str]:
    """Each requirement's section as its standard set names it, by ref, in the sets' own order."""
    return {s.ref(r): r.section for s in sets for r in s.requirements if r.section}


def standard_scores(returns: ReturnsSet, service: str | None = None) -> dict[str, float | None]:
    """Each standard's score in one service, or for the trust (the mean over services) when None."""
    per: dict[str, list[float]] = {s.id: [] for s in returns.standards}
    seen: dict[str, int] = {s.id: 0 for s in returns.standards}
    for one in returns.returns:
        if service is not None and one.service != service:
            continue
        for e in one.entries:
            if e.standard not in per:
                continue
            seen[e.standard] += 1
            if e.status != L.NOT_APPLICABLE:
                per[e.standard].append(L.STATUS_SCORES.get(e.status or "", 0.0))
    return {k: (sum(v) / len(v) if v else None) for k, v in per.items() if seen[k]}


def readiness(
    framework: Framework,
    returns: ReturnsSet,
    service: str | None = None,
    sections: Mapping[str, str] | None = None,
) -> Readiness:
    """Readiness of every source set of the framework, for the trust or one service.

    Args:
        framework: The framework the returns were collected against (home and related links).
        returns: A set of returns.
        service: One service's name; None for the whole trust.
        sections: Section of each ref (`sections_of`); a ref not in it is grouped by the part of its id
            before the first '/' or '.' (CQC's key question, ISO's clause).

    Raises:
        QmsError: the framework is not the version the returns were collected against.
    """
    info = framework.framework
    if (info.name, info.version) != (returns.framework, returns.version):
        raise QmsError(
            f"the returns were collected against {returns.framework} version {returns.version}, "
            f"not {info.name} version {info.version}",
            field="--framework",
            hint="Give the framework the service trackers were exported from.",
        )
    scores = standard_scores(returns, service)
    related: dict[str, list[str]] = {}
    for standard in framework.standards:
        for partial in standard.related:
            related.setdefault(partial.ref, []).append(standard.id)
    rows: dict[str, list[RequirementReadiness]] = {s.id: [] for s in info.sources}
    for standard in framework.standards:
        for link in standard.sources:
            rows.setdefault(split_ref(link.ref)[0], []).append(
                _requirement(link.ref, link.title, standard.id, related.get(link.ref, []), scores, sections)
            )
    for item in framework.excluded:
        set_id = split_ref(item.ref)[0]
        rows.setdefault(set_id, []).append(
            RequirementReadiness(
                ref=item.ref,
                title=f"Excluded: {item.reason}",
                section=_section(item.ref, sections),
                home=None,
                related=(),
                level="not applicable",
                score=None,
                met=0,
                covering=0,
            )
        )
    names = {s.id: s.name for s in info.sources}
    # The standard sets' own order where known (CQC's key questions are not alphabetical), else natural.
    position = {ref: i for i, ref in enumerate(sections or {})}
    out: list[SetReadiness] = []
    for set_id, requirements in rows.items():
        ordered = tuple(
            sorted(requirements, key=lambda r: (position.get(r.ref, len(position)), _natural(r.ref)))
        )
        section_names = list(dict.fromkeys(r.section for r in ordered))
        out.append(
            SetReadiness(
                overall=_group(set_id, names.get(set_id, set_id), ordered),
                sections=tuple(_group(n, n, [r for r in ordered if r.section == n]) for n in section_names),
                requirements=ordered,
            )
        )
    return Readiness(scope=service or "trust", sets=tuple(out))


def _requirement(
    ref: str,
    title: str,
    home: str,
    related: list[str],
    scores: Mapping[str, float | None],
    sections: Mapping[str, str] | None,
) -> RequirementReadiness:
    covering = [scores.get(s) for s in (home, *related)]
    applicable = [s for s in covering if s is not None]
    score = round(sum(applicable) / len(applicable), 4) if applicable else None
    if not applicable:
        level: Level = "not applicable"
    elif all(s == 1.0 for s in applicable):
        level = "met"
    elif any(s > 0 for s in applicable):
        level = "partly"
    else:
        level = "not met"
    return RequirementReadiness(
        ref=ref,
        title=title,
        section=_section(ref, sections),
        home=home,
        related=tuple(related),
        level=level,
        score=score,
        met=sum(1 for s in applicable if s == 1.0),
        covering=len(applicable),
    )


def _section(ref: str, sections: Mapping[str, str] | None) -> str:
    if sections and ref in sections:
        return sections[ref]
    requirement = split_ref(ref)[1]
    for mark in ("/", "."):
        if mark in requirement:
            return requirement.split(mark)[0]
    return requirement if requirement[:1].isdigit() else "All"


def _group(key: str, name: str, requirements: Sequence[RequirementReadiness]) -> GroupReadiness:
    scored = [r.score for r in requirements if r.score is not None]
    return GroupReadiness(
        key=key,
        name=name,
        requirements=len(requirements),
        counts={level: sum(1 for r in requirements if r.level == level) for level in LEVELS},
        score=round(sum(scored) / len(scored), 4) if scored else None,
    )


def _natural(ref: str) -> tuple[tuple[int, str], ...]:
    """Sort `iso:8.10` after `iso:8.9`: numbers compare as numbers."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"(\d+)", ref) if p)


def describe(group: GroupReadiness) -> str:
    """One line people read: `CQC Safe: 6 of 8 met, 1 partly, 1 not met (readiness 81.3%)`."""
    c = group.counts
    applicable = group.requirements - c["not applicable"]
    score = "-" if group.score is None else f"{group.score:.1%}"
    return (
        f"{group.name}: {c['met']} of {applicable} met, {c['partly']} partly, {c['not met']} not met "
        f"(readiness {score})"
    )


__all__ = [
    "READINESS_RULE",
    "GroupReadiness",
    "Readiness",
    "RequirementReadiness",
    "SetReadiness",
    "describe",
    "readiness",
    "sections_of",
    "standard_scores",
]
