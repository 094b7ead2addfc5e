"""Synthetic healthcare-quality standard sets with planted overlaps, for benchmarks and tests.

`generate(n, seed=..., overlap=...)` builds `n` requirements spread over several standard sets, written in
the vocabulary of healthcare quality standards (topics such as medicines reconciliation or duty of
candour, activities such as monitoring or audit, care settings and purposes). A declared share of the
requirements overlaps across sets, in three ways a real crosswalk shows:

- reworded: the same requirement in other words (synonyms, another actor and modal verb);
- reordered: the same clauses in another order (purpose first, title turned round);
- merged: one requirement that combines two others' clauses (as ISO/IEC 27001:2022 merged 2013 controls).

The result carries the ground truth: the overlap groups and the labelled pairs. Everything is drawn from
one `random.Random(seed)`, so a seed always gives the same corpus, byte for byte.

Run as a script to write a corpus: `python bench/synthetic.py -n 1000 --seed 1 -o /tmp/corpus`.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# --- Vocabulary ------------------------------------------------------------------------------------
# Topics grouped by the section (theme) a standard would file them under; a few carry synonyms that
# rewordings use.

THEMES: dict[str, tuple[str, ...]] = {
    "Safe care and treatment": (
        "medicines management",
        "medicines reconciliation",
        "controlled drugs",
        "antimicrobial stewardship",
        "hand hygiene",
        "infection prevention and control",
        "sepsis recognition",
        "deteriorating patients",
        "early warning scores",
        "falls prevention",
        "pressure ulcer prevention",
        "patient identification",
        "allergy recording",
        "venous thromboembolism assessment",
        "blood transfusion",
        "surgical safety checklists",
        "medication errors",
        "restrictive practice",
        "chaperoning",
        "diagnostic test results",
    ),
    "Safeguarding and rights": (
        "safeguarding adults",
        "safeguarding children",
        "mental capacity assessments",
        "consent to treatment",
        "deprivation of liberty safeguards",
        "equality and diversity",
        "accessible information",
        "translation and interpreting",
        "health inequalities",
        "privacy and dignity",
    ),
    "Effective care": (
        "care planning",
        "discharge planning",
        "clinical handover",
        "end of life care",
        "pain management",
        "nutrition and hydration",
        "referral pathways",
        "waiting list management",
        "outpatient follow-up",
        "telephone triage",
        "remote consultations",
        "dementia care",
        "maternity care",
        "mental health crisis care",
        "transition to adult services",
        "clinical guidelines",
    ),
    "Learning and improvement": (
        "incident reporting",
        "serious incident investigation",
        "duty of candour",
        "clinical audit",
        "complaints handling",
        "patient feedback",
        "quality improvement projects",
        "benchmarking",
        "performance indicators",
        "mortality reviews",
    ),
    "Workforce": (
        "staff training",
        "mandatory training",
        "staff appraisal",
        "clinical supervision",
        "recruitment checks",
        "safe staffing levels",
        "workforce wellbeing",
        "freedom to speak up",
        "volunteer management",
        "professional registration",
    ),
    "Governance and leadership": (
        "risk registers",
        "risk assessment",
        "board assurance",
        "governance committees",
        "policy control",
        "document control",
        "supplier management",
        "business continuity",
        "emergency preparedness",
        "quality objectives",
    ),
    "Information and environment": (
        "information governance",
        "records management",
        "data protection",
        "cyber security",
        "medical device maintenance",
        "equipment decontamination",
        "waste management",
        "fire safety",
        "environmental sustainability",
        "estates maintenance",
    ),
}
TOPIC_SYNONYMS: dict[str, str] = {
    "hand hygiene": "hand washing",
    "medicines management": "management of medicines",
    "incident reporting": "reporting of incidents",
    "complaints handling": "handling of complaints",
    "staff training": "training of staff",
    "records management": "management of records",
    "risk assessment": "assessment of risk",
    "care planning": "planning of care",
    "patient feedback": "feedback from patients",
    "clinical audit": "audit of clinical practice",
    "safe staffing levels": "safe levels of staffing",
    "discharge planning": "planning for discharge",
    "data protection": "protection of personal data",
    "fire safety": "safety from fire",
}

# (verb phrase, title noun, reworded verb phrase, QMS component)
ACTIVITIES: tuple[tuple[str, str, str, str], ...] = (
    ("monitor", "Monitoring", "keep track of", "assurance"),
    ("review", "Review", "regularly check", "assurance"),
    ("audit", "Audit", "carry out audits of", "assurance"),
    ("plan", "Planning", "make plans for", "planning"),
    ("document", "Documentation", "keep written records of", "control"),
    ("assess", "Assessment", "carry out assessments of", "planning"),
    ("report on", "Reporting", "produce reports on", "assurance"),
    ("improve", "Improvement", "make improvements to", "improvement"),
    ("train staff in", "Training", "provide staff with training in", "control"),
    ("assign responsibility for", "Accountability", "make named people accountable for", "planning"),
    ("evaluate", "Evaluation", "judge the effectiveness of", "assurance"),
    ("communicate clearly about", "Communication", "share clear information about", "control"),
    ("resource", "Resourcing", "provide enough resources for", "planning"),
    ("escalate concerns about", "Escalation", "raise concerns promptly about", "control"),
    ("set objectives for", "Objectives", "agree measurable goals for", "planning"),
    ("control", "Control", "manage and control", "control"),
    ("standardise", "Standardisation", "use standard procedures for", "control"),
    ("measure", "Measurement", "collect measures of", "assurance"),
    ("oversee", "Oversight", "provide oversight of", "assurance"),
    ("investigate failures in", "Investigation", "look into failures in", "improvement"),
)
# (setting phrase, reworded setting phrase)
SETTINGS: tuple[tuple[str, str], ...] = (
    ("for people using the service", "for the people who use the service"),
    ("across inpatient wards", "on every inpatient ward"),
    ("in community settings", "in the community"),
    ("in primary care", "in general practice"),
    ("for children and young people", "for children and adolescents"),
    ("for older people", "for older adults"),
    ("in emergency departments", "in accident and emergency"),
    ("for people with a learning disability", "for people who have a learning disability"),
    ("in care homes", "in residential care homes"),
    ("in day surgery units", "in day case surgery"),
    ("across all sites", "at every site"),
    ("in mental health services", "in mental health care"),
    ("for people receiving care at home", "for people cared for in their own homes"),
    ("in outpatient clinics", "in outpatient services"),
    ("in maternity units", "in maternity services"),
    ("during transfers between services", "when people move between services"),
    ("out of hours", "outside normal working hours"),
    ("in critical care", "in intensive care units"),
    ("for people in vulnerable circumstances", "for people who are vulnerable"),
    ("in diagnostic services", "in diagnostic departments"),
    ("in hospices", "in hospice care"),
    ("in independent clinics", "in private clinics"),
    ("in ambulance services", "in pre-hospital care"),
    ("in dental practices", "in dental care"),
    ("in pharmacy services", "in pharmacies"),
)
# (purpose, reworded purpose)
PURPOSES: tuple[tuple[str, str], ...] = (
    (
        "so that risks to patient safety are identified and reduced",
        "to find and lower risks to patient safety",
    ),
    ("so that care meets agreed standards", "to make sure care meets the agreed standards"),
    ("so that lessons are shared across teams", "so that teams learn from each other"),
    ("to make sure people receive timely care", "so that people are cared for without delay"),
    ("so that staff know what is expected of them", "so that staff understand their responsibilities"),
    ("so that the board receives assurance", "to give the board assurance"),
    ("so that concerns are acted on promptly", "so that concerns are dealt with quickly"),
    ("so that people's rights are protected", "to protect people's rights"),
    ("so that outcomes improve over time", "to improve outcomes over time"),
    ("so that records are accurate and complete", "to keep records accurate and complete"),
    ("so that legal and regulatory requirements are met", "to comply with the law and regulations"),
    ("so that people are treated with dignity and respect", "to treat people with dignity and respect"),
    ("so that resources are used efficiently", "to use resources efficiently"),
    ("so that inequalities in access are reduced", "to reduce unequal access to care"),
    ("so that avoidable harm is prevented", "to prevent harm that could be avoided"),
    ("so that people and families are involved in decisions", "to involve people and families in decisions"),
)
# (qualifier, reworded qualifier)
QUALIFIERS: tuple[tuple[str, str], ...] = (
    ("at planned intervals", "at set times"),
    ("at least once a year", "every year as a minimum"),
    ("whenever services change", "when the service changes"),
    ("after any incident", "following an incident"),
    ("using agreed criteria", "against criteria agreed in advance"),
    ("with documented evidence", "keeping evidence in writing"),
    ("in line with national guidance", "following national guidance"),
    ("with clear lines of accountability", "with clear accountability"),
    ("using up-to-date information", "using current information"),
    ("in partnership with people and their families", "working together with people and families"),
)
REVIEWERS = (
    "the quality committee",
    "senior leaders",
    "the board",
    "the clinical governance group",
    "the registered manager",
    "the patient safety team",
)
# Each set writes its requirements in one voice: (actor + modal, reworded actor + modal).
VOICES: tuple[tuple[str, str], ...] = (
    ("The provider must", "Providers are required to"),
    ("The organisation shall", "The organization is to"),
    ("We", "Our teams"),
    ("Services should", "Each service should"),
    ("The registered manager must", "Managers must"),
    ("Leaders ensure that staff", "Leaders make sure that staff"),
)
PUBLISHERS = (
    "Synthetic Standards Board",
    "Example Care Regulator",
    "Imaginary Quality Institute",
    "Fictional Health Agency",
    "Demo Accreditation Council",
)

DOMAINS_YAML = {
    "domains": [
        {"id": f"D{k + 1}", "name": theme, "description": f"{theme}: " + "; ".join(topics) + "."}
        for k, (theme, topics) in enumerate(THEMES.items())
    ]
}

TOPICS: tuple[tuple[str, str], ...] = tuple(
    (topic, theme) for theme, topics in THEMES.items() for topic in topics
)
_THEME_RANK = {theme: k for k, theme in enumerate(THEMES)}


# --- The corpus -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """One thing a requirement can ask for: a topic, an activity, a setting, a purpose and a qualifier."""

    topic: int
    activity: int
    setting: int
    purpose: int
    qualifier: int
    reviewer: int | None


@dataclass
class Corpus:
    """Generated standard sets and the ground truth of their overlaps.

    `groups` are the planted overlap groups (refs, each group spanning several sets); `pairs` maps every
    planted overlapping pair (lower ref first) to its kind: reworded, reordered or merged. A merged
    requirement overlaps both of the requirements it combines, which need not overlap each other.
    """

    seed: int
    overlap: float
    sets: list[dict] = field(default_factory=list)
    groups: list[tuple[str, ...]] = field(default_factory=list)
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)
    merged: set[str] = field(default_factory=set)  # refs of the requirements that merge two others

    @property
    def refs(self) -> list[str]:
        """Every requirement's global ref, in set then file order."""
        return [f"{s['id']}:{r['id']}" for s in self.sets for r in s["requirements"]]

    @property
    def overlapping(self) -> set[str]:
        """Refs that overlap at least one requirement of another set."""
        return {ref for group in self.groups for ref in group}

    def share(self) -> float:
        """The share of requirements that overlap another set's (the declared `overlap`, up to rounding)."""
        return len(self.overlapping) / len(self.refs)

    def truth(self) -> dict:
        """The ground truth as JSON-ready data."""
        return {
            "seed": self.seed,
            "overlap": self.overlap,
            "requirements": len(self.refs),
            "groups": [list(g) for g in self.groups],
            "pairs": [[a, b, kind] for (a, b), kind in sorted(self.pairs.items())],
        }

    def gold(self) -> dict:
        """The ground truth as a gold crosswalk (the format of `qms evaluate`, shared/eval/README.md).

        Reworded and reordered pairs are `equal`; a merged requirement is a `superset` of each requirement
        it merges, so the strict level scores the rewordings and the lenient level every planted overlap.
        """
        requirements = [
            {
                "id": f"{s['id']}:{r['id']}",
                "set": s["id"],
                "ref_id": r["id"],
                "title": r["title"],
                "text": r["text"],
                "section": r["section"],
            }
            for s in self.sets
            for r in s["requirements"]
        ]
        pairs = []
        for (a, b), kind in sorted(self.pairs.items()):
            if kind != "merged":
                pairs.append([a, b, "equal"])
            else:
                merged = a if a in self.merged else b
                pairs.append([merged, b if merged == a else a, "superset"])
        return {
            "name": f"synthetic-{len(requirements)}-seed-{self.seed}",
            "requirements": requirements,
            "gold_pairs": pairs,
        }

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write `standards/*.yaml`, `mappings/domains.yaml`, `truth.json` and `gold.yaml` under folder.

        Returns:
            The standards and mappings folders.
        """
        standards, mappings = folder / "standards", folder / "mappings"
        standards.mkdir(parents=True, exist_ok=True)
        mappings.mkdir(parents=True, exist_ok=True)
        for s in self.sets:
            (standards / f"{s['id']}.yaml").write_text(_dump(s), encoding="utf-8")
        (mappings / "domains.yaml").write_text(_dump(DOMAINS_YAML), encoding="utf-8")
        (folder / "truth.json").write_text(json.dumps(self.truth(), indent=1) + "\n", encoding="utf-8")
        (folder / "gold.yaml").write_text(_dump(self.gold()), encoding="utf-8")
        return standards, mappings


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def generate(n: int, *, seed: int = 0, overlap: float = 0.3, sets: int | None = None) -> Corpus:
    """Generate `n` requirements over several sets, `overlap` of them in planted overlap groups.

    Args:
        n: Number of requirements (at least 6).
        seed: Seed of the only random source; the same seed gives the same corpus.
        overlap: Share of requirements that overlap another set's requirement (0 to 0.9).
        sets: Number of standard sets; default about one per 200 requirements, between 4 and 100.

    Returns:
        The corpus with its ground truth.
    """
    if n < 6:
        raise ValueError("n must be at least 6")
    if not 0.0 <= overlap <= 0.9:
        raise ValueError("overlap must be between 0 and 0.9")
    rng = random.Random(seed)
    n_sets = sets or max(4, min(100, n // 200))
    concepts = _concepts(rng, n)
    plan = _plan_groups(rng, round(overlap * n), n_sets)
    # members: (set number, text kind, concept numbers); the concept number c of a group is its position.
    rows: list[tuple[int, str, tuple[int, ...]]] = []
    group_rows: list[list[int]] = []
    links: list[tuple[int, int, str]] = []
    next_concept = 0
    for kind, members in plan:
        rows_here = []
        if kind == "merged":
            first, second = next_concept, next_concept + 1
            next_concept += 2
            for set_no, concept_ids, how in (
                (members[0], (first,), "base"),
                (members[1], (second,), "base"),
                (members[2], (first, second), "merged"),
            ):
                rows_here.append(len(rows))
                rows.append((set_no, how, concept_ids))
            links += [(rows_here[0], rows_here[2], "merged"), (rows_here[1], rows_here[2], "merged")]
        else:
            concept = next_concept
            next_concept += 1
            for position, set_no in enumerate(members):
                how = "base" if position == 0 else rng.choice(("reworded", "reordered"))
                rows_here.append(len(rows))
                rows.append((set_no, how, (concept,)))
            links += [(rows_here[0], other, rows[other][1]) for other in rows_here[1:]]
            links += [(a, b, "reworded") for x, a in enumerate(rows_here[1:], 1) for b in rows_here[x + 1 :]]
        group_rows.append(rows_here)
    while len(rows) < n:  # the rest: one requirement per concept, spread evenly over the sets
        rows.append((len(rows) % n_sets, "base", (next_concept,)))
        next_concept += 1
    return _assemble(rng, seed, overlap, n_sets, concepts, rows, group_rows, links)


def _concepts(rng: random.Random, n: int) -> list[Concept]:
    """n distinct concepts: no two share topic, activity and setting."""
    space = len(TOPICS) * len(ACTIVITIES) * len(SETTINGS)
    if n > space:
        raise ValueError(f"at most {space} requirements")
    out = []
    for code in rng.sample(range(space), n):
        topic, rest = divmod(code, len(ACTIVITIES) * len(SETTINGS))
        activity, setting = divmod(rest, len(SETTINGS))
        reviewer = rng.randrange(len(REVIEWERS)) if rng.random() < 0.4 else None
        out.append(
            Concept(
                topic,
                activity,
                setting,
                rng.randrange(len(PURPOSES)),
                rng.randrange(len(QUALIFIERS)),
                reviewer,
            )
        )
    return out


def _plan_groups(rng: random.Random, overlapping: int, n_sets: int) -> list[tuple[str, list[int]]]:
    """Overlap groups whose sizes add up to exactly `overlapping`, each member in a different set."""
    plan: list[tuple[str, list[int]]] = []
    left = overlapping
    while left >= 2:
        kind = rng.choices(("same", "merged"), weights=(0.8, 0.2))[0]
        size = 3 if kind == "merged" else rng.choices((2, 3, 4), weights=(0.6, 0.3, 0.1))[0]
        size = min(size, n_sets, left)
        if left - size == 1:  # never leave one requirement that would have nothing to overlap
            size = size + 1 if size < min(4, n_sets) else size - 1
        if size != 3:  # a merged group is exactly two requirements and the one that merges them
            kind = "same"
        plan.append((kind, rng.sample(range(n_sets), size)))
        left -= size
    return plan


def _assemble(
    rng: random.Random,
    seed: int,
    overlap: float,
    n_sets: int,
    concepts: list[Concept],
    rows: list[tuple[int, str, tuple[int, ...]]],
    group_rows: list[list[int]],
    links: list[tuple[int, int, str]],
) -> Corpus:
    order = list(range(len(rows)))
    rng.shuffle(order)  # planted overlaps must not sit next to each other in the files
    voices = [rng.randrange(len(VOICES)) for _ in range(n_sets)]
    clause_style = [k % 2 == 0 for k in range(n_sets)]  # half the sets number clauses like ISO
    by_set: dict[int, list[int]] = {k: [] for k in range(n_sets)}
    for row in order:
        by_set[rows[row][0]].append(row)
    ref_of: dict[int, str] = {}
    corpus = Corpus(seed=seed, overlap=overlap)
    for set_no in range(n_sets):
        set_id = f"synth-{set_no + 1:03d}"
        requirements = []
        counters: dict[str, int] = {}
        # Group each set's requirements by section (stable sort: shuffled order within a section).
        for row in sorted(by_set[set_no], key=lambda r: _theme_rank(concepts[rows[r][2][0]])):
            _, how, concept_ids = rows[row]
            title, text = _render(rng, [concepts[c] for c in concept_ids], how, voices[set_no])
            theme = _theme_of(concepts[concept_ids[0]])
            counters[theme] = counters.get(theme, 0) + 1
            section_no = _THEME_RANK[theme] + 4
            req_id = (
                f"{section_no}.{counters[theme]}"
                if clause_style[set_no]
                else f"{_slug(theme)}/{counters[theme]}"
            )
            ref_of[row] = f"{set_id}:{req_id}"
            activity = ACTIVITIES[concepts[concept_ids[0]].activity]
            requirements.append(
                {
                    "id": req_id,
                    "title": title,
                    "text": text,
                    "section": theme,
                    "tags": [activity[3]],
                    "severity": 1 + (concept_ids[0] * 7 + set_no) % 5,
                }
            )
        publisher = PUBLISHERS[set_no % len(PUBLISHERS)]
        corpus.sets.append(
            {
                "id": set_id,
                "name": f"{publisher} standard {set_no + 1}",
                "publisher": publisher,
                "version": "2025",
                "licence": "Synthetic text generated by bench/synthetic.py; no copyright source",
                "text_is": "paraphrase",
                "requirements": requirements,
            }
        )
    corpus.groups = sorted(tuple(sorted(ref_of[r] for r in g)) for g in group_rows)
    for a, b, kind in links:
        x, y = sorted((ref_of[a], ref_of[b]))
        corpus.pairs[(x, y)] = kind
    corpus.merged = {ref_of[row] for row, (_, how, _) in enumerate(rows) if how == "merged"}
    return corpus


def _theme_of(concept: Concept) -> str:
    return TOPICS[concept.topic][1]


def _theme_rank(concept: Concept) -> int:
    return _THEME_RANK[_theme_of(concept)]


def _slug(text: str) -> str:
    return "-".join(text.lower().replace(",", "").split())


def _render(rng: random.Random, concepts: list[Concept], how: str, voice: int) -> tuple[str, str]:
    """Title and text of a requirement in one of the ways a standard words it."""
    c = concepts[0]
    topic = TOPICS[c.topic][0]
    verb, noun, verb2, _ = ACTIVITIES[c.activity]
    setting, setting2 = SETTINGS[c.setting]
    purpose, purpose2 = PURPOSES[c.purpose]
    qualifier, qualifier2 = QUALIFIERS[c.qualifier]
    actor = VOICES[voice][0]
    follow = f" Records of this are reviewed by {REVIEWERS[c.reviewer]}." if c.reviewer is not None else ""
    if how == "merged":
        other = concepts[1]
        topic_b = TOPICS[other.topic][0]
        verb_b = ACTIVITIES[other.activity][0]
        title = f"{topic.capitalize()} and {topic_b}"
        text = (
            f"{actor} {verb} {topic} and {verb_b} {topic_b} {setting} {qualifier}, {purpose}; "
            f"this also applies {SETTINGS[other.setting][0]}."
        )
        return title, text + follow
    if how == "reworded":
        actor = VOICES[voice][1] if rng.random() < 0.5 else VOICES[(voice + 1) % len(VOICES)][0]
        topic = TOPIC_SYNONYMS.get(topic, topic)
        title = f"{noun} of {topic}" if rng.random() < 0.5 else f"{topic.capitalize()}: {noun.lower()}"
        text = f"{actor} {verb2} {topic} {setting2} {qualifier2}, {purpose2}."
        follow = (
            f" {REVIEWERS[c.reviewer].capitalize()} review the records." if c.reviewer is not None else ""
        )
        return title, text + follow
    if how == "reordered":
        title = f"{topic.capitalize()}: {noun.lower()}"
        opening = f"{purpose[0].upper()}{purpose[1:]}, {actor[0].lower()}{actor[1:]}"
        text = f"{opening} {verb} {topic} {setting} {qualifier}."
        return title, text + follow
    return f"{noun} of {topic}", f"{actor} {verb} {topic} {setting} {qualifier}, {purpose}.{follow}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="Number of requirements.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overlap", type=float, default=0.3, help="Share of overlapping requirements.")
    parser.add_argument("-o", "--out", type=Path, required=True, help="Folder to write the corpus to.")
    args = parser.parse_args()
    corpus = generate(args.n, seed=args.seed, overlap=args.overlap)
    standards, _ = corpus.write(args.out)
    print(
        f"{len(corpus.refs)} requirements in {len(corpus.sets)} sets under {standards}; "
        f"{corpus.share():.1%} overlapping in {len(corpus.groups)} groups, {len(corpus.pairs)} pairs"
    )


if __name__ == "__main__":
    main()
