"""Diff: what changed between two frameworks, in the terms an auditor reviews.

Standards are matched by their stable id, source requirements by their ref, domains and source sets by
id. Every change has a kind (see `KINDS`); the changes come back sorted, so the same two frameworks
always give the same report. Rendering lives in `diff_render`.

A ref's *location* in a framework is the id of the standard holding it, or `excluded: <reason>`, or
nothing. Comparing the two locations of every ref classifies it: a ref that had a location and has none
is `source-lost`, the one change an auditor must never miss, and it sorts first.

Related links (a standard that also partly covers a requirement homed elsewhere) are compared as
(standard, ref) pairs: one present only in NEW is `related-added`, only in OLD `related-removed`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, field_validator

from .errors import FrameworkError, Problem, QmsError
from .load import field_path, framework_problems
from .models import Framework, Model, RelatedLink, Risk, SourceLink, Standard
from .suggest import did_you_mean

ANY = "any"
EXCLUDED_PREFIX = "excluded: "

KIND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Source requirements",
        (
            "source-lost",
            "source-excluded",
            "source-included",
            "source-gained",
            "source-moved",
            "source-text-changed",
            "relationship-changed",
            "exclusion-changed",
        ),
    ),
    ("Related links", ("related-removed", "related-added")),
    (
        "Standards",
        ("removed", "added", "title-changed", "statement-changed", "domain-moved", "component-changed"),
    ),
    ("Risk", ("risk-up", "risk-down", "risk-changed")),
    ("Domains", ("domain-removed", "domain-added", "domain-renamed", "domain-description-changed")),
    ("Source sets", ("set-removed", "set-added", "set-edition")),
    ("Engine", ("engine-changed",)),
)
KINDS: tuple[str, ...] = tuple(kind for _, kinds in KIND_GROUPS for kind in kinds)
_KIND_ORDER = {kind: index for index, kind in enumerate(KINDS)}

# Kinds whose old and new values are locations: a standard id, or `excluded: <reason>`.
LOCATION_KINDS = frozenset(
    (
        "source-lost",
        "source-excluded",
        "source-included",
        "source-gained",
        "source-moved",
        "exclusion-changed",
    )
)

# diff(b, a) reports these kinds where diff(a, b) reports their partners; every other kind is its own.
_PAIRS = (
    ("added", "removed"),
    ("risk-up", "risk-down"),
    ("source-gained", "source-lost"),
    ("related-added", "related-removed"),
    ("source-excluded", "source-included"),
    ("domain-added", "domain-removed"),
    ("set-added", "set-removed"),
)
MIRROR_KINDS: dict[str, str] = {**dict(_PAIRS), **{b: a for a, b in _PAIRS}}

Scalar = str | int | float | bool | None
Value = Scalar | dict[str, Scalar]


class Change(Model):
    """One difference between two frameworks."""

    kind: str = Field(description="One of `KINDS`, e.g. 'source-lost' or 'risk-up'.")
    standard: str | None = Field(
        default=None,
        description="The standard concerned; for a source requirement, its standard in NEW (else in OLD).",
    )
    ref: str | None = Field(default=None, description="The source requirement, <set-id>:<requirement-id>.")
    item: str | None = Field(default=None, description="The domain id, source set id or engine setting.")
    old: Value = Field(default=None, description="The value in OLD; none when the thing is new.")
    new: Value = Field(default=None, description="The value in NEW; none when the thing is gone.")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in _KIND_ORDER:
            raise ValueError(f"unknown change kind {kind!r}")
        return kind

    def sort_key(self) -> tuple[Any, ...]:
        """Kind order, then standard id, ref and item in natural order (QS-2 before QS-10)."""
        return (_KIND_ORDER[self.kind], _natural(self.standard), _natural(self.ref), _natural(self.item))


class FrameworkVersion(Model):
    """Name and version of one side of a diff."""

    name: str
    version: str


class Titles(Model):
    """Human labels for the ids a report mentions (NEW's wording where both sides have one)."""

    standards: dict[str, str] = {}
    sources: dict[str, str] = {}
    domains: dict[str, str] = {}


class Changes(Model):
    """Every change from `old` to `new`, sorted by kind (see `KINDS`) and then by id."""

    old: FrameworkVersion
    new: FrameworkVersion
    changes: tuple[Change, ...] = ()
    titles: Titles = Titles()

    def matches(self, fail_on: set[str] | frozenset[str]) -> bool:
        """True when a change's kind is in `fail_on`; `any` matches every change."""
        return bool(self.matching(fail_on))

    def matching(self, fail_on: set[str] | frozenset[str]) -> tuple[Change, ...]:
        """The changes whose kind is in `fail_on` (all of them for `any`)."""
        return tuple(c for c in self.changes if ANY in fail_on or c.kind in fail_on)

    def counts(self) -> dict[str, int]:
        """Number of changes of each kind present, in `KINDS` order."""
        found: dict[str, int] = {}
        for change in self.changes:
            found[change.kind] = found.get(change.kind, 0) + 1
        return {kind: found[kind] for kind in KINDS if kind in found}

    def of_kind(self, *kinds: str) -> tuple[Change, ...]:
        """The changes of the given kinds, in report order."""
        return tuple(change for change in self.changes if change.kind in kinds)


def parse_fail_on(text: str | None) -> frozenset[str]:
    """Parse a `--fail-on` comma list such as `removed,risk-up,source-lost` (`any` for every kind).

    Raises:
        QmsError: a name is not a change kind; the hint lists the valid ones.
    """
    kinds = frozenset(part.strip() for part in (text or "").split(",") if part.strip())
    unknown = sorted(kinds - set(KINDS) - {ANY})
    if unknown:
        hint = f"Use a comma list of: {ANY}, {', '.join(KINDS)}."
        raise QmsError(
            f"{len(unknown)} unknown change kind(s) in --fail-on",
            problems=[
                Problem(
                    f"unknown change kind {name!r}{did_you_mean(name, (ANY, *KINDS))}",
                    field="--fail-on",
                    hint=hint,
                )
                for name in unknown
            ],
        )
    return kinds


def diff_frameworks(old: Framework, new: Framework) -> Changes:
    """Compare two frameworks; pure, and linear in their size apart from the final sort.

    Raises:
        FrameworkError: a framework holds a standard id, domain id or source ref twice.
    """
    a, b = _index(old, "old"), _index(new, "new")
    changes = [
        *_standard_changes(a, b),
        *_source_changes(a, b),
        *_related_changes(a, b),
        *_domain_changes(a, b),
        *_set_changes(old, new),
        *_engine_changes(old, new),
    ]
    changes.sort(key=Change.sort_key)
    return Changes(
        old=FrameworkVersion(name=old.framework.name, version=old.framework.version),
        new=FrameworkVersion(name=new.framework.name, version=new.framework.version),
        changes=tuple(changes),
        titles=_titles(changes, a, b),
    )


# --- Indexing ------------------------------------------------------------------------------------


@dataclass
class _Index:
    """One framework's lookups: standards and domains by id, each ref's holder and exclusion."""

    standards: dict[str, Standard] = field(default_factory=dict)
    holders: dict[str, tuple[str, SourceLink]] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    domains: dict[str, tuple[str, str]] = field(default_factory=dict)
    related: dict[tuple[str, str], RelatedLink] = field(default_factory=dict)  # (standard id, ref)

    def location(self, ref: str) -> str | None:
        """Standard id holding `ref`, `excluded: <reason>`, or None when the ref is absent."""
        if ref in self.holders:
            return self.holders[ref][0]
        if ref in self.excluded:
            return EXCLUDED_PREFIX + self.excluded[ref]
        return None


def _index(framework: Framework, side: str) -> _Index:
    """Index a framework, refusing one that holds an id or ref twice (a diff of it would mislead)."""
    problems = [
        Problem(message, field=f"{side}: {field_path(loc)}", hint=hint)
        for loc, message, hint in framework_problems(framework)
    ]
    if problems:
        raise FrameworkError(f"{len(problems)} problem(s) in the {side} framework", problems=problems)
    index = _Index()
    index.domains = {d.id: (d.name, d.description) for d in framework.domains}
    for standard in framework.standards:
        index.standards[standard.id] = standard
        for link in standard.sources:
            index.holders[link.ref] = (standard.id, link)
        for partial in standard.related:
            index.related[(standard.id, partial.ref)] = partial
    index.excluded = {item.ref: item.reason for item in framework.excluded}
    return index


# --- Comparisons ---------------------------------------------------------------------------------


def _standard_changes(a: _Index, b: _Index) -> Iterator[Change]:
    for sid in a.standards.keys() | b.standards.keys():
        x, y = a.standards.get(sid), b.standards.get(sid)
        if x is None and y is not None:
            yield Change(kind="added", standard=sid, new=y.title)
        elif y is None and x is not None:
            yield Change(kind="removed", standard=sid, old=x.title)
        elif x is not None and y is not None:
            for kind, name in (
                ("title-changed", "title"),
                ("statement-changed", "statement"),
                ("domain-moved", "domain"),
                ("component-changed", "qms_component"),
            ):
                if getattr(x, name) != getattr(y, name):
                    yield Change(kind=kind, standard=sid, old=getattr(x, name), new=getattr(y, name))
            yield from _risk_change(sid, x.risk, y.risk)


def _risk_change(sid: str, x: Risk, y: Risk) -> Iterator[Change]:
    # `weight` is score / sum of all scores, so it moves whenever any standard's risk does: not reported.
    old, new = _risk_value(x), _risk_value(y)
    if y.score != x.score:
        yield Change(kind="risk-up" if y.score > x.score else "risk-down", standard=sid, old=old, new=new)
    elif old != new:
        yield Change(kind="risk-changed", standard=sid, old=old, new=new)


def _risk_value(risk: Risk) -> dict[str, Scalar]:
    return risk.model_dump(include={"severity", "likelihood", "score", "rating"})


def _source_changes(a: _Index, b: _Index) -> Iterator[Change]:
    refs = a.holders.keys() | a.excluded.keys() | b.holders.keys() | b.excluded.keys()
    for ref in refs:
        was, now = a.location(ref), b.location(ref)
        if was != now:
            yield _location_change(ref, was, now)
        if ref in a.holders and ref in b.holders:
            # Similarity and strength are engine scores that drift with every run: not reported.
            x = a.holders[ref][1]
            holder, y = b.holders[ref]
            if x.text_sha != y.text_sha:
                yield Change(
                    kind="source-text-changed", standard=holder, ref=ref, old=_wording(x), new=_wording(y)
                )
            if x.relationship != y.relationship:
                yield Change(
                    kind="relationship-changed",
                    standard=holder,
                    ref=ref,
                    old=x.relationship,
                    new=y.relationship,
                )


def _related_changes(a: _Index, b: _Index) -> Iterator[Change]:
    # Like a home link's, a related link's strength and similarity drift with every run: not reported.
    for sid, ref in a.related.keys() - b.related.keys():
        yield Change(kind="related-removed", standard=sid, ref=ref, old=_partly(a.related[(sid, ref)]))
    for sid, ref in b.related.keys() - a.related.keys():
        yield Change(kind="related-added", standard=sid, ref=ref, new=_partly(b.related[(sid, ref)]))


def _partly(link: RelatedLink) -> Value:
    return {"relationship": link.relationship, "strength": link.strength}


def _wording(link: SourceLink) -> Value:
    """A source's words (title, text and hash) where the framework records them, else only the hash.

    Frameworks written before the text was recorded carry only `text_sha`, which still tells that the
    wording changed, but not how.
    """
    if link.text is None:
        return link.text_sha
    return {"title": link.title, "text": link.text, "text_sha": link.text_sha}


def _location_change(ref: str, was: str | None, now: str | None) -> Change:
    """Classify a ref whose location differs between OLD (`was`) and NEW (`now`)."""
    excluded_before = was is not None and was.startswith(EXCLUDED_PREFIX)
    excluded_now = now is not None and now.startswith(EXCLUDED_PREFIX)
    if was is None:
        kind, standard = "source-gained", None if excluded_now else now
    elif now is None:
        kind, standard = "source-lost", None if excluded_before else was
    elif excluded_before and excluded_now:
        kind, standard = "exclusion-changed", None
    elif excluded_now:
        kind, standard = "source-excluded", was
    elif excluded_before:
        kind, standard = "source-included", now
    else:
        kind, standard = "source-moved", now
    return Change(kind=kind, standard=standard, ref=ref, old=was, new=now)


def _domain_changes(a: _Index, b: _Index) -> Iterator[Change]:
    for did in a.domains.keys() | b.domains.keys():
        x, y = a.domains.get(did), b.domains.get(did)
        if x is None and y is not None:
            yield Change(kind="domain-added", item=did, new=y[0])
        elif y is None and x is not None:
            yield Change(kind="domain-removed", item=did, old=x[0])
        elif x is not None and y is not None:
            if x[0] != y[0]:
                yield Change(kind="domain-renamed", item=did, old=x[0], new=y[0])
            if x[1] != y[1]:
                yield Change(kind="domain-description-changed", item=did, old=x[1], new=y[1])


def _set_changes(old: Framework, new: Framework) -> Iterator[Change]:
    a, b = _editions(old), _editions(new)
    for set_id in a.keys() | b.keys():
        x, y = a.get(set_id), b.get(set_id)
        if x != y:
            kind = "set-added" if x is None else "set-removed" if y is None else "set-edition"
            yield Change(kind=kind, item=set_id, old=x, new=y)


def _editions(framework: Framework) -> dict[str, dict[str, Scalar]]:
    return {s.id: {"version": s.version, "sha256": s.sha256} for s in framework.framework.sources}


def _engine_changes(old: Framework, new: Framework) -> Iterator[Change]:
    a, b = _flatten(old.framework.engine.model_dump()), _flatten(new.framework.engine.model_dump())
    for name in a.keys() | b.keys():
        if a.get(name) != b.get(name):
            yield Change(kind="engine-changed", item=name, old=a.get(name), new=b.get(name))


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Scalar]:
    """Nested settings as dotted names: {'weights': {'fuzzy': 0.2}} -> {'weights.fuzzy': 0.2}."""
    out: dict[str, Scalar] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _titles(changes: list[Change], a: _Index, b: _Index) -> Titles:
    """Labels for every standard, source and domain the changes name, NEW's wording first."""
    sids: set[str] = set()
    refs: set[str] = set()
    dids: set[str] = set()
    for change in changes:
        sids.update([change.standard] if change.standard else [])
        sids.update([str(change.old)] if change.kind == "source-moved" else [])
        refs.update([change.ref] if change.ref else [])
        if change.kind == "domain-moved":
            dids.update((str(change.old), str(change.new)))
        elif change.kind.startswith("domain-") and change.item:
            dids.add(change.item)
    held = {r: (b.holders.get(r) or a.holders[r])[1].title for r in refs if r in a.holders or r in b.holders}
    partly = {ref: link.title for (_, ref), link in (a.related | b.related).items() if ref in refs}
    held = {**partly, **held}  # a source's own title where a standard holds it
    return Titles(
        standards=_sorted({s: (b.standards.get(s) or a.standards[s]).title for s in sids}),
        sources=_sorted(held),
        domains=_sorted(
            {d: (b.domains.get(d) or a.domains[d])[0] for d in dids if d in a.domains or d in b.domains}
        ),
    )


def _sorted(mapping: dict[str, str]) -> dict[str, str]:
    return {key: mapping[key] for key in sorted(mapping, key=_natural)}


def _natural(text: str | None) -> tuple[Any, ...]:
    """Natural-order key: digit runs compare as numbers, then the raw text breaks ties."""
    if text is None:
        return ()
    parts = re.split(r"(\d+)", text)
    return (tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text)
