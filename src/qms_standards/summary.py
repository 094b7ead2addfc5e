"""Figures that describe a framework: counts per domain, per source set, sets drawn on per standard."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .models import Framework, split_ref


@dataclass(frozen=True)
class FrameworkSummary:
    """Counts a head of quality checks after a run."""

    requirements: int
    excluded: int
    standards: int
    per_domain: list[tuple[str, str, int]]  # (id, name, standards)
    per_set: list[tuple[str, int, int]]  # (set id, requirements, standards drawing on it)
    by_set_count: dict[str, int]  # "1", "2", "3+" -> standards drawing on that many sets
    per_rating: dict[str, int]


def summarise(framework: Framework) -> FrameworkSummary:
    """Count what a framework holds."""
    domain_counts = Counter(s.domain for s in framework.standards)
    set_requirements: Counter[str] = Counter()
    set_standards: Counter[str] = Counter()
    spread: Counter[str] = Counter()
    for standard in framework.standards:
        sets = {split_ref(link.ref)[0] for link in standard.sources}
        set_requirements.update(split_ref(link.ref)[0] for link in standard.sources)
        set_standards.update(sets)
        spread["3+" if len(sets) >= 3 else str(len(sets))] += 1
    return FrameworkSummary(
        requirements=sum(len(s.sources) for s in framework.standards) + len(framework.excluded),
        excluded=len(framework.excluded),
        standards=len(framework.standards),
        per_domain=[(d.id, d.name, domain_counts.get(d.id, 0)) for d in framework.domains],
        per_set=[(s.id, s.requirements, set_standards.get(s.id, 0)) for s in framework.framework.sources],
        by_set_count={k: spread.get(k, 0) for k in ("1", "2", "3+")},
        per_rating={
            r: sum(1 for s in framework.standards if s.risk.rating == r)
            for r in ("low", "moderate", "high", "extreme")
        },
    )
