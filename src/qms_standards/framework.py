"""Stage 3, framework: clusters -> a Framework with stable ids, domains, risk and traceability.

`consolidate()` composes the stages: embed (2a), score and group (2b), then build the framework (3).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import numpy as np

from . import __version__
from .cluster import dedupe
from .content import draft_content, sources_of, still_drafted
from .content_edits import apply_words
from .domains import Named, subject_scores
from .embedding import Embedder, EmbeddingCache, embed_texts
from .load import LoadedSet, load_framework
from .models import (
    QMS_COMPONENTS,
    ContentWords,
    Domain,
    Excluded,
    Framework,
    FrameworkInfo,
    IdsLock,
    LockEntry,
    Mappings,
    QmsComponent,
    RelatedLink,
    Relationship,
    Requirement,
    Settings,
    SourceLink,
    SourceSet,
    Standard,
    StandardOverride,
    flatten,
    split_ref,
)
from .progress import Report, step, tick
from .related import related_links
from .risk import Member as RiskMember
from .risk import Rated, normalise_weights, rate_standard
from .similarity import Item, PairScores, embed_items, normalise, score_pairs


@dataclass
class Consolidation:
    """What `consolidate` returns: the framework, the updated id lock and figures for the summary."""

    framework: Framework
    lock: IdsLock
    embedded: int  # requirement texts and titles not in the cache: the "Embedding" bar's total
    items: list[Item] = field(repr=False)
    scores: PairScores = field(repr=False)
    clusters: list[list[int]] = field(repr=False)
    domains_embedded: int = 0  # texts of the domain descriptions (whole, and each topic) not in the cache
    agreed: np.ndarray | None = field(default=None, repr=False)  # per scored pair: one locked standard


def recorded_settings(path: Path) -> Settings:
    """The engine settings a framework file was built with; the defaults when there is no such file.

    Raises:
        FrameworkError: the file exists but cannot be read as a framework.
    """
    if not path.exists() and not path.is_symlink():
        return Settings()
    return load_framework(path).framework.engine


def cut_label(settings: Settings) -> str:
    """How a run cuts its standards, as the id lock records it: 'target 60' or 'threshold 0.4'."""
    return f"target {settings.target}" if settings.target is not None else f"threshold {settings.threshold:g}"


def agreed_pairs(items: Sequence[Item], scores: PairScores, lock: IdsLock, cut: str) -> np.ndarray:
    """Per scored pair, whether the id lock (the agreed framework) holds both requirements in one standard.

    `consolidate` adds `keep_agreed` to these pairs' fit when it cuts, so a pair that sits within that much
    of the cut keeps the decision the framework was agreed with, and a small change of wording elsewhere
    does not reshuffle it. A fresh run, with no lock, is not affected; nor is a run at another cut than the
    lock's (a trial `--target 60` written to the lock does not pull the next default run towards it). A
    lock from before locks recorded their cut counts as agreed at any cut.
    """
    if not len(scores.i) or (lock.cut is not None and lock.cut != cut):
        return np.zeros(len(scores.i), dtype=bool)
    owner = {ref: n for n, entry in enumerate(lock.standards) for ref in entry.refs}
    home = np.array([owner.get(it.ref, -1) for it in items], dtype=np.int64)
    return (home[scores.i] >= 0) & (home[scores.i] == home[scores.j])


def to_items(sets: Sequence[LoadedSet]) -> list[Item]:
    """Flatten loaded sets into engine items, sorted by ref."""
    flat = flatten([s.set for s in sets])
    items = [
        Item(
            ref=r.ref,
            set_id=r.set_id,
            req_id=r.requirement.id,
            title=r.requirement.title,
            text=r.text,
            section=r.requirement.section,
        )
        for r in flat
    ]
    return sorted(items, key=lambda it: it.ref)


def consolidate(
    sets: Sequence[LoadedSet],
    mappings: Mappings,
    settings: Settings,
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    *,
    name: str = "Consolidated quality framework",
    version: str | None = None,
    progress: Report | None = None,
) -> Consolidation:
    """Turn loaded standard sets into a consolidated framework.

    Args:
        sets: Standard sets with their files' hashes.
        mappings: Domains, overrides and the id lock.
        settings: Engine settings (saved in the framework).
        embedder: Turns texts into vectors (the real model, or a fake in tests).
        cache: On-disk embedding cache, or None.
        name: The framework's name.
        version: The framework's version; default: a hash of its inputs.
        progress: Called with (step, done, total) as it embeds, scores, clusters and builds standards.
    """
    overrides = mappings.overrides
    excluded = {e.ref: e.reason for e in overrides.exclude}
    every = to_items(sets)
    items = [it for it in every if it.ref not in excluded]
    index = {it.ref: k for k, it in enumerate(items)}
    vectors, title_vectors, embedded = embed_items(items, embedder, cache, step(progress, "Embedding"))
    domain_match, domain_embedded = _domain_matcher(mappings.domains, embedder, cache)
    must = [[index[r] for r in link.refs] for link in overrides.must_link]
    cannot = [
        (index[a], index[b])
        for link in overrides.cannot_link
        for x, a in enumerate(link.refs)
        for b in link.refs[x + 1 :]
    ]
    scores = score_pairs(items, vectors, title_vectors, settings, step(progress, "Scoring pairs"))
    cut = cut_label(settings)
    agreed = agreed_pairs(items, scores, mappings.lock, cut)
    clusters, _ = dedupe(
        items,
        vectors,
        title_vectors,
        settings,
        must_link=must,
        cannot_link=cannot,
        scores=scores,
        progress=step(progress, "Clustering"),
        bonus=settings.keep_agreed * agreed,
    )
    # Which members are the same requirement (`equal`) is the engine's call from the scores alone: a
    # must-link says two refs share a standard, not that they say the same thing.
    same, _ = dedupe(
        items,
        vectors,
        title_vectors,
        settings,
        threshold=settings.match_threshold,
        cannot_link=cannot,
        scores=scores,
        by="match",
        progress=step(progress, "Matching equals"),
    )
    same_of = {k: n for n, group in enumerate(same) for k in group}
    pair, centres = _within_clusters(clusters, scores)
    related = _related_of(clusters, centres, items, scores, settings)
    ids, lock = assign_ids([[items[k].ref for k in c] for c in clusters], mappings.lock)
    lock = lock.model_copy(update={"cut": cut})
    by_id = {o.id: o for o in overrides.standards}
    words = {w.id: w for w in mappings.content.standards}
    tags = {s.set.ref(r): r for s in sets for r in s.set.requirements}
    set_of = {s.set.id: s.set for s in sets}
    drafts: list[tuple[Standard, Rated]] = []
    building = step(progress, "Building standards")
    for done, (members, standard_id, centre) in enumerate(zip(clusters, ids, centres, strict=True)):
        tick(building, done, len(clusters), every=100)
        centroid = _unit(vectors[members].mean(axis=0))
        links = tuple(
            sorted(
                (
                    _link(
                        items[k],
                        items[centre],
                        float(vectors[k] @ centroid),
                        pair,
                        same_of[k] == same_of[centre],
                        k,
                        centre,
                    )
                    for k in members
                ),
                key=lambda s: s.ref,
            )
        )
        override = by_id.get(standard_id, StandardOverride(id=standard_id))
        component_tags = [t for k in members for t in tags[items[k].ref].tags if t in QMS_COMPONENTS]
        centre_req = tags[items[centre].ref]
        drafted = draft_content(sources_of(links, tags, set_of))
        rated = rate_standard(
            [
                RiskMember(
                    ln.ref,
                    ln.title,
                    tags[ln.ref].severity,
                    ln.similarity,
                    split_ref(ln.ref)[0],
                    legal="legal-duty" in tags[ln.ref].tags,
                )
                for ln in links
            ],
            centre=items[centre].ref,
            severity_override=override.severity,
            likelihood_override=override.likelihood,
        )
        drafts.append(
            (
                Standard(
                    id=standard_id,
                    domain=override.domain or domain_match(centroid, _subjects(links, tags, mappings)),
                    title=override.title or drafted.title,
                    statement=override.statement or drafted.statement,
                    asks=drafted.asks,
                    good_looks_like=drafted.good_looks_like,
                    evidence=drafted.evidence,
                    drafted=still_drafted({f for f in ("title", "statement") if getattr(override, f)}),
                    qms_component=override.qms_component or _component(component_tags, centre_req.tags),
                    risk=rated.risk(0.0),
                    sources=links,
                    related=related.get(done, ()),
                ),
                rated,
            )
        )
    tick(building, len(clusters), len(clusters))
    weights = normalise_weights([rated.severity * rated.likelihood for _, rated in drafts])
    standards = tuple(
        sorted(
            (
                _with_words(draft, words).model_copy(update={"risk": rated.risk(weight)})
                for (draft, rated), weight in zip(drafts, weights, strict=True)
            ),
            key=lambda s: _id_key(s.id),
        )
    )
    info = FrameworkInfo(
        name=name,
        version=version or _input_hash(sets, mappings, settings),
        generated_by=f"qms-standards {__version__}",
        engine=settings,
        sources=tuple(
            SourceSet(
                id=s.set.id,
                name=s.set.name,
                version=s.set.version,
                publisher=s.set.publisher,
                licence=s.set.licence,
                requirements=len(s.set.requirements),
                sha256=s.sha256,
            )
            for s in sets
        ),
    )
    framework = Framework(
        framework=info,
        domains=mappings.domains,
        standards=standards,
        excluded=tuple(Excluded(ref=r, reason=excluded[r]) for r in sorted(excluded)),
    )
    check_traceability(framework, [it.ref for it in every])
    return Consolidation(framework, lock, embedded, items, scores, clusters, domain_embedded, agreed)


def _subjects(links: Sequence[SourceLink], tags: dict[str, Requirement], mappings: Mappings) -> list[float]:
    members = [Named(ln.title, tags[ln.ref].text, ln.similarity) for ln in links]
    return subject_scores(members, mappings.domains)


def _domain_matcher(
    domains: Sequence[Domain], embedder: Embedder, cache: EmbeddingCache | None
) -> tuple[Callable[[np.ndarray, list[float]], str], int]:
    """A function from a standard's centroid and subject scores to its domain id, and texts embedded.

    A domain's description lists several topics, so closeness blends the cosine to the whole description
    with the cosine to its best-matching topic (the name and each ';'-separated phrase). Closeness is
    rescaled to 0-1 across the domains and the subject score (`domains.subject_scores`: the subjects a
    description names that the members name) is added, so a standard goes where its subject is listed.
    """
    phrases, owner = [], []
    for k, domain in enumerate(domains):
        for phrase in [domain.name, *(p.strip() for p in re.split(r"[;:]", domain.description))]:
            if phrase:
                phrases.append(phrase)
                owner.append(k)
    texts = [f"{d.name}. {d.description}" for d in domains] + phrases
    vectors, embedded = embed_texts(texts, embedder, cache)
    whole, facets, owners = vectors[: len(domains)], vectors[len(domains) :], np.array(owner)

    def match(centroid: np.ndarray, subject: list[float]) -> str:
        facet = facets @ centroid
        best = np.array([facet[owners == k].max() for k in range(len(domains))])
        close = 0.5 * (whole @ centroid) + 0.5 * best
        spread = float(close.max() - close.min())
        scaled = (close - close.min()) / spread if spread > 0 else np.zeros_like(close)
        return domains[int(np.argmax(np.round(scaled, 6) + np.array(subject)))].id

    return match, embedded


def check_traceability(framework: Framework, refs: list[str]) -> None:
    """Every source ref is in exactly one standard or in `excluded`; anything else is a bug."""
    placed = Counter(s.ref for st in framework.standards for s in st.sources)
    placed.update(e.ref for e in framework.excluded)
    wrong = sorted(r for r in set(refs) | set(placed) if placed[r] != 1)
    if wrong:
        raise AssertionError(
            f"traceability broken for {wrong[:5]} (placed {[placed[r] for r in wrong[:5]]} times)"
        )


def _within_clusters(
    clusters: list[list[int]], scores: PairScores
) -> tuple[dict[tuple[int, int], float], list[int]]:
    """The scores of the pairs inside each cluster, and each cluster's centre.

    The centre is the most central member: the highest mean score to the others (unscored pairs count 0),
    ties to the lower index (ref). Only pairs inside a cluster are read, so a large cluster costs its pairs,
    not members squared. Each member's sum adds its pairs in member order, as a plain loop over the others
    would, so the means are the same to the last bit.
    """
    label = np.empty(scores.n, dtype=np.int64)
    for number, members in enumerate(clusters):
        label[members] = number
    inside = label[scores.i] == label[scores.j]
    i, j, s = scores.i[inside], scores.j[inside], scores.score[inside]
    order = np.argsort(i * scores.n + j, kind="stable")  # score_pairs gives them sorted; make sure
    i, j, s = i[order], j[order], s[order]
    total = np.zeros(scores.n)
    np.add.at(total, j, s)  # member k's pairs (o, k) with o < k, o ascending ...
    np.add.at(total, i, s)  # ... then its pairs (k, o) with o > k, o ascending
    sums = total.tolist()
    centres = []
    for members in clusters:
        others = max(len(members) - 1, 1)
        centres.append(max(members, key=lambda k: (round(sums[k] / others, 9), -k)))  # noqa: B023
    return dict(zip(zip(i.tolist(), j.tolist(), strict=True), s.tolist(), strict=True)), centres


def _link(
    item: Item,
    centre: Item,
    similarity: float,
    pair: dict[tuple[int, int], float],
    same: bool,
    k: int,
    c: int,
) -> SourceLink:
    score = 1.0 if k == c else pair.get((min(k, c), max(k, c)), 0.0)
    return SourceLink(
        ref=item.ref,
        title=item.title,
        text=_own_text(item),
        similarity=round(min(1.0, max(0.0, similarity)), 3),
        relationship="equal" if same else _relationship(item.text, centre.text),
        strength=int(round(10 * score)),
        text_sha=hashlib.sha256(item.text.encode()).hexdigest()[:12],
    )


def _related_of(
    clusters: list[list[int]], centres: list[int], items: list[Item], scores: PairScores, settings: Settings
) -> dict[int, tuple[RelatedLink, ...]]:
    """Each cluster's related links (requirements homed elsewhere that it partly covers), sorted by ref."""
    out: dict[int, list[RelatedLink]] = {}
    for link in related_links(clusters, scores, settings):
        item, centre = items[link.item], items[centres[link.cluster]]
        relationship: Literal["subset", "intersect"] = (
            "subset" if _relationship(item.text, centre.text) == "subset" else "intersect"
        )
        out.setdefault(link.cluster, []).append(
            RelatedLink(
                ref=item.ref,
                title=item.title,
                relationship=relationship,
                strength=int(round(10 * link.fit)),
                similarity=round(min(1.0, link.fit), 3),
            )
        )
    return {c: tuple(sorted(links, key=lambda r: r.ref)) for c, links in out.items()}


def _own_text(item: Item) -> str:
    """The requirement's text without the `title. ` prefix the engine compares it with."""
    prefix = item.title.strip().rstrip(".") + ". "
    return item.text[len(prefix) :] if item.text.startswith(prefix) else item.text


def _relationship(text: str, centre: str) -> Relationship:
    """NIST set-theory label of a source relative to the standard, from word containment."""
    words = {w for w in normalise(text).split() if len(w) > 3}
    core = {w for w in normalise(centre).split() if len(w) > 3}
    if not words or not core:
        return "intersect"
    shared = len(words & core)
    inside, covers = shared / len(words), shared / len(core)
    if inside >= covers + 0.15:
        return "subset"
    if covers >= inside + 0.15:
        return "superset"
    return "intersect"


def _component(tags: list[str], centre_tags: tuple[str, ...]) -> QmsComponent:
    if not tags:
        return "control"
    counts = Counter(tags)
    top = max(counts.values())
    tied = [c for c in QMS_COMPONENTS if counts.get(c) == top]
    return cast(QmsComponent, next((t for t in centre_tags if t in tied), tied[0]))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _id_key(standard_id: str) -> tuple[str, int]:
    prefix, _, number = standard_id.rpartition("-")
    return (prefix, int(number)) if number.isdigit() else (standard_id, 0)


def assign_ids(clusters: list[list[str]], lock: IdsLock) -> tuple[list[str], IdsLock]:
    """Give each cluster the id of the locked standard it shares most refs with; new ids to the rest.

    Matching is one-to-one and greedy by overlap, ties broken by id then by the cluster's first ref, so the
    same inputs always give the same ids. Ids that lose their cluster are retired with the refs they held;
    a retired id comes back only for a cluster of exactly those refs, and is never given to another.
    """
    owner = {ref: entry.id for entry in lock.standards for ref in entry.refs}
    candidates: list[tuple[int, tuple[str, int], str, int, str]] = []
    for n, refs in enumerate(clusters):
        overlap = Counter(owner[r] for r in refs if r in owner)
        candidates.extend(
            (-count, _id_key(locked), min(refs), n, locked) for locked, count in overlap.items()
        )
    ids: list[str | None] = [None] * len(clusters)
    taken: set[str] = set()
    for _, _, _, n, locked in sorted(candidates):
        if ids[n] is None and locked not in taken:
            ids[n] = locked
            taken.add(locked)
    revivable = {frozenset(e.refs): e.id for e in lock.retired if e.refs}
    for n, refs in enumerate(clusters):
        if ids[n] is None and revivable.get(frozenset(refs), "") not in ("", *taken):
            ids[n] = revivable[frozenset(refs)]
    used = [_id_key(i)[1] for i in [*(e.id for e in lock.standards), *(e.id for e in lock.retired)]]
    next_number = max(used, default=0) + 1
    for n in sorted(range(len(clusters)), key=lambda n: min(clusters[n])):
        if ids[n] is None:
            ids[n] = f"{lock.prefix}-{next_number:03d}"
            next_number += 1
    final = [i for i in ids if i is not None]
    entries = tuple(
        sorted(
            (LockEntry(id=i, refs=tuple(sorted(refs))) for i, refs in zip(final, clusters, strict=True)),
            key=lambda e: _id_key(e.id),
        )
    )
    live = set(final)
    retired = sorted(
        [
            *(e for e in lock.retired if e.id not in live),
            *(e for e in lock.standards if e.id not in live),
        ],
        key=lambda e: _id_key(e.id),
    )
    return final, IdsLock(prefix=lock.prefix, standards=entries, retired=tuple(retired))


def _with_words(standard: Standard, words: dict[str, ContentWords]) -> Standard:
    """People's words from mappings/content.yaml in place of the drafts they replace."""
    return apply_words(standard, words[standard.id]) if standard.id in words else standard


def _input_hash(sets: Sequence[LoadedSet], mappings: Mappings, settings: Settings) -> str:
    digest = hashlib.sha256()
    for s in sets:
        digest.update(s.sha256.encode())
    for part in (mappings.domains, mappings.overrides, settings, mappings.content):
        digest.update(repr(part).encode())
    return "sha-" + digest.hexdigest()[:12]


__all__ = ["Consolidation", "Domain", "assign_ids", "check_traceability", "consolidate", "to_items"]
