"""The risk rule: severity by harm and centrality, likelihood from a prior or returns, recurrence apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MAPPINGS, STANDARDS, FakeEmbedder
from qms_standards.framework import consolidate
from qms_standards.load import load_catalogue
from qms_standards.models import Framework, Settings, Standard
from qms_standards.risk import (
    DEFAULT_LIKELIHOOD,
    DEFAULT_SEVERITY,
    Member,
    likelihood_from_returns,
    rate_standard,
    rating,
)


def _m(ref: str, title: str, severity: int | None, weight: float = 0.8) -> Member:
    return Member(ref=ref, title=title, severity=severity, weight=weight, set_id=ref.split(":")[0])


def test_a_peripheral_member_cannot_set_the_severity() -> None:
    """A display-of-ratings duty (4) inside a monitoring standard of 3s does not make it major."""
    members = [
        _m("cqc:reg-20a", "Requirement as to display of performance assessments", 4, weight=0.45),
        _m("saf:monitoring", "Monitoring and improving outcomes", 3, weight=0.9),
        _m("iso-a:9.1", "Monitoring, measurement, analysis and evaluation", 3, weight=0.92),
        _m("iso-b:9.1", "Monitoring, measurement, analysis and evaluation", 3, weight=0.91),
        _m("iso-b:9.1.3", "Analysis and evaluation", 3, weight=0.8),
    ]
    rated = rate_standard(members)
    assert (rated.severity, rated.severity_basis) == (3, "hints")
    assert "saf:monitoring and 3 more" in rated.reason


def test_a_central_legal_duty_sets_the_severity() -> None:
    members = [_m("cqc:reg-11", "Need for consent", 4, 0.9), _m("saf:consent", "Consent to care", 3, 0.9)]
    rated = rate_standard(members)
    assert (rated.severity, rated.severity_basis) == (4, "hints")


def test_a_harmful_subject_sets_a_floor_and_a_prior() -> None:
    members = [_m("x:1", "Medicines management", None, 0.9), _m("y:2", "Governance", 3, 0.5)]
    rated = rate_standard(members, centre="x:1")
    assert (rated.severity, rated.severity_basis, rated.likelihood, rated.likelihood_basis) == (
        5,
        "topic",
        3,
        "prior",
    )
    assert rating(rated.severity * rated.likelihood) == "extreme"
    assert rated.reason == "severity 5: subject medicines; likelihood 3: prior for medicines"


def test_a_subject_named_by_a_peripheral_member_sets_the_floor_but_not_the_prior() -> None:
    """A standard is not met unless every member is: infection control inside it makes it catastrophic."""
    members = [
        _m("a:1", "Documented information", 3, 0.9),
        _m("a:2", "Control of documents", 3, 0.9),
        _m("a:3", "Records", 3, 0.9),
        _m("b:9", "Infection prevention and control", None, 0.2),
    ]
    rated = rate_standard(members, centre="a:1")
    assert (rated.severity, rated.severity_basis, rated.likelihood) == (5, "topic", DEFAULT_LIKELIHOOD)
    assert rated.reason.startswith("severity 5: subject infection prevention and control")


def test_a_legal_duty_sets_a_floor_however_peripheral() -> None:
    """Regulation 15 (severity 5) among ISO members of 3 that outweigh it: premises still rate 5."""
    members = [
        Member("cqc:reg-15", "Premises and equipment", 5, 0.3, "cqc", legal=True),
        _m("iso-a:7.1.3", "Infrastructure", 3, 0.9),
        _m("iso-b:8.2.3", "Healthcare facilities", 3, 0.9),
        _m("iso-b:8.4", "Handling and storage of materials", 3, 0.9),
    ]
    rated = rate_standard(members, centre="iso-a:7.1.3")
    assert (rated.severity, rated.severity_basis) == (5, "hints")
    assert rated.reason.startswith("severity 5: legal duty cqc:reg-15")
    assert rate_standard([*members[1:]], centre="iso-a:7.1.3").severity == 3


def test_the_display_of_ratings_cap_holds_inside_a_larger_standard() -> None:
    """Regulation 20A is a legal duty with hint 4, but its floor is the cap (2), so ISO 3s set the rating."""
    members = [
        Member("cqc:reg-20a", "Requirement as to display of performance assessments", 4, 0.9, "cqc", True),
        _m("iso:9.1.3", "Analysis and evaluation", 3, 0.5),
    ]
    assert rate_standard(members, centre="cqc:reg-20a").severity == 3


@pytest.mark.parametrize(
    "title",
    [
        "Freedom to speak up",
        "How staff, teams and services work together",
        "Delivering evidence-based care and treatment",
        "Assessing needs",
        "Equity in access",
    ],
)
def test_subjects_the_reviewer_rated_higher_rate_at_least_high(title: str) -> None:
    rated = rate_standard([_m("saf:x", title, 3, 0.9)], centre="saf:x")
    assert rating(rated.severity * rated.likelihood) in ("high", "extreme"), rated.reason


def test_likelihood_priors_differ_by_subject() -> None:
    """A written policy is rarely missing (1), improvement capability often still being built (3)."""
    policy = rate_standard([_m("iso:5.2", "Quality policy", 3, 0.9)], centre="iso:5.2")
    assert (policy.likelihood, rating(policy.severity * policy.likelihood)) == (1, "low")
    assert "prior for a written policy" in policy.reason
    huddles = rate_standard([_m("nhs:7", "Leaders at daily huddles unblock issues", None)], centre="nhs:7")
    assert huddles.likelihood == 3
    plain = rate_standard([_m("iso:8.5.4", "Preservation", 3)], centre="iso:8.5.4")
    assert plain.likelihood == DEFAULT_LIKELIHOOD


def test_no_hint_gives_the_default_and_overrides_win() -> None:
    members = [_m("g:1", "Dynamic", None)]
    assert rate_standard(members).severity == DEFAULT_SEVERITY
    rated = rate_standard(members, severity_override=4, likelihood_override=5)
    assert (rated.severity, rated.severity_basis, rated.likelihood, rated.likelihood_basis) == (
        4,
        "override",
        5,
        "override",
    )


def test_recurrence_counts_sets_and_never_moves_the_likelihood() -> None:
    one = [_m("iso-a:7.2", "Competence", 3)]
    five = [_m(f"set{k}:7.2", "Competence", 3) for k in range(5)]
    assert (rate_standard(one).recurrence, rate_standard(five).recurrence) == (1, 5)
    assert rate_standard(one).likelihood == rate_standard(five).likelihood == DEFAULT_LIKELIHOOD


@given(
    st.lists(
        st.tuples(st.sampled_from([None, 1, 2, 3, 4, 5]), st.floats(min_value=-1.0, max_value=1.0)),
        min_size=1,
        max_size=12,
    )
)
def test_severity_lies_within_the_members_hints(
    hints: list[tuple[int | None, float]],
) -> None:
    members = [_m(f"s:{k}", "Generic clause", h, w) for k, (h, w) in enumerate(hints)]
    rated = rate_standard(members)
    given_hints = [h for h, _ in hints if h]
    if given_hints:
        assert min(given_hints) <= rated.severity <= max(given_hints)
    else:
        assert rated.severity == DEFAULT_SEVERITY
    assert 1 <= rated.likelihood <= 5


@pytest.mark.parametrize(
    ("not_met", "assessed", "expected"),
    [(0, 10, 1), (1, 20, 2), (1, 10, 2), (2, 10, 3), (3, 10, 4), (5, 10, 5), (10, 10, 5)],
)
def test_likelihood_from_returns_bands_the_share_not_met(not_met: int, assessed: int, expected: int) -> None:
    assert likelihood_from_returns(not_met, assessed) == expected


def test_likelihood_from_returns_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="assessed >= 1"):
        likelihood_from_returns(0, 0)


def _shipped(tmp_path: Path) -> Framework:
    catalogue = load_catalogue([STANDARDS], MAPPINGS)
    assert catalogue.mappings is not None
    return consolidate(catalogue.sets, catalogue.mappings, Settings(), FakeEmbedder()).framework


def _home(framework: Framework, ref: str) -> Standard:
    return next(s for s in framework.standards if any(x.ref == ref for x in s.sources))


def test_shipped_standards_rate_harm_first(tmp_path: Path) -> None:
    """Whatever the grouping: the harmful subjects rate at least high, organisational context not extreme."""
    framework = _shipped(tmp_path)
    for ref in (
        "cqc-saf-2024:safe/medicines-optimisation",
        "cqc-saf-2024:safe/infection-prevention-control",
        "cqc-saf-2024:safe/safeguarding",
        "cqc-fundamental-standards-2014:reg-12",
    ):
        assert _home(framework, ref).risk.rating in ("high", "extreme"), ref
    assert _home(framework, "iso-9001-2015:4.1").risk.rating != "extreme"
    for standard in framework.standards:
        risk = standard.risk
        assert risk.recurrence == len({x.ref.split(":")[0] for x in standard.sources})
        assert risk.severity_basis in ("hints", "topic", "default")
        assert risk.likelihood_basis == "prior"
        assert risk.reason and f"severity {risk.severity}" in risk.reason


def test_a_duty_to_display_ratings_is_at_most_minor_on_its_own() -> None:
    alone = [_m("cqc:reg-20a", "Requirement as to display of performance assessments", 4, 0.9)]
    rated = rate_standard(alone, centre="cqc:reg-20a")
    assert (rated.severity, rated.severity_basis) == (2, "topic")
    assert rated.reason.startswith("severity 2: at most 2 for display of ratings, whose breach harms nobody")
    beside_harm = [*alone, _m("cqc:reg-12", "Safe care and treatment", 5, 0.9)]
    assert rate_standard(beside_harm, centre="cqc:reg-12").severity == 5
