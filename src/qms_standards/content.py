"""A standard's words: title, consolidated statement, what good looks like and evidence, from its members.

Everything here is deterministic and drafted from the source requirements, with no text generation service
and no network: the same members give the same words. Every drafted line names the refs it came from, and
people's edits (mappings/content.yaml, see `apply_content`) replace drafts field by field.

- Title: the member title a ward manager understands best. Each candidate scores its centrality, plus a
  bonus for a health and care source (a regulator's or the NHS's wording rather than an ISO management-
  system clause), plus a little for being descriptive, minus a penalty for a bare clause or principle name
  (one word, or only words that say how: "Integrated", "Structured and comprehensive"). ISO product wording
  is put in service terms; a bare name that still wins is qualified with its set's subject ("Integrated
  risk management", "Recording and reporting risk"). A regulation or CQC statement on another subject
  is named beside the title, so the title never hides it.
- Statement: the distinct asks of the members, most central first; asks that say the same thing (ISO 9001
  and ISO 7101 share clauses) merge and keep every ref.
- What good looks like: behaviours from the asks; outputs, outcomes and evidence from `content_lexicon`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from .content_lexicon import CUES
from .domains import content_words
from .models import (
    CONTENT_FIELDS,
    ContentLine,
    GoodLooksLike,
    Requirement,
    SourceLink,
    StandardSet,
    split_ref,
)

MAX_ASKS_PER_MEMBER = 2  # beyond its most central member, a member contributes its first asks
SAME_ASK = 80  # token-set ratio at which two asks say the same thing
SAME_CLAUSE_ASK = (
    55  # the same, for one clause (same number or title) of two sets on one subject (ISO 9001, 7101)
)
SAME_TITLE = 90  # token-set ratio at which two members' titles name one clause
CUE_SHARE = 0.45  # a cue counts when members naming it make up this share (a title counts full, a text half)
LIMITS = {"outputs": 4, "behaviours": 4, "outcomes": 3, "evidence": 5}

# ISO's product and manufacturing wording, put in terms of a health and care service. The whole-title
# entries come first; the word entries also apply to the asks.
_TITLES: tuple[tuple[str, str], ...] = (
    (r"\s+[—-]\s+General$", ""),
    (r"^Post-delivery activities$", "Follow-up after care is delivered"),
    (r"^Design and development of products and services$", "Designing services"),
    (r"^Design and development outputs$", "What service design must produce"),
    (r"^Design and development\b", "Service design"),
    (r"^Customer focus$", "Focus on service users"),
    (r"^Control of production and service provision$", "Delivering care under controlled conditions"),
    (r"^Control of nonconforming outputs$", "Managing care that falls short of requirements"),
    (r"^Release of products and services$", "Checking care meets requirements before it is given"),
    (r"^Measurement traceability$", "Calibrated and traceable measuring equipment"),
    (r"^Identification and traceability$", "Identifying people, samples and equipment through care"),
    (r"^Documented information$", "Documents and records"),
    (r"^Requirement as to display of performance assessments$", "Displaying CQC ratings"),
)
_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bprocesses, products and services\b", "processes and services"),
    (r"\bproducts or services\b", "services"),
    (r"\bproducts and services\b", "services"),
    (r"\bproduction and service provision\b", "delivery of care"),
    (r"\bnonconforming outputs?\b", "care that falls short of requirements"),
    (r"\bconforming outputs?\b", "care that meets requirements"),
    (r"\bproducts\b", "services"),
    (r"\bproduct\b", "service"),
    (r"\bdocumented information\b", "documents and records"),
    (r"\bcustomers\b", "service users"),
    (r"\bcustomer\b", "service user"),
    (r"\bCustomers\b", "Service users"),
    (r"\bCustomer\b", "Service user"),
    (r"\b(\w{3,})iz(e|ed|es|ing|ation|ations|ational)\b", r"\1is\2"),
)
# Compiled once: a 20k-requirement run puts about a million titles and asks through them.
_TITLES_RE = tuple((re.compile(pattern), replacement) for pattern, replacement in _TITLES)
_WORDS_RE = tuple((re.compile(pattern), replacement) for pattern, replacement in _WORDS)
# Words that say how or in what form, not about what: a title made only of these names no subject a ward
# manager would recognise ("Structured and comprehensive", "Analysis and evaluation", "Recording and
# reporting"), so it is qualified with its set's subject.
_GENERIC = frozenset(
    re.findall(
        r"\w+",
        """structured comprehensive integrated customised customized dynamic inclusive best available human
        cultural factors analysis analysing evaluation evaluating monitoring measurement measuring scope
        context criteria recording reporting documented information documents records awareness
        communication consultation implementation implementing establishing general external internal
        process processes framework principles purpose design development review control changes change
        planning actions action people resources support operation operational outputs inputs""",
    )
)
# The rest of a 'We ...' statement, in the same voice as the instruction it becomes.
_WE = (
    (r" and we ", " and "),
    (r"\bwe\b", "staff"),
    (r"\bWe\b", "Staff"),
    (r"\bour services\b", "its services"),
    (r"\bour\b", "the service's"),
    (r"\bus\b", "the service"),
)
_ADJECTIVE = re.compile(r"(ed|ive|ic|al|ous|ful)$")
_PROCESS = re.compile(r"(tion|ment|ness|sis)$")  # "Implementation of risk management"
# Words that start a sentence which is not an instruction (so it cannot become "Staff and leaders ...").
_NOT_A_VERB = frozenset(
    re.findall(
        r"\w+",
        """the a an this these that they it its their our people care providers provider where when before
        senior top systems premises every enough recruitment staff everyone methods cultural leaders persons
        if all each any""",
    )
)


@dataclass(frozen=True)
class Source:
    """What content drafting reads of one member requirement."""

    ref: str
    title: str
    text: str
    set_name: str
    health: bool  # a health and care source (regulator, NHS), not an ISO management-system standard
    weight: float  # centrality: similarity to the standard's centre, 0-1
    key: bool = False  # a regulation or a regulator's statement: a title must not hide it
    legal: bool = False  # a legal duty (a CQC fundamental standard)


@dataclass(frozen=True)
class Drafted:
    """A standard's drafted words."""

    title: str
    statement: str
    asks: tuple[ContentLine, ...]
    good_looks_like: GoodLooksLike
    evidence: tuple[ContentLine, ...]


def sources_of(
    links: Sequence[SourceLink], requirements: dict[str, Requirement], sets: dict[str, StandardSet]
) -> list[Source]:
    """The members of a standard as content drafting reads them."""
    out = []
    for link in links:
        standard_set = sets[split_ref(link.ref)[0]]
        requirement = requirements[link.ref]
        legal = "legal-duty" in requirement.tags
        out.append(
            Source(
                ref=link.ref,
                title=requirement.title,
                text=requirement.text,
                set_name=standard_set.name,
                health=not standard_set.publisher.upper().startswith("ISO"),
                weight=link.similarity,
                key=legal or "care quality commission" in standard_set.publisher.lower(),
                legal=legal,
            )
        )
    return out


def _order(sources: Sequence[Source]) -> list[Source]:
    return sorted(sources, key=lambda s: (-round(s.weight, 6), s.ref))


def plain_words(text: str) -> str:
    """ISO product and manufacturing words put in service terms, with UK spelling."""
    for pattern, replacement in _WORDS_RE:
        text = pattern.sub(replacement, text)
    return text


def plain_title(title: str) -> str:
    """A source title in service terms: ISO product wording replaced, UK spelling, no ' — General'."""
    out = title.strip()
    for pattern, replacement in _TITLES_RE:
        out = pattern.sub(replacement, out)
    out = plain_words(out)
    return out[:1].upper() + out[1:]


def is_bare(title: str, health: bool = False) -> bool:
    """A management-system clause or principle name that names no subject: one word, or words that say how.

    "Integrated", "Awareness", "Structured and comprehensive", "Recording and reporting" are bare. A title
    from a health and care source ("Staffing", "Providing information") is a subject a ward manager knows.
    """
    words = re.findall(r"[A-Za-z]{2,}", title)
    lowered = {w.lower() for w in words} - {"and", "of", "the", "for", "to", "in", "its", "or"}
    return not health and (len(words) <= 1 or lowered <= _GENERIC)


def _set_subject(set_name: str) -> str:
    """'ISO 31000:2018 Risk management — Guidelines' -> 'risk management'; any quality standard: quality."""
    if "quality" in set_name.lower():
        return "quality management"
    name = re.sub(r"^ISO(/IEC)?\s+[\d-]+(:\d{4})?\s*", "", set_name)
    name = re.split(r"\s+[—–-]\s+|:", name)[0].strip()
    name = re.sub(r"\s+systems?$", "", name, flags=re.I)
    return plain_title(name).lower()


def _qualified(title: str, subject: str) -> str:
    """A bare title with its set's subject, in a form that reads as English.

    "Integrated risk management", "Risk management that is structured and comprehensive", "Recording and
    reporting risk", "Analysis and evaluation of quality data", "Awareness of quality management".
    """
    words = re.findall(r"[a-z]+", title.lower())
    first, last = words[0], words[-1]
    several = " and " in title or "," in title
    thing = subject.removesuffix(" management")  # "risk", "quality"
    if _ADJECTIVE.search(last) and not last.endswith("tion"):
        if several:
            return f"{subject[:1].upper()}{subject[1:]} that is {title.lower()}"
        return f"{title} {subject}"
    if {"analysis", "evaluation", "monitoring", "measurement"} & set(words):
        return f"{title} of {thing} data"
    if last.endswith("ing"):
        return f"{title} {thing if thing == 'risk' else thing + ' information'}"
    if several and first.endswith("ing"):
        return f"{title} about {thing}"
    return f"{title} {'of' if _PROCESS.search(last) else 'for'} {subject}"


_SAME_SUBJECT_STOP = frozenset(
    {
        "care",
        "people",
        "safe",
        "service",
        "services",
        "effect",
        "effective",
        "need",
        "support",
        "treatment",
        "provid",
    }
)


def _another_subject(title: str, source: Source) -> bool:
    """Whether a member's title is about something the standard's title does not name."""
    own = content_words(title) - _SAME_SUBJECT_STOP
    theirs = content_words(plain_title(source.title)) - _SAME_SUBJECT_STOP
    return bool(theirs) and not own & theirs


def draft_title(sources: Sequence[Source]) -> str:
    """The best member title, in service terms, never bare, and naming any key member it would hide.

    A key member (a regulation or a regulator's statement) on another subject than the title's is named
    beside it ("Infection prevention and control, and medicines optimisation"), legal duties first.
    """

    def score(source: Source) -> tuple[float, str]:
        title = plain_title(source.title)
        descriptive = min(len(content_words(title)), 6) / 6
        value = source.weight + 0.15 * source.health + 0.1 * descriptive - 0.3 * is_bare(title, source.health)
        return (-round(value, 6), source.ref)

    best = min(sources, key=score)
    title = plain_title(best.title)
    if is_bare(title, best.health):
        subject = _set_subject(best.set_name)
        if subject and subject not in title.lower():
            title = _qualified(title, subject)
    hidden = [s for s in _order(sources) if s.key and s is not best and _another_subject(title, s)]
    if hidden:
        other = plain_title(min(hidden, key=lambda s: not s.legal).title)
        title = f"{title}, and {other[:1].lower()}{other[1:]}"
    return title


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z“\"'(])", " ".join(text.split()))
    return [p.strip() for p in parts if p.strip()]


def _as_ask(sentence: str) -> str:
    """A CQC 'We ...' statement as an instruction, like the ISO summaries: 'We assess' -> 'Assess'."""
    match = re.match(r"^We\s+(\w)", sentence)
    if not match or sentence.split()[1].lower() in ("are", "were", "will"):
        return sentence
    rest = sentence[match.start(1) :]
    for pattern, replacement in _WE:
        rest = re.sub(pattern, replacement, rest)
    return rest[:1].upper() + rest[1:]


def _clause(ref: str) -> tuple[str, str | None]:
    set_id, item = split_ref(ref)
    match = re.match(r"(\d+\.\d+)", item)
    return set_id, match.group(1) if match else None


def _same_clause(a: str, b: str) -> bool:
    """Two refs of one clause number (to two levels: 7.2, 5.2.1 ~ 5.2) in two different sets."""
    (set_a, clause_a), (set_b, clause_b) = _clause(a), _clause(b)
    return set_a != set_b and clause_a is not None and clause_a == clause_b


def consolidate_asks(sources: Sequence[Source]) -> list[ContentLine]:
    """The distinct asks of the members, most central member first, each with every ref that asks it."""
    asks: list[tuple[str, list[str]]] = []
    titles = {s.ref: plain_title(s.title).lower() for s in sources}
    subjects = {s.ref: _set_subject(s.set_name) for s in sources}

    def one_clause(ref: str, source: Source) -> bool:
        """ISO 9001 and ISO 7101 both say 7.2 Competence; ISO 31000's 5.2 is about risk, not quality."""
        if split_ref(ref)[0] == split_ref(source.ref)[0] or subjects[ref] != subjects[source.ref]:
            return False
        title = titles[source.ref]
        return _same_clause(ref, source.ref) or fuzz.token_set_ratio(titles[ref], title) >= SAME_TITLE

    for rank, source in enumerate(_order(sources)):
        sentences = _sentences(source.text)
        for sentence in sentences if rank == 0 else sentences[:MAX_ASKS_PER_MEMBER]:
            ask = plain_words(_as_ask(sentence))
            same = next(
                (
                    a
                    for a in asks
                    if fuzz.token_set_ratio(a[0].lower(), ask.lower())
                    >= (SAME_CLAUSE_ASK if any(one_clause(r, source) for r in a[1]) else SAME_ASK)
                ),
                None,
            )
            if same is None:
                asks.append((ask, [source.ref]))
            elif source.ref not in same[1]:
                same[1].append(source.ref)
    return [ContentLine(text=text, refs=tuple(sorted(refs))) for text, refs in asks]


_SUBJECT = re.compile(
    r"^(?:(Top management(?: and oversight bodies)?|Leaders)|The organi[sz]ation|The provider|Providers|"
    r"Staff|Care providers)\s+(?:(?:must|shall|should)\s+)?(\w+)\b(.*)$"
)


_THIRD_PERSON = (
    "takes|gives|sets|makes|builds|provides|promotes|leads|ensures|reviews|assigns|keeps|checks|holds|"
    "defines|determines|establishes|maintains|monitors|plans|supports|shares|uses|applies|communicates"
)


def _base(verb: str) -> str:
    """'sets' -> 'set', 'applies' -> 'apply', 'addresses' -> 'address', 'has' -> 'have'."""
    if verb == "has":
        return "have"
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|zz)es$", verb):
        return verb[:-2]
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb[:-1]
    return verb


_PLURAL_HEADS = frozenset({"people", "staff", "premises", "persons", "they"})


def _make_sure(sentence: str) -> str | None:
    """'Recruitment must be operated effectively' -> 'make sure recruitment is operated effectively'.

    None when the sentence has no plain subject before its first 'must' (a comma comes first).
    """
    match = re.match(r"^([^,]+?) must (be|have|\w+)\b(.*)$", sentence)
    if not match:
        return None
    subject, verb, rest = match.groups()
    words = subject.lower().split()
    if words[0] not in _NOT_A_VERB:  # "Gather what a design must satisfy" is an instruction, not a subject
        return None
    plural = (
        " and " in f" {subject} "
        or bool(_PLURAL_HEADS & {words[0], words[-1]})
        or (words[-1].endswith("s") and not words[-1].endswith("ss"))
    )
    if verb == "be":
        verb = "are" if plural else "is"
    elif verb == "have":
        verb = "have" if plural else "has"
    elif not plural:
        verb = verb + "s"
    rest = re.sub(r" must be\b", " is", rest)
    rest = re.sub(r"\band be\b", "and are" if plural else "and is", rest)
    return f"make sure {_lower_first(subject)} {verb}{rest}"


def _behaviour(ask: str) -> str | None:
    """What staff and leaders do, from one ask, in plain grammar; None when the ask is no instruction."""
    subject = _SUBJECT.match(ask)
    if subject:
        who = "Leaders" if subject.group(1) else "Staff and leaders"
        rest = re.sub(  # "..., takes accountability and gives direction" -> "take", "give"
            rf"(, | and )({_THIRD_PERSON})\b", lambda m: m.group(1) + _base(m.group(2)), subject.group(3)
        )
        return f"{who} {_base(subject.group(2))}{rest}"
    condition = re.match(r"^((?:When|Where|If|Before|After) [^,]+), (\w+)(.*)$", ask)
    if (
        condition
    ):  # "When something goes wrong, contain it" -> "When something goes wrong, staff ... contain it"
        lead, verb, rest = condition.groups()
        if re.search(r"\b(they|it|we|the provider|providers) must\b", lead, re.I):
            return None  # the duty sits inside the condition: no clean split
        tail = _SUBJECT.match(f"{verb[:1].upper()}{verb[1:]}{rest}")
        if tail:
            return f"{lead}, {_lower_first(_behaviour(tail.group(0)) or '')}"
        if verb.islower() and verb not in _NOT_A_VERB and verb != "must":
            return f"{lead}, staff and leaders {verb}{rest}"
        sure = _make_sure(f"{verb}{rest}")
        return f"{lead}, staff and leaders {sure}" if sure else None
    sure = _make_sure(ask)
    if sure:
        return f"Staff and leaders {sure}"
    first = ask.split()[0].strip(",").lower() if ask.split() else ""
    if not first or first in _NOT_A_VERB or not first.isalpha():
        return None
    if first in ("have", "has"):  # "Have inclusive leaders at all levels": what the service has
        return f"The service has {ask.split(' ', 1)[1] if ' ' in ask else ''}".rstrip()
    return f"Staff and leaders {ask[:1].lower()}{ask[1:]}"


def draft_behaviours(asks: Sequence[ContentLine]) -> list[ContentLine]:
    """What staff and leaders do: each ask that is an instruction, with the ask's refs.

    When no ask is an instruction, each ask is kept as what good looks like in its own words ("People are
    ..."), so the line is still the members' and never a stock phrase.
    """
    out = [
        ContentLine(text=text, refs=ask.refs) for ask in asks if (text := _behaviour(ask.text)) is not None
    ]
    if not out:
        out = [ContentLine(text=ask.text, refs=ask.refs) for ask in asks]
    return out[: LIMITS["behaviours"]]


def _from_cues(sources: Sequence[Source]) -> dict[str, list[ContentLine]]:
    """Outputs, outcomes and evidence from the cues the members name, the most weighty first."""
    found: dict[str, dict[str, tuple[float, int, list[str]]]] = {
        "outputs": {},
        "outcomes": {},
        "evidence": {},
    }
    total = sum(max(s.weight, 0.01) for s in sources)
    for order, cue in enumerate(CUES):
        titled = [s for s in sources if cue.regex.search(s.title)]
        texted = [s for s in sources if s not in titled and cue.regex.search(s.text)]
        hits = sorted([*titled, *texted], key=lambda s: s.ref)
        weight = sum(max(s.weight, 0.01) for s in titled) + 0.5 * sum(max(s.weight, 0.01) for s in texted)
        if not hits or weight < CUE_SHARE * total:
            continue
        for kind, lines in (("outputs", cue.outputs), ("outcomes", cue.outcomes), ("evidence", cue.evidence)):
            for text in lines:
                held = found[kind].get(text)
                refs = sorted({*(held[2] if held else []), *(s.ref for s in hits)})
                found[kind][text] = (max(weight, held[0]) if held else weight, order, refs)
    return {
        kind: [
            ContentLine(text=text, refs=tuple(refs))
            for text, (_, _, refs) in sorted(lines.items(), key=lambda kv: (-round(kv[1][0], 6), kv[1][1]))
        ][: LIMITS[kind]]
        for kind, lines in found.items()
    }


def _lower_first(text: str) -> str:
    """'Staff and leaders ...' -> 'staff and leaders ...'; 'The service ...' -> 'the service ...'."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def draft_content(sources: Sequence[Source]) -> Drafted:
    """Title, statement, asks, what good looks like and evidence of one standard, from its members."""
    ordered = _order(sources)
    title = draft_title(ordered)
    asks = consolidate_asks(ordered)
    cues = _from_cues(ordered)
    behaviours = draft_behaviours(asks)
    short = [  # the first behaviour's main clause, for the parts no cue drafts
        ContentLine(text=re.split(r",\s|;\s| so ", _lower_first(b.text).rstrip("."))[0], refs=b.refs)
        for b in behaviours[:1]
    ]
    # With no cue, each part is drafted from the standard's own first asks, never a stock sentence.
    outputs = cues["outputs"] or [
        ContentLine(text=f"A record that shows {b.text}", refs=b.refs) for b in short
    ]
    evidence = cues["evidence"] or [
        ContentLine(text=f"An audit of whether {b.text}, with actions", refs=b.refs) for b in short
    ]
    outcomes = cues["outcomes"] or [
        ContentLine(
            text=f"{title} works in practice, not only on paper: shown by {_lower_first(e.text)}",
            refs=tuple(sorted({*e.refs, *(b.refs[0] for b in short)})),
        )
        for e in evidence[:1]
    ]
    return Drafted(
        title=title,
        statement=" ".join(a.text if a.text.endswith((".", "!", "?")) else a.text + "." for a in asks),
        asks=tuple(asks),
        good_looks_like=GoodLooksLike(
            outputs=tuple(outputs), behaviours=tuple(behaviours), outcomes=tuple(outcomes)
        ),
        evidence=tuple(evidence),
    )


def still_drafted(people: set[str]) -> tuple[str, ...]:
    """The content fields (in their fixed order) that no person has written: `people` names the others."""
    return tuple(f for f in CONTENT_FIELDS if f not in people)
