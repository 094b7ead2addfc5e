"""`qms explain`: why a requirement sits where it is: its neighbours and their scores, and the constraints."""

from __future__ import annotations

from typing import Any, Literal

from .errors import QmsError
from .models import Model, Overrides
from .review import _Pairs

# Neighbour field -> the PairScores array it reports ("local" is the mean of the pair's two entries)
_PARTS = {
    "score": "score",
    "meaning": "meaning",
    "title_meaning": "title_meaning",
    "subject": "subject",
    "title_ratio": "title",
    "blend": "blend",
    "match": "match",
    "cosine": "cosine",
    "title_cosine": "title_cosine",
    "fuzzy": "fuzzy",
    "structure": "structure",
}


class Neighbour(Model):
    """Another requirement, with the pair's scores and their parts (unscored pairs: all 0).

    score = 0.5 + blend - local, within 0..1, where blend = g.meaning x meaning + g.title_meaning x
    title_meaning + g.title_words x title_ratio + g.subject x subject (+ the clause bonus, - g.other_heading
    for two requirements of one set under different headings); without a title on either side the title
    weights go to meaning. match (are they the same requirement?) = min(1,
    w.embedding x cosine + w.title_embedding x title_cosine + w.fuzzy x fuzzy + w.title x title_ratio +
    structure), x same_set_factor when both come from one set.
    """

    ref: str
    title: str
    standard: str
    same_standard: bool
    same_set: bool = False
    score: float
    meaning: float = 0.0  # set-centred text embeddings
    title_meaning: float = 0.0  # set-centred title embeddings (0 when either has no title)
    subject: float = 0.0  # TF-IDF cosine of the subject words
    title_ratio: float = 0.0  # token-sort ratio of the titles
    blend: float = 0.0  # the weighted parts, with the clause bonus
    local: float = 0.0  # mean of the two requirements' best cross-set blends
    match: float = 0.0
    cosine: float = 0.0  # text embeddings
    title_cosine: float = 0.0  # title embeddings
    fuzzy: float = 0.0  # token-set ratio of the texts
    structure: float = 0.0  # shared clause number and mutual-best bonuses
    other_heading: bool = False  # one set's, under different headings: g.other_heading came off the blend
    agreed: bool = False  # the id lock holds both in one standard: keep_agreed was added when cutting
    same_clause: bool = False  # corresponding sets, the same clause number: clause_bonus is in the blend


class Constraint(Model):
    """An override naming the explained requirement."""

    kind: Literal["must-link", "cannot-link", "exclude"]
    refs: tuple[str, ...]
    reason: str | None = None
    by: str | None = None
    date: str | None = None


class RelatedFit(Model):
    """A standard other than its home that also partly covers the requirement: one of its related links."""

    standard: str
    title: str
    domain: str
    relationship: Literal["subset", "intersect"]
    strength: int
    fit: float  # the link's similarity: mean score to that standard's members


class StandardFit(Model):
    """Another standard, with the requirement's mean score to its members (unscored pairs count 0)."""

    standard: str
    title: str
    members: int
    fit: float


class Explanation(Model):
    """Why a requirement sits where it is: its standard, neighbours, constraints and fellow members."""

    ref: str
    title: str = ""
    text: str = ""
    standard: str | None = None  # None: excluded
    standard_title: str | None = None
    domain: str | None = None
    threshold: float
    formula: str = ""  # how a score is made from its parts, with this run's weights
    cohesion: float | None = None  # mean score to the other members; None when alone
    neighbours: tuple[Neighbour, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    members: tuple[Neighbour, ...] = ()
    related: tuple[RelatedFit, ...] = ()  # best fit first
    related_threshold: float = 0.0  # the fit a standard needs to list it as related
    closest: tuple[StandardFit, ...] = ()  # the other standards it fits best, best first


def explain(consolidation: Any, overrides: Overrides, ref: str, neighbours: int = 5) -> Explanation:
    """Explain one requirement's place in a consolidation (pure).

    Raises:
        QmsError: `ref` is not a requirement of the consolidated sets.
    """
    items, framework = consolidation.items, consolidation.framework
    constraints = tuple(
        Constraint(kind=kind, refs=x.refs, reason=x.reason, by=x.by, date=x.date)  # type: ignore[arg-type]
        for kind, links in (("must-link", overrides.must_link), ("cannot-link", overrides.cannot_link))
        for x in links
        if ref in x.refs
    ) + tuple(
        Constraint(kind="exclude", refs=(e.ref,), reason=e.reason) for e in overrides.exclude if e.ref == ref
    )
    engine = framework.framework.engine
    threshold, g = engine.threshold, engine.grouping
    local_levels = consolidation.scores.local
    floor = float(local_levels.min()) if len(local_levels) else 0.0  # most items sit at the floor
    formula = (
        f"score = 0.5 + blend - local (0 to 1); blend = {g.meaning:g} x meaning + {g.title_meaning:g} x title"
        f" meaning + {g.subject:g} x subject words + {g.title_words:g} x title words"
        f" + {engine.clause_bonus:g} for the same clause (marked §) - {g.other_heading:g} for one set's"
        f" requirements under different headings (**); local = mean of each one's {g.neighbours} best blends"
        f" in other sets, never below the {g.floor}th percentile of all ({floor:.3f}); a standard forms while"
        f" its members' mean score is at least the threshold"
        + (
            f", each pair that ids.lock (the agreed framework) holds in one standard counting"
            f" {engine.keep_agreed:g} more"
            if engine.keep_agreed
            else ""
        )
    )
    index = next((k for k, it in enumerate(items) if it.ref == ref), None)
    if index is None:
        if not any(e.ref == ref for e in framework.excluded):
            raise QmsError(
                f"'{ref}' is not a requirement in the loaded standard sets",
                field="ref",
                hint="Write refs as <set-id>:<requirement-id>; `qms list` and `qms show` list them.",
            )
        return Explanation(ref=ref, threshold=threshold, constraints=constraints)
    standard_of = {s.ref: st for st in framework.standards for s in st.sources}
    home, pairs = standard_of[ref], _Pairs(consolidation.scores)
    agreed = consolidation.agreed

    def neighbour(k: int) -> Neighbour:
        at, other = pairs.index(index, k), items[k]
        return Neighbour(
            ref=other.ref,
            title=other.title,
            standard=standard_of[other.ref].id,
            same_standard=standard_of[other.ref].id == home.id,
            same_set=other.set_id == items[index].set_id,
            local=round(float(pairs.scores.local[index] + pairs.scores.local[k]) / 2, 4),
            other_heading=at is not None and bool(pairs.scores.apart[at]),
            agreed=at is not None and agreed is not None and bool(agreed[at]),
            same_clause=at is not None and bool(pairs.scores.same_clause[at]),
            **{
                name: 0.0 if at is None else round(float(getattr(pairs.scores, part)[at]), 4)
                for name, part in _PARTS.items()
            },
        )

    others = sorted((k for k in range(len(items)) if k != index), key=lambda k: (-pairs.score(index, k), k))
    members = tuple(neighbour(k) for k in others if standard_of[items[k].ref].id == home.id)
    return Explanation(
        ref=ref,
        title=items[index].title,
        text=items[index].text,
        standard=home.id,
        standard_title=home.title,
        domain=home.domain,
        threshold=threshold,
        formula=formula,
        cohesion=round(sum(m.score for m in members) / len(members), 4) if members else None,
        neighbours=tuple(neighbour(k) for k in others[:neighbours]),
        constraints=constraints,
        members=members,
        related=_related_fits(framework, ref),
        related_threshold=engine.related_threshold,
        closest=_closest(framework, items, index, pairs, home.id),
    )


def _closest(
    framework: Any, items: Any, index: int, pairs: _Pairs, home: str, n: int = 3
) -> tuple[StandardFit, ...]:
    """The `n` standards other than `home` with the highest mean score of `index` to their members."""
    position = {it.ref: k for k, it in enumerate(items)}
    fits = []
    for standard in framework.standards:
        members = [position[s.ref] for s in standard.sources if s.ref in position]
        if standard.id == home or not members:
            continue
        fit = sum(pairs.score(index, k) for k in members) / len(members)
        fits.append(
            StandardFit(standard=standard.id, title=standard.title, members=len(members), fit=round(fit, 4))
        )
    return tuple(sorted(fits, key=lambda f: (-f.fit, f.standard))[:n])


def _related_fits(framework: Any, ref: str) -> tuple[RelatedFit, ...]:
    """The standards listing `ref` as a related link, best fit first (ties by standard id)."""
    fits = [
        RelatedFit(
            standard=standard.id,
            title=standard.title,
            domain=standard.domain,
            relationship=link.relationship,
            strength=link.strength,
            fit=link.similarity,
        )
        for standard in framework.standards
        for link in standard.related
        if link.ref == ref
    ]
    return tuple(sorted(fits, key=lambda f: (-f.fit, f.standard)))
