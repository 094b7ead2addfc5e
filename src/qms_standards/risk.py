"""Risk on the NHS 5x5 matrix: consequence (severity) x likelihood, scored 1-25 and banded.

Bands follow the NPSA risk matrix for risk managers (2008): low 1-3, moderate 4-6, high 8-12,
extreme 15-25. A standard's weight is its score over the sum of all scores.

The rule a quality committee checks (docs/content-and-risk.md says it in words):

- Severity is the worst credible harm if the standard is not met. Each member requirement may carry a
  1-5 hint; a level counts when the members carrying it (or worse) make up at least a quarter of the
  standard, each member weighted by how central it is (its similarity to the standard's centre). So one
  peripheral member cannot outvote the rest. But a legal duty's hint (a CQC fundamental standard) and a
  subject whose failure directly harms people (`TOPICS`), named by any member, set a floor: the standard
  is not met unless every member is. The duty to display CQC ratings carries at most 2 (minor), wherever it
  sits, because its breach harms nobody directly.
- Likelihood is how often the standard is not met: a documented prior per subject (1, 2 or 3) until the
  organisation has returns, then the share of services not meeting it (`likelihood_from_returns`).
- Recurrence (how many source sets repeat the standard) is reported beside the rating, never multiplied in.
- An override in `mappings/overrides.yaml` wins over all of these, and each value says its basis.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from .models import LikelihoodBasis, Risk, SeverityBasis

BANDS = ((3, "low"), (6, "moderate"), (12, "high"), (25, "extreme"))

DEFAULT_SEVERITY = 2  # no member carries a hint: guidance without legal or patient-safety grounds
DEFAULT_LIKELIHOOD = 2  # "unlikely" on the NHS scale: the prior for a subject with no known record
CORE_SHARE = 1 / 4  # the share of a standard's centrality a level or a subject must hold to count

SEVERITY_NAMES = {1: "negligible", 2: "minor", 3: "moderate", 4: "major", 5: "catastrophic"}
LIKELIHOOD_NAMES = {1: "rare", 2: "unlikely", 3: "possible", 4: "likely", 5: "almost certain"}


@dataclass(frozen=True)
class Topic:
    """A subject whose failure has a known harm and a known record of going wrong."""

    name: str
    pattern: str  # matched, case-insensitive, against member titles
    severity: int  # floor: the standard's severity is at least this when it is about the subject
    likelihood: int  # prior until returns exist
    cap: bool = False  # the severity is at most `severity` instead: a duty whose breach harms nobody directly

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """`pattern`, compiled once, case-insensitive."""
        return re.compile(self.pattern, re.I)


# Severity floors are the sources' own: the regulations whose breach CQC can prosecute without a warning
# notice (regs 12, 13, 14 and 15: safe care and treatment, safeguarding, nutrition, premises) are the
# catastrophic-harm subjects, and medicines and infection control sit inside reg 12. The CQC quality
# statements whose failure leads straight to harm or missed harm (speaking up, handover and working across
# teams, evidence-based care, assessing needs, equity of access) are major (4).
#
# Likelihood priors say how often a subject is found not met, until returns measure it:
# - 3 ("possible"): the subjects CQC most often finds in breach (its State of Care and enforcement
#   reporting: safe care and treatment, medicines, infection control, safeguarding, staffing, governance),
#   speaking up (the NHS Staff Survey asks every year whether staff feel safe to raise concerns, and a large
#   minority do not), handover and continuity between teams (a contributory factor named again and again in
#   HSSIB and serious incident investigations), and improvement capability and culture (NHS IMPACT's own
#   self-assessment expects most organisations to be still building it).
# - 1 ("rare"): a standard met by writing and approving one document (a policy, the scope, the context,
#   the roles, a risk management commitment): once it exists it is rarely found missing; failures show up
#   in practice.
# - 2 ("unlikely"): everything else, the default.
TOPICS: tuple[Topic, ...] = (
    Topic("medicines", r"\bmedicine|\bmedication|\bprescrib", 5, 3),
    Topic("infection prevention and control", r"\binfection", 5, 3),
    Topic("safeguarding", r"\bsafeguard|\babuse\b", 5, 3),
    Topic("safe care and treatment", r"\bsafe care\b|\bsafe systems\b|\bsafe environments?\b", 5, 3),
    Topic("nutrition and hydration", r"\bnutrition|\bhydration", 5, 2),
    Topic("premises and equipment", r"\bpremises\b", 5, 2),
    Topic("staffing", r"\bstaffing\b", 4, 3),
    Topic("freedom to speak up", r"\bspeak(ing)? up\b|\bwhistleblow", 4, 3),
    Topic(
        "handover and working across teams",
        r"\bhandover|\btransitions?\b|\bwork together\b|\band continuity\b|\bcontinuity of care\b",
        4,
        3,
    ),
    Topic("evidence-based care", r"\bevidence-based\b", 4, 2),
    Topic("assessing needs", r"\bassessing needs\b|\bimmediate needs\b|\bassessment of needs\b", 4, 2),
    Topic("equity of access", r"\bequity in access\b|\baccess to (care|services)\b", 4, 2),
    Topic("good governance", r"\bgood governance\b|^governance\b", 3, 3),
    Topic(
        "improvement capability and culture",
        r"\bimprov|\bPDSA\b|\bcoach|\bhuddles?\b|\bleadership (styles|stability)|\bpeer support|"
        r"\bcultural readiness|\blived experience|\bshared purpose",
        2,
        3,
    ),
    Topic(
        "a written policy, scope or commitment",
        r"\bpolicy\b|\bscope of\b|\bits context\b|\binterested parties\b|\bmanagement commitment\b|"
        r"\broles, responsibilities\b",
        1,
        1,
    ),
    Topic("display of ratings", r"\bdisplay of performance|\bdisplay\b.*\bratings?\b", 2, 2, cap=True),
)


@dataclass(frozen=True)
class Member:
    """What the risk rule reads of one member requirement."""

    ref: str
    title: str
    severity: int | None
    weight: float  # how central the member is: its similarity to the standard's centre, 0-1
    set_id: str
    legal: bool = False  # a legal duty (a CQC fundamental standard): its hint is a floor, not one vote


@dataclass(frozen=True)
class Rated:
    """Severity and likelihood of one standard, each with its basis, before weights are known."""

    severity: int
    severity_basis: SeverityBasis
    likelihood: int
    likelihood_basis: LikelihoodBasis
    recurrence: int
    reason: str

    def risk(self, weight: float) -> Risk:
        """The standard's Risk with its weight (score over the sum of all scores)."""
        return assess_risk(self.severity, self.likelihood, weight, self)


def rating(score: int) -> str:
    """The band of a 1-25 score."""
    return next(name for top, name in BANDS if score <= top)


def _weights(members: Sequence[Member]) -> list[float]:
    # A member with a zero or negative similarity still counts a little, so a standard never weighs 0.
    return [max(m.weight, 0.01) for m in members]


def severity_from_hints(members: Sequence[Member]) -> tuple[int, str] | None:
    """The highest hint held by members making up at least `CORE_SHARE` of the hinted members' weight.

    Returns the level and who carries it (in words, for the reason), or None when no member has a hint.
    """
    hinted = [(m, w) for m, w in zip(members, _weights(members), strict=True) if m.severity]
    if not hinted:
        return None
    total = sum(w for _, w in hinted)
    for level in range(5, 0, -1):
        carrying = [(m, w) for m, w in hinted if (m.severity or 0) >= level]
        share = sum(w for _, w in carrying) / total
        if share >= CORE_SHARE - 1e-9:
            named = [m.ref for m, _ in carrying if m.severity == level]
            more = f" and {len(named) - 1} more" if len(named) > 1 else ""
            return level, f"{named[0]}{more}, {share:.0%} of the hinted members by centrality"
    raise AssertionError("a hinted member always carries level 1 or more")  # pragma: no cover


def topics_of(members: Sequence[Member], centre: str | None = None) -> list[Topic]:
    """The subjects a standard is about: named in the title of its centre or of a quarter of its weight."""
    weights = _weights(members)
    total = sum(weights)
    found = []
    for topic in TOPICS:
        hits = [(m, w) for m, w in zip(members, weights, strict=True) if topic.regex.search(m.title)]
        if any(m.ref == centre for m, _ in hits) or sum(w for _, w in hits) >= CORE_SHARE * total - 1e-9:
            found.append(topic)
    return found


def _capped(member: Member) -> Member:
    """A member whose own subject caps its harm (display of ratings) carries at most the cap as its hint."""
    cap = min((t.severity for t in TOPICS if t.cap and t.regex.search(member.title)), default=None)
    if cap is None or member.severity is None or member.severity <= cap:
        return member
    return Member(member.ref, member.title, cap, member.weight, member.set_id, member.legal)


def _floor(members: Sequence[Member]) -> tuple[int, str] | None:
    """The highest floor any member sets, whatever its centrality, and why.

    A legal duty's hint is a floor (a standard that holds regulation 15 is at least as severe as
    regulation 15), and so is a harmful subject named in any member's title: a standard is not met unless
    every member is, so its worst member's harm is the standard's.
    """
    floors: list[tuple[int, str]] = []
    for member in members:
        if member.legal and member.severity:
            floors.append((member.severity, f"legal duty {member.ref}"))
        for topic in TOPICS:
            if not topic.cap and topic.regex.search(member.title):
                floors.append((topic.severity, f"subject {topic.name}"))
    return max(floors, key=lambda f: f[0], default=None)


def rate_standard(
    members: Sequence[Member],
    *,
    centre: str | None = None,
    severity_override: int | None = None,
    likelihood_override: int | None = None,
) -> Rated:
    """Severity and likelihood of one standard by the documented rule, each with its basis and a reason.

    Args:
        members: The standard's member requirements with their hints and centrality.
        centre: The ref of the most central member, if known (its subject always counts).
        severity_override: The value in `mappings/overrides.yaml`, which wins.
        likelihood_override: Likewise.
    """
    members = [_capped(m) for m in members]
    topics = topics_of(members, centre)
    hinted = severity_from_hints(members)
    floor = _floor(members)
    # The cap speaks for the standard only when the capped duty is all that carries a hint.
    hinted_titles = [m.title for m in members if m.severity]
    cap = min(
        (t for t in TOPICS if t.cap and hinted_titles and all(t.regex.search(x) for x in hinted_titles)),
        key=lambda t: t.severity,
        default=None,
    )
    parts: list[str] = []
    severity_basis: SeverityBasis
    if severity_override:
        severity, severity_basis = severity_override, "override"
        parts.append(f"severity {severity}: set in overrides")
    elif (
        cap is not None
        and (floor is None or floor[0] <= cap.severity)
        and cap.severity <= (hinted[0] if hinted else DEFAULT_SEVERITY)
    ):
        severity, severity_basis = cap.severity, "topic"
        parts.append(
            f"severity {severity}: at most {severity} for {cap.name}, whose breach harms nobody directly"
        )
    elif floor is not None and floor[0] > (hinted[0] if hinted else 0) and floor[0] > 1:
        severity = floor[0]
        severity_basis = "hints" if floor[1].startswith("legal duty") else "topic"
        parts.append(f"severity {severity}: {floor[1]}")
    elif hinted is not None:
        severity, severity_basis = hinted[0], "hints"
        parts.append(f"severity {severity}: hint of {hinted[1]}")
    else:
        severity, severity_basis = DEFAULT_SEVERITY, "default"
        parts.append(f"severity {severity}: no member carries a hint")
    prior = max((t for t in topics if not t.cap), key=lambda t: t.likelihood, default=None)
    likelihood_basis: LikelihoodBasis
    if likelihood_override:
        likelihood, likelihood_basis = likelihood_override, "override"
        parts.append(f"likelihood {likelihood}: set in overrides")
    elif prior is not None:
        likelihood, likelihood_basis = prior.likelihood, "prior"
        parts.append(f"likelihood {likelihood}: prior for {prior.name}")
    else:
        likelihood, likelihood_basis = DEFAULT_LIKELIHOOD, "prior"
        parts.append(f"likelihood {likelihood}: default prior")
    return Rated(
        severity=severity,
        severity_basis=severity_basis,
        likelihood=likelihood,
        likelihood_basis=likelihood_basis,
        recurrence=len({m.set_id for m in members}),
        reason="; ".join(parts),
    )


# The share of services not meeting a standard -> likelihood, upper bounds per level. A standard no
# service fails in a round is "rare" (1), not impossible; half or more failing is "almost certain" (5).
RETURNS_BANDS = ((0.05, 1), (0.15, 2), (0.3, 3), (0.5, 4), (1.0, 5))


def likelihood_from_returns(not_met: int, assessed: int) -> int:
    """Likelihood measured from returns: the share of assessed services not meeting the standard.

    Args:
        not_met: Services whose status is Not met or Partially met.
        assessed: Services that gave a status other than Not applicable (at least 1).
    """
    if assessed < 1 or not 0 <= not_met <= assessed:
        raise ValueError(f"need 0 <= not_met <= assessed and assessed >= 1, not {not_met}/{assessed}")
    share = not_met / assessed
    return next(level for top, level in RETURNS_BANDS if share < top or top == 1.0)


def assess_risk(severity: int, likelihood: int, weight: float, rated: Rated | None = None) -> Risk:
    """Risk of one standard with its precomputed weight, and its bases when `rated` gives them."""
    score = severity * likelihood
    return Risk(
        severity=severity,
        likelihood=likelihood,
        score=score,
        rating=rating(score),  # type: ignore[arg-type]
        weight=weight,
        recurrence=rated.recurrence if rated else None,
        severity_basis=rated.severity_basis if rated else None,
        likelihood_basis=rated.likelihood_basis if rated else None,
        reason=rated.reason if rated else None,
    )


def normalise_weights(scores: list[int]) -> list[float]:
    """Score / sum of scores, rounded to 4 places (stable text in YAML)."""
    total = sum(scores)
    return [round(s / total, 4) if total else 0.0 for s in scores]
