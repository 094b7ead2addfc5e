"""Views of a framework that every exporter needs: standards by domain, the crosswalk, coverage figures."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Domain, Framework, RelatedLink, SourceLink, SourceSet, Standard, split_ref


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders clause numbers as people read them: 9.2 before 10.2."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


def domains_with_standards(framework: Framework) -> list[tuple[Domain, list[Standard]]]:
    """Every domain in framework order with its standards (in framework order).

    A domain a standard names but the framework does not declare is appended, named by its id, so no
    standard is ever left out of an export.
    """
    declared = [d.id for d in framework.domains]
    extra = sorted({s.domain for s in framework.standards} - set(declared))
    domains = list(framework.domains) + [Domain(id=d, name=d, description=d) for d in extra]
    return [(d, [s for s in framework.standards if s.domain == d.id]) for d in domains]


def set_ids(standard: Standard) -> list[str]:
    """The ids of the sets a standard draws on, sorted."""
    return sorted({split_ref(link.ref)[0] for link in standard.sources})


SOURCES_LISTED = 3  # a standard with more sources than this is summarised in its tracker row


def source_summary(standard: Standard, crosswalk_sheet: str = "Crosswalk") -> str:
    """A standard's sources in at most three short lines: its refs, or how many per set and where they are.

    One ref per line made tracker rows a dozen lines tall; past `SOURCES_LISTED` refs the row says how
    many come from each set and the refs stay on the crosswalk sheet.
    Example: `4 requirements: iso-9001-2015 (2), cqc-saf-2024, iso-7101-2023` and `full list: Crosswalk`.
    """
    counts: dict[str, int] = {}
    for link in standard.sources:
        set_id = split_ref(link.ref)[0]
        counts[set_id] = counts.get(set_id, 0) + 1
    if len(standard.sources) <= SOURCES_LISTED:
        return "\n".join(link.ref for link in standard.sources)
    parts = [
        f"{set_id} ({count})" if count > 1 else set_id
        for set_id, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return f"{len(standard.sources)} requirements: {', '.join(parts)}\nfull list: {crosswalk_sheet} sheet"


@dataclass(frozen=True)
class CrosswalkRow:
    """Where one source requirement went: a standard (with its link) or the excluded list.

    `kind` is `home` for the one standard holding the requirement, `related` for a standard that also
    partly covers it (`crosswalk_links` only), `excluded` for a requirement left out on purpose.
    """

    set_id: str
    requirement_id: str
    ref: str
    standard: Standard | None = None
    link: SourceLink | RelatedLink | None = None
    reason: str | None = None  # why it was excluded
    kind: str = "home"

    @property
    def title(self) -> str:
        """The requirement's title, when the framework records it (excluded refs have none)."""
        return self.link.title if self.link is not None else ""


def source_sets(framework: Framework) -> list[SourceSet]:
    """The framework's source sets, plus a stub for any set its refs name but its header does not."""
    known = {s.id for s in framework.framework.sources}
    named = {split_ref(link.ref)[0] for s in framework.standards for link in s.sources}
    named |= {split_ref(e.ref)[0] for e in framework.excluded}
    named |= {split_ref(link.ref)[0] for s in framework.standards for link in s.related}
    stubs = [
        SourceSet(id=i, name=i, version="", publisher="", licence="", requirements=0, sha256="")
        for i in sorted(named - known)
    ]
    return list(framework.framework.sources) + stubs


def crosswalk(framework: Framework) -> list[CrosswalkRow]:
    """Every source requirement of the framework with its destination, by set then clause number."""
    rows = [
        CrosswalkRow(*split_ref(link.ref), link.ref, standard, link)
        for standard in framework.standards
        for link in standard.sources
    ]
    rows += [
        CrosswalkRow(*split_ref(e.ref), e.ref, reason=e.reason, kind="excluded") for e in framework.excluded
    ]
    return _in_clause_order(framework, rows)


def crosswalk_links(framework: Framework) -> list[CrosswalkRow]:
    """The many-to-many crosswalk: every home link and every related link, and the exclusions.

    Each requirement has one `home` row (or one `excluded` row) and a `related` row per standard that also
    partly covers it; rows run by set, clause number, home before related, then standard id.
    """
    rows = crosswalk(framework)
    rows += [
        CrosswalkRow(*split_ref(link.ref), link.ref, standard, link, kind="related")
        for standard in framework.standards
        for link in standard.related
    ]
    return _in_clause_order(framework, rows)


def _in_clause_order(framework: Framework, rows: list[CrosswalkRow]) -> list[CrosswalkRow]:
    order = {s.id: i for i, s in enumerate(source_sets(framework))}
    return sorted(
        rows,
        key=lambda r: (
            order[r.set_id],
            natural_key(r.requirement_id),
            r.ref,
            r.kind == "related",
            natural_key(r.standard.id if r.standard else ""),
        ),
    )


@dataclass(frozen=True)
class SetCoverage:
    """How one source set landed in the framework."""

    source: SourceSet
    mapped: int
    excluded: int
    standards: int  # standards drawing on this set


@dataclass(frozen=True)
class Coverage:
    """Coverage figures: requirements in, standards out, and how widely standards draw on the sets."""

    requirements_in: int
    mapped: int
    excluded: int
    standards: int
    by_set_count: dict[str, int]  # "1", "2", "3+" sets -> number of standards
    sets: list[SetCoverage]


def coverage(framework: Framework) -> Coverage:
    """Compute coverage figures for a framework."""
    by_count = {"1": 0, "2": 0, "3+": 0}
    for standard in framework.standards:
        n = len(set_ids(standard))
        by_count["3+" if n >= 3 else str(max(n, 1))] += 1
    rows = crosswalk(framework)
    sets = []
    for source in source_sets(framework):
        mine = [r for r in rows if r.set_id == source.id]
        reached = {r.standard.id for r in mine if r.standard is not None}
        sets.append(
            SetCoverage(
                source,
                sum(r.standard is not None for r in mine),
                sum(r.reason is not None for r in mine),
                len(reached),
            )
        )
    return Coverage(
        requirements_in=sum(s.requirements for s in framework.framework.sources),
        mapped=sum(len(s.sources) for s in framework.standards),
        excluded=len(framework.excluded),
        standards=len(framework.standards),
        by_set_count=by_count,
        sets=sets,
    )
