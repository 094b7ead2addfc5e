"""Readiness against each source set through home and related links, per service and for the trust."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import DATA, STANDARDS
from qms_standards.errors import QmsError
from qms_standards.load import load_framework, load_standard_sets
from qms_standards.models import Framework, RelatedLink
from qms_standards.readiness import describe, readiness, sections_of, standard_scores
from qms_standards.returns import (
    DomainInfo,
    ReturnedEntry,
    ReturnsSet,
    ServiceInfo,
    ServiceReturn,
    StandardInfo,
)

# Without its own related links, so each test states the crosswalk it reads through.
_LOADED = load_framework(DATA / "framework-small.yaml")
SMALL = _LOADED.model_copy(
    update={"standards": tuple(s.model_copy(update={"related": ()}) for s in _LOADED.standards)}
)


def with_related(framework: Framework) -> Framework:
    """QS-005 also partly covers CQC governance (homed in QS-001)."""
    link = RelatedLink(
        ref="cqc-saf-2024:well-led/governance",
        title="Governance",
        relationship="intersect",
        strength=4,
        similarity=0.6,
    )
    standards = tuple(
        s.model_copy(update={"related": (link,)}) if s.id == "QS-005" else s for s in framework.standards
    )
    return framework.model_copy(update={"standards": standards})


def returns_of(framework: Framework, statuses: dict[str, dict[str, str | None]]) -> ReturnsSet:
    """A set of returns: {service: {standard id: status}}; standards not named are blank."""
    return ReturnsSet(
        framework=framework.framework.name,
        version=framework.framework.version,
        organisation="Trust",
        collected=date(2025, 6, 30),
        domains=tuple(DomainInfo(id=d.id, name=d.name) for d in framework.domains),
        standards=tuple(
            StandardInfo(
                id=s.id,
                domain=s.domain,
                title=s.title,
                severity=s.risk.severity,
                likelihood=s.risk.likelihood,
                score=s.risk.score,
                rating=s.risk.rating,
                weight=s.risk.weight,
            )
            for s in framework.standards
        ),
        services=tuple(ServiceInfo(name=n, directorate="Medicine") for n in statuses),
        returns=tuple(
            ServiceReturn(
                service=name,
                directorate="Medicine",
                file=f"{name}.xlsx",
                sha256="0" * 64,
                entries=tuple(
                    ReturnedEntry(standard=s.id, status=given.get(s.id)) for s in framework.standards
                ),
            )
            for name, given in statuses.items()
        ),
    )


def test_standard_scores_per_service_and_for_the_trust() -> None:
    returns = returns_of(
        SMALL,
        {
            "A": {"QS-001": "Met", "QS-002": "Partially met", "QS-003": "Not applicable"},
            "B": {"QS-001": "Not met", "QS-002": "Met", "QS-003": "Not applicable"},
        },
    )
    assert standard_scores(returns, "A")["QS-001"] == 1.0
    assert standard_scores(returns, "A")["QS-003"] is None
    trust = standard_scores(returns)
    assert (trust["QS-001"], trust["QS-002"], trust["QS-003"], trust["QS-004"]) == (0.5, 0.75, None, 0.0)


def test_a_requirement_is_only_as_met_as_every_standard_covering_it() -> None:
    framework = with_related(SMALL)
    returns = returns_of(framework, {"A": {"QS-001": "Met", "QS-005": "Partially met", "QS-003": "Met"}})
    result = readiness(framework, returns, "A")
    assert result.scope == "A"
    cqc = next(s for s in result.sets if s.overall.key == "cqc-saf-2024")
    by_ref = {r.ref: r for r in cqc.requirements}
    governance = by_ref["cqc-saf-2024:well-led/governance"]
    assert (governance.home, governance.related) == ("QS-001", ("QS-005",))
    assert (governance.level, governance.score, governance.met, governance.covering) == ("partly", 0.75, 1, 2)
    learning = by_ref["cqc-saf-2024:safe/learning-culture"]
    assert (learning.level, learning.score) == ("met", 1.0)
    assert by_ref["cqc-saf-2024:well-led/freedom-to-speak-up"].level == "not met"
    assert cqc.overall.counts == {"met": 1, "partly": 1, "not met": 3, "not applicable": 0}
    assert cqc.overall.score == round((0.75 + 1.0) / 5, 4)
    # Sections from the id when no standard sets are given: CQC's key question
    assert [g.key for g in cqc.sections] == ["safe", "well-led"]


def test_excluded_and_not_applicable_requirements_leave_the_score() -> None:
    returns = returns_of(SMALL, {"A": {"QS-005": "Not applicable", "QS-003": "Met"}})
    iso = next(s for s in readiness(SMALL, returns, "A").sets if s.overall.key == "iso-9001-2015")
    levels = {r.ref: r.level for r in iso.requirements}
    assert levels["iso-9001-2015:4.4.2"] == "not applicable"  # excluded with a reason
    assert levels["iso-9001-2015:9.2"] == "not applicable"
    assert levels["iso-9001-2015:10.2"] == "met"
    assert iso.overall.counts["not applicable"] == 2
    assert iso.overall.score == round(1.0 / 3, 4)
    assert [r.ref for r in iso.requirements] == [
        "iso-9001-2015:4.4.2",
        "iso-9001-2015:5.1.1",
        "iso-9001-2015:9.2",
        "iso-9001-2015:10.2",
        "iso-9001-2015:10.3",
    ]  # 10.x after 9.x
    assert describe(iso.overall) == (
        "ISO 9001:2015 Quality management systems - Requirements: 1 of 3 met, 0 partly, 2 not met "
        "(readiness 33.3%)"
    )


def test_the_trust_needs_every_service() -> None:
    returns = returns_of(SMALL, {"A": {"QS-003": "Met"}, "B": {"QS-003": "Partially met"}})
    iso = next(s for s in readiness(SMALL, returns).sets if s.overall.key == "iso-9001-2015")
    learning = next(r for r in iso.requirements if r.ref == "iso-9001-2015:10.2")
    assert (learning.level, learning.score) == ("partly", 0.75)


def test_sections_come_from_the_standard_sets_when_given() -> None:
    sets = [s.set for s in load_standard_sets([STANDARDS])]
    sections = sections_of(sets)
    assert sections["cqc-saf-2024:safe/learning-culture"] == "Safe"
    returns = returns_of(SMALL, {"A": {}})
    cqc = next(
        s for s in readiness(SMALL, returns, sections=sections).sets if s.overall.key == "cqc-saf-2024"
    )
    section = {r.ref: r.section for r in cqc.requirements}
    assert section["cqc-saf-2024:safe/learning-culture"] == "Safe"  # from the standard set
    # a ref the shipped set does not have (this test framework's own) falls back to its id's prefix
    assert section["cqc-saf-2024:safe/infection-prevention-and-control"] == "safe"


def test_returns_of_another_framework_version_are_refused() -> None:
    returns = returns_of(SMALL, {"A": {}}).model_copy(update={"version": "9.9"})
    with pytest.raises(QmsError) as caught:
        readiness(SMALL, returns)
    assert caught.value.field == "--framework"
