"""The cues content.py drafts "what good looks like" from: a subject named in a member, and its lines.

A cue fires for a member whose title or text matches its pattern (case-insensitive); each line it adds names
those members as its sources. The lines are starting points in plain words for a quality team to agree or
rewrite (mappings/content.yaml), not quotations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Cue:
    """A subject, how to spot it in a requirement, and what meeting it looks like."""

    pattern: str
    outputs: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """`pattern`, compiled once, case-insensitive (20k requirements match it about a million times)."""
        return re.compile(self.pattern, re.I)


CUES: tuple[Cue, ...] = (
    Cue(
        r"\binfection",
        ("An infection prevention and control policy, annual programme and outbreak plan",),
        ("People are protected from infection: healthcare-associated infection rates are tracked",),
        ("Infection prevention and control audits (hand hygiene, cleaning, environment) with actions",),
    ),
    Cue(
        r"\bmedicine|\bmedication|\bprescrib",
        ("A medicines policy covering prescribing, storage, administration and review",),
        (
            "People get the right medicine at the right time and understand it: medication incidents and "
            "missed doses are measured",
        ),
        ("Medicines audits, controlled drugs checks and medication incident reviews",),
    ),
    Cue(
        r"\bsafeguard|\babuse\b|\bneglect\b",
        ("A safeguarding policy with named leads and a referral pathway",),
        ("People are safe from abuse and neglect: concerns are raised, referred and acted on in time",),
        ("Safeguarding training compliance, referral log and learning from safeguarding reviews",),
    ),
    Cue(
        r"\bconsent|\bcapacity\b",
        ("A consent policy that includes the Mental Capacity Act and best-interests decisions",),
        ("People agree to their care, or decisions are made lawfully in their best interests",),
        ("Consent and mental capacity audit of care records",),
    ),
    Cue(
        r"\bperson-centred|\bpeople-centred|\bpreferences\b|\bas individuals\b|\bassess(ing)? needs\b",
        ("Care plans that record each person's needs, preferences and what matters to them",),
        ("People say their care reflects what matters to them: care plan audits and experience surveys",),
        ("Care plan audit results",),
    ),
    Cue(
        r"\bdignity|\brespect|\bkindness|\bcompassion|\bprivacy",
        (),
        (
            "People say they were treated with kindness, dignity and respect: patient experience survey and "
            "Friends and Family Test results",
        ),
        ("Patient experience feedback and observations of care",),
    ),
    Cue(
        r"\bcomplain|\blisten",
        ("A complaints and feedback procedure that people can find and use",),
        ("People's concerns are heard and acted on: complaint response times and actions taken",),
        ("Complaints and feedback log with responses, themes and actions",),
    ),
    Cue(
        r"\bnutrition|\bhydration|\bfood\b|\bdrink\b",
        ("Nutrition and hydration screening and care plans",),
        ("People eat and drink enough to stay well: nutrition screening completion and weight monitoring",),
        ("Nutrition screening audit and food and fluid charts",),
    ),
    Cue(
        r"\bpremises|\bequipment|\bfacilit|\binfrastructure|\bcare environment",
        ("An equipment register and planned maintenance schedule for premises and equipment",),
        ("People are cared for in clean, safe and suitable surroundings with working equipment",),
        ("Environment and equipment audits, maintenance records and actions on faults",),
    ),
    Cue(
        r"\bfit and proper|\brecruit|\bpeople employed\b|\bemployment checks",
        (
            "Recruitment checks for each person employed: identity, references, DBS check, right to work and "
            "professional registration",
        ),
        ("People are cared for by staff checked as fit and able to do their job",),
        ("Personnel file audit showing each check was made before the person started, and rechecked",),
    ),
    Cue(
        r"\bstaffing|\bsufficient (numbers of )?staff|\benough (qualified )?(staff|people)\b|\bpeople needed",
        ("A staffing plan that sets the numbers and skills needed for each shift",),
        ("People are cared for by enough staff with the right skills: planned against actual staffing",),
        ("Rotas, planned against actual staffing and staff survey results",),
    ),
    Cue(
        r"\bcompeten|\btraining|\bsupervision|\bskills\b|\bcapabilit",
        ("A training needs analysis and records of training, supervision and appraisal",),
        (),
        ("Training compliance report, supervision and appraisal records",),
    ),
    Cue(
        r"\brisk",
        ("A risk register entry for each risk this standard covers, with owner, controls and review date",),
        ("Risks to people are found and reduced before they cause harm: overdue risk actions are tracked",),
        ("Risk register extract and minutes where risks were reviewed",),
    ),
    Cue(
        r"\bincident|\bnonconform|\bcorrective|\bsafety events?\b",
        ("Incident reports and investigations with actions and their follow-up",),
        ("The same harm does not happen twice: repeat incidents and actions closed on time",),
        ("Incident log, investigation reports and evidence that actions were completed",),
    ),
    Cue(
        r"\bpolicy\b|\bpolicies\b",
        ("A current, approved policy that covers this standard, with its owner and review date",),
        (),
        ("The policy, with its approval and review dates",),
    ),
    Cue(
        r"\bplan\b|\bplans\b|\bplanning|\bplanned",
        ("A written plan with owners, dates and resources",),
        (),
        ("The plan and a record of progress against it",),
    ),
    Cue(
        r"\brecord|\bdocument|\binformation\b",
        ("Records that show the standard is met in practice, kept accurate, secure and up to date",),
        ("People and staff can find accurate, up-to-date information when they need it",),
        ("Record-keeping audit results",),
    ),
    Cue(
        r"\bmonitor|\bmeasur|\bdata\b|\bperformance\b|\bevaluat|\banalys",
        ("A small set of measures, reported regularly to the people who act on them",),
        ("Results are known and used: the measures show whether care is getting better",),
        ("Performance reports or dashboards and the minutes where they were discussed",),
    ),
    Cue(
        r"\baudit",
        ("An audit programme with reports, findings and actions",),
        (),
        ("Audit reports and the action plans that followed them",),
    ),
    Cue(
        r"\breview\b|\breviews\b|\breviewing",
        (),
        (),
        ("Minutes of the meetings where this standard was reviewed, with decisions and actions",),
    ),
    Cue(
        r"\bimprov|\blearn|\binnovat|\bPDSA\b",
        ("A log of improvement work: what was tested, what changed and what was learned",),
        ("Care gets better over time: improvement projects completed and their measured results",),
        ("Improvement project summaries with before-and-after data",),
    ),
    Cue(
        r"\blead|\bgovernance|\baccountab|\bresponsibilit|\broles?\b|\bboard\b|\btop management",
        ("Terms of reference, and a chart of who is responsible and accountable for what",),
        (),
        ("Board or committee minutes and the assurance reports they received",),
    ),
    Cue(
        r"\bvision|\bstrategy|\bshared purpose|\bvalues\b|\bobjectives\b",
        ("A written vision, strategy or objectives, shared with staff",),
        ("Staff can say what the service is trying to achieve and how their work contributes",),
        ("The strategy or objectives and staff survey results on shared purpose",),
    ),
    Cue(
        r"\bequit|\bequality|\binequalit|\bdivers|\binclusi|\baccess\b",
        ("An analysis of access, experience and outcomes by group, with actions on gaps",),
        ("Everyone gets the care they need, whatever their background: results broken down by group",),
        ("Equality data and the actions taken on it",),
    ),
    Cue(
        r"\bcommunication with|\binvolv|\bengag|\bco-produc|\blived experience|\bcommunit",
        ("A record of how people who use services, families and staff were involved, and what changed",),
        ("People who use the service say they were listened to and involved in decisions",),
        ("Engagement records, meeting notes and 'you said, we did' reports",),
    ),
    Cue(
        r"\bsupplier|\bexternal(ly)? provid|\boutsourc|\bpartnership",
        ("A list of external providers and partners, with what each supplies and how it is checked",),
        ("Services bought in or shared with partners meet the same standard",),
        ("Contracts, supplier reviews and partnership agreements",),
    ),
    Cue(
        r"\bspeak up|\bcandour|\bopen(ness)?\b|\btransparen",
        ("A procedure for raising concerns and for being open with people when things go wrong",),
        ("Staff feel safe to speak up and people are told honestly when things go wrong",),
        ("Speaking-up log, duty of candour records and staff survey results",),
    ),
    Cue(
        r"\bstaff wellbeing|\bwellbeing of (our )?staff|\bworkforce wellbeing",
        ("A staff wellbeing offer and how staff can use it",),
        ("Staff are well and supported: sickness absence and staff survey wellbeing scores",),
        ("Staff survey results and sickness absence data",),
    ),
    Cue(
        r"\bchange\b|\bchanges\b",
        ("A record of changes to services, each with its assessment, approval and follow-up",),
        (),
        ("Change assessments and approvals",),
    ),
    Cue(
        r"\bsustainab|\bclimate|\bcarbon",
        ("A sustainability plan with targets",),
        ("The service's harm to the environment goes down: carbon and waste figures",),
        ("Sustainability report against the plan's targets",),
    ),
)
