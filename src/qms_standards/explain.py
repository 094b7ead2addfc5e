"""`qms explain`: why a requirement sits where it is: its neighbours and their scores, and the constraints."""

from __future__ import annotations

from typing import Any, Literal

from .errors import QmsError
from .models import Model, Overrides
from .review import _PARTS, _Pairs


class Neighbour(Model):
    """Another requirement, with the pair's score and its parts (unscored pairs: all 0)."""

    ref: str
    title: str
    standard: str
    same_standard: bool
    score: float
    cosine: float = 0.0
    fuzzy: float = 0.0
    title_ratio: float = 0.0
    structure: float = 0.0


class Constraint(Model):
    """An override naming the explained requirement."""

    kind: Literal["must-link", "cannot-link", "exclude"]
    refs: tuple[str, ...]
    reason: str | None = None
    by: str | None = None
    date: str | None = None


class Explanation(Model):
    """Why a requirement sits where it is: its standard, neighbours, constraints and fellow members."""

    ref: str
    title: str = ""
    text: str = ""
    standard: str | None = None  # None: excluded
    standard_title: str | None = None
    domain: str | None = None
    threshold: float
    cohesion: float | None = None  # mean score to the other members; None when alone
    neighbours: tuple[Neighbour, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    members: tuple[Neighbour, ...] = ()


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
    threshold = framework.framework.engine.threshold
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

    def neighbour(k: int) -> Neighbour:
        at, other = pairs.index(index, k), items[k]
        parts = [0.0] * 5 if at is None else [round(float(getattr(pairs.scores, f)[at]), 4) for f in _PARTS]
        return Neighbour(
            ref=other.ref,
            title=other.title,
            standard=standard_of[other.ref].id,
            same_standard=standard_of[other.ref].id == home.id,
            **dict(zip(("score", "cosine", "fuzzy", "title_ratio", "structure"), parts, strict=True)),
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
        cohesion=round(sum(m.score for m in members) / len(members), 4) if members else None,
        neighbours=tuple(neighbour(k) for k in others[:neighbours]),
        constraints=constraints,
        members=members,
    )
