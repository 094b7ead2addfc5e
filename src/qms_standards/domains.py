"""Domains by subject: which domain's description names what a standard is about.

A domain's description in `mappings/domains.yaml` is a list of subjects ("safeguarding from abuse and
neglect; infection prevention and control; ..."). A standard matches a subject when one of its members
names every content word of it: in its title (counts 1) or only in its text (counts `TEXT_WEIGHT`), each
member weighted by how central it is to the standard. A subject listed by several domains counts for each
in proportion (1/n). `consolidate` adds this subject score to the embedding closeness of the description,
and `domain_conflicts` reports a standard whose domain names none of its subjects while another does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .models import Domain, Framework

TEXT_WEIGHT = 0.2  # a subject named only in a member's text says less than one named in its title
CONFLICT_SHARE = 1 / 3  # how much of a standard must name another domain's subject to report it

# Words too common in health and care standards to say what a subject is.
_STOP = frozenset(
    re.findall(
        r"\w+",
        """a an and any are as at be by each for from how in into is it its of on or our so that the their
        them they this to we what who with all make sure must should use keep provide ensure people person
        care service services organisation organisations organization organizational organisational""",
    )
)
_SUFFIXES = ("ations", "ation", "ings", "ing", "ness", "ities", "ity", "ies", "es", "s", "ed", "al")


def stem(word: str) -> str:
    """A crude, deterministic stem: lower case, one common suffix off (nutritional -> nutrition)."""
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> frozenset[str]:
    """The stems of a text's content words."""
    return frozenset(stem(w) for w in re.findall(r"[A-Za-z]+", text) if w.lower() not in _STOP and len(w) > 2)


@dataclass(frozen=True)
class Subject:
    """One subject a domain's description lists, and how many domains list it."""

    phrase: str
    words: frozenset[str]
    domain: int
    shared_by: int
    listed_as: str  # the phrase of the description it is part of, as a message quotes it


def subjects(domains: Sequence[Domain]) -> list[Subject]:
    """Split each domain's name and description into subjects at ';', ':', ',', '.' and 'and'."""
    raw: list[tuple[str, frozenset[str], int, str]] = []
    for k, domain in enumerate(domains):
        seen: set[frozenset[str]] = set()
        for chunk in re.split(r"[;:,.]", f"{domain.name}; {domain.description}"):
            for phrase in re.split(r"\band\b", chunk):
                words = content_words(phrase)
                if words and words not in seen:  # a subject the name and description both list counts once
                    seen.add(words)
                    raw.append((phrase.strip(), words, k, " ".join(chunk.split())))
    listed: dict[frozenset[str], set[int]] = {}
    for _, words, k, _ in raw:
        listed.setdefault(words, set()).add(k)
    return [Subject(p, w, k, len(listed[w]), c) for p, w, k, c in raw]


@lru_cache(maxsize=4)
def _subjects_of(domains: tuple[Domain, ...]) -> list[Subject]:
    """`subjects`, read once per set of domains: a run scores every standard against the same ones."""
    return subjects(domains)


@dataclass(frozen=True)
class Named:
    """What the subject score reads of one member: its title, its text and how central it is."""

    title: str
    text: str
    weight: float


def subject_scores(members: Sequence[Named], domains: Sequence[Domain]) -> list[float]:
    """Per domain, how much of the standard (by centrality) names the subjects its description lists."""
    found = _subjects_of(tuple(domains))
    scores = [0.0] * len(domains)
    total = 0.0
    for member in members:
        weight = max(member.weight, 0.01)
        total += weight
        title, text = content_words(member.title), content_words(member.text)
        for subject in found:
            if subject.words <= title:
                scores[subject.domain] += weight / subject.shared_by
            elif subject.words <= text:
                scores[subject.domain] += TEXT_WEIGHT * weight / subject.shared_by
    return [round(s / total, 6) for s in scores] if total else scores


def named_subjects(members: Sequence[Named], domain: Domain) -> list[str]:
    """The subjects of one domain's description that the members' titles name, in description order."""
    titles = [content_words(m.title) for m in members]
    found = subjects([domain])
    hit = [s for s in found if any(s.words <= t for t in titles)]
    # "infection prevention and control" is quoted whole when every part of it is named, not in pieces
    whole = {s.listed_as for s in hit if all(o in hit for o in found if o.listed_as == s.listed_as)}
    return list(dict.fromkeys(s.listed_as if s.listed_as in whole else s.phrase for s in hit))


@dataclass(frozen=True)
class DomainConflict:
    """A standard whose domain's description names none of its subjects while another's does."""

    standard: str
    domain: str
    better: str
    subjects: tuple[str, ...]

    def message(self, framework: Framework) -> str:
        """One line for a head of quality."""
        own, better = framework.domain(self.domain).name, framework.domain(self.better).name
        return (
            f"{self.standard} is in {self.domain} ({own}), but its members name "
            f"{', '.join(repr(s) for s in self.subjects)}, listed under {self.better} ({better}): "
            "move it with an override, or edit domains.yaml"
        )


def domain_conflicts(framework: Framework) -> list[DomainConflict]:
    """Standards whose domain names none of the subjects their members' titles name, while another does.

    Titles only: they say what a requirement is about, and every framework holds them. Another domain must
    name subjects of members making up at least `CONFLICT_SHARE` of the standard (by centrality).
    """
    ids = [d.id for d in framework.domains]
    conflicts = []
    for standard in framework.standards:
        if standard.domain not in ids:
            continue
        members = [Named(s.title, "", s.similarity) for s in standard.sources]
        scores = subject_scores(members, framework.domains)
        best = max(range(len(ids)), key=lambda k: (scores[k], -k))
        # A subject two domains both list ("control": infection prevention and control; choice and
        # control) names neither: a tie at the top is no evidence for one of them.
        tied = sum(1 for score in scores if score == scores[best]) > 1
        if scores[ids.index(standard.domain)] == 0 and scores[best] >= CONFLICT_SHARE and not tied:
            named = named_subjects(members, framework.domains[best])
            conflicts.append(DomainConflict(standard.id, standard.domain, ids[best], tuple(named)))
    return conflicts
