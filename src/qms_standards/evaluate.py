"""Score the engine's clusters against a gold crosswalk: pairwise and B-cubed precision, recall, F1."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .errors import GoldError, Problem
from .progress import Report, step
from .similarity import Item
from .yamlsource import read_yaml, validate_document

LEVELS: dict[str, frozenset[str]] = {
    "strict": frozenset({"equal"}),
    "lenient": frozenset({"equal", "subset", "superset"}),
    "any": frozenset({"equal", "subset", "superset", "intersect"}),
}


class _Lenient(BaseModel):
    # Gold files come from outside the project and carry provenance keys we do not need: read what we use.
    model_config = ConfigDict(extra="ignore", frozen=True)


class GoldRequirement(_Lenient):
    """A requirement of a gold crosswalk."""

    id: str
    set: str
    ref_id: str
    title: str | None = None
    statement: str | None = None
    text: str
    section: str | None = None


class GoldCrosswalk(_Lenient):
    """A gold crosswalk: requirements from two or more sets and expert-labelled pairs."""

    name: str
    requirements: tuple[GoldRequirement, ...] = Field(min_length=2)
    gold_pairs: tuple[tuple[str, str, Literal["equal", "subset", "superset", "intersect"]], ...]


class Scores(BaseModel):
    """Precision, recall and F1 at one level."""

    model_config = ConfigDict(frozen=True)
    precision: float
    recall: float
    f1: float


class Evaluation(BaseModel):
    """Every score of one clustering against a gold crosswalk."""

    model_config = ConfigDict(frozen=True)
    gold: str
    requirements: int
    clusters: int
    threshold: float | None
    pairwise: dict[str, Scores]
    bcubed: dict[str, Scores]


def load_gold(path: Path) -> GoldCrosswalk:
    """Read a gold crosswalk file and check its pairs name its requirements.

    Raises:
        GoldError: listing every problem with its line.
    """
    problems: list[Problem] = []
    if not path.exists():
        raise GoldError("no such file", file=path, hint="Give the path of a gold crosswalk YAML file.")
    doc = read_yaml(path, problems)
    gold = validate_document(doc, GoldCrosswalk, problems) if doc else None
    if gold is not None and doc is not None:
        ids = {r.id for r in gold.requirements}
        seen: set[str] = set()
        for index, requirement in enumerate(gold.requirements):
            if requirement.id in seen:
                problems.append(
                    Problem(
                        f"duplicate requirement id '{requirement.id}'",
                        path,
                        doc.line_of(("requirements", index, "id")),
                        f"requirements[{index}].id",
                        "Requirement ids must be unique.",
                    )
                )
            seen.add(requirement.id)
        for index, (a, b, _) in enumerate(gold.gold_pairs):
            for ref in (a, b):
                if ref not in ids:
                    problems.append(
                        Problem(
                            f"gold pair names unknown requirement '{ref}'",
                            path,
                            doc.line_of(("gold_pairs", index)),
                            f"gold_pairs[{index}]",
                            "Every id in gold_pairs must be listed under requirements.",
                        )
                    )
    if problems or gold is None:
        raise GoldError(f"{len(problems)} problem(s) in gold crosswalk", problems=problems)
    return gold


def gold_items(gold: GoldCrosswalk) -> list[Item]:
    """The gold requirements as engine items, in a stable order (by id)."""
    items = [
        Item(
            ref=r.id,
            set_id=r.set,
            req_id=r.ref_id,
            title=r.title or r.statement or r.text,
            text=r.text,
            section=r.section,
        )
        for r in gold.requirements
    ]
    return sorted(items, key=lambda it: it.ref)


def evaluate_clusters(
    gold: GoldCrosswalk, clusters: Iterable[Iterable[str]], threshold: float | None
) -> Evaluation:
    """Score predicted clusters (lists of requirement ids) against the gold pairs."""
    set_of = {r.id: r.set for r in gold.requirements}
    predicted = [sorted(c) for c in clusters]
    cluster_of = {ref: k for k, c in enumerate(predicted) for ref in c}
    pred_pairs = {
        (a, b) for c in predicted for x, a in enumerate(c) for b in c[x + 1 :] if set_of[a] != set_of[b]
    }
    pairwise, bcubed = {}, {}
    for level, relations in LEVELS.items():
        positives = {tuple(sorted((a, b))) for a, b, rel in gold.gold_pairs if rel in relations}
        hits = len(pred_pairs & positives)
        pairwise[level] = _scores(hits, len(pred_pairs), len(positives))
        bcubed[level] = _bcubed(list(set_of), cluster_of, predicted, positives)
    return Evaluation(
        gold=gold.name,
        requirements=len(set_of),
        clusters=len(predicted),
        threshold=threshold,
        pairwise=pairwise,
        bcubed=bcubed,
    )


def _scores(hits: int, predicted: int, actual: int) -> Scores:
    precision = hits / predicted if predicted else 0.0
    recall = hits / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4))


def _bcubed(
    ids: list[str], cluster_of: dict[str, int], predicted: list[list[str]], positives: set[Any]
) -> Scores:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in sorted(positives):
        parent[find(a)] = find(b)
    gold_members: dict[str, set[str]] = {}
    for i in ids:
        gold_members.setdefault(find(i), set()).add(i)
    precision = recall = 0.0
    for i in ids:
        mine = set(predicted[cluster_of[i]])
        truth = gold_members[find(i)]
        overlap = len(mine & truth)
        precision += overlap / len(mine)
        recall += overlap / len(truth)
    p, r = precision / len(ids), recall / len(ids)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Scores(precision=round(p, 4), recall=round(r, 4), f1=round(f1, 4))


SWEEP = tuple(round(0.30 + 0.025 * k, 3) for k in range(27))  # 0.30 .. 0.95
RECALL_AT = (1, 5, 10)


class CrosswalkReport(BaseModel):
    """What the engine gives users, scored on one gold crosswalk (the fields of `qms evaluate --json`)."""

    model_config = ConfigDict(frozen=True)
    gold: str
    requirements: int
    standards: Evaluation  # the grouping `qms consolidate` forms, cut at `threshold`
    equal: Evaluation  # the grouping of requirements labelled `equal`, cut at `match_threshold`
    links: dict[str, Scores]  # asserted cross-set links (shared home, or related) vs the gold pairs
    related: int  # how many related links the engine asserted
    recall_at: dict[str, float]  # share of gold pairs where one is among the other's k best (other sets)
    sweep: tuple[Evaluation, ...] = ()  # the standards grouping at other thresholds


@dataclass
class CrosswalkResult:
    """A crosswalk's report with the groupings themselves (lists of ids)."""

    report: CrosswalkReport
    standards: list[list[str]]
    equal: list[list[str]]


def run_evaluation(
    gold: GoldCrosswalk,
    settings: Any,  # models.Settings
    embedder: Any,  # embedding.Embedder
    cache: Any = None,  # embedding.EmbeddingCache | None
    *,
    thresholds: Sequence[float] = (),
    progress: Report | None = None,
) -> CrosswalkResult:
    """Run the engine on a gold crosswalk as `qms consolidate` would, embedding once.

    Scores the standards grouping (cut at `settings.threshold`, or `settings.target` standards), the equal
    grouping (cut at `settings.match_threshold` on the match score), the links the engine asserts (members
    of one standard, plus related links) and recall at k of the pair scores alone.

    Args:
        gold: The crosswalk.
        settings: Engine settings.
        embedder: Turns texts into vectors.
        cache: Embedding cache, or None.
        thresholds: Extra standards thresholds to score (`--sweep`).
        progress: Progress reporter.
    """
    from .cluster import dedupe
    from .related import related_links
    from .similarity import embed_items, score_pairs

    items = gold_items(gold)
    vectors, title_vectors, _ = embed_items(items, embedder, cache, step(progress, "Embedding"))
    scores = score_pairs(items, vectors, title_vectors, settings, step(progress, "Scoring pairs"))

    def named(clusters: list[list[int]]) -> list[list[str]]:
        return [[items[k].ref for k in c] for c in clusters]

    standards, _ = dedupe(items, vectors, title_vectors, settings, scores=scores)
    equal, _ = dedupe(
        items, vectors, title_vectors, settings, threshold=settings.match_threshold, scores=scores, by="match"
    )
    related = related_links(standards, scores, settings)
    swept = []
    for t in thresholds:
        at, _ = dedupe(items, vectors, title_vectors, settings, threshold=t, scores=scores)
        swept.append(evaluate_clusters(gold, named(at), t))
    cut = None if settings.target else settings.threshold
    report = CrosswalkReport(
        gold=gold.name,
        requirements=len(items),
        standards=evaluate_clusters(gold, named(standards), cut),
        equal=evaluate_clusters(gold, named(equal), settings.match_threshold),
        links=_link_scores(gold, items, standards, [(r.item, r.cluster) for r in related]),
        related=len(related),
        recall_at=_recall_at(gold, items, scores),
        sweep=tuple(swept),
    )
    return CrosswalkResult(report, named(standards), named(equal))


def _positives(gold: GoldCrosswalk, level: str) -> set[tuple[str, str]]:
    return {(min(a, b), max(a, b)) for a, b, rel in gold.gold_pairs if rel in LEVELS[level]}


def _link_scores(
    gold: GoldCrosswalk, items: list[Item], clusters: list[list[int]], related: list[tuple[int, int]]
) -> dict[str, Scores]:
    """Precision and recall of the cross-set pairs the engine links: one home, or related to the other's."""
    home = {k: n for n, c in enumerate(clusters) for k in c}
    linked: set[tuple[str, str]] = set()
    for c in clusters:
        for x, a in enumerate(c):
            for b in c[x + 1 :]:
                if items[a].set_id != items[b].set_id:
                    linked.add((min(items[a].ref, items[b].ref), max(items[a].ref, items[b].ref)))
    for k, cluster in related:
        for b in clusters[cluster]:
            if items[b].set_id != items[k].set_id and home[b] != home[k]:
                linked.add((min(items[k].ref, items[b].ref), max(items[k].ref, items[b].ref)))
    out = {}
    for level in LEVELS:
        positives = _positives(gold, level)
        out[level] = _scores(len(linked & positives), len(linked), len(positives))
    return out


def _recall_at(gold: GoldCrosswalk, items: list[Item], scores: Any) -> dict[str, float]:
    """Share of gold pairs (any level) where either one is among the other's k best-scored in other sets."""
    index = {it.ref: k for k, it in enumerate(items)}
    sets = np.array([it.set_id for it in items])
    cross = sets[scores.i] != sets[scores.j]
    i, j, s = scores.i[cross], scores.j[cross], scores.score[cross]
    owner, other, value = np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([s, s])
    order = np.lexsort((other, -value, owner))  # per owner, best first, ties to the lower item
    owner, other = owner[order], other[order]
    start = np.searchsorted(owner, np.arange(len(items)))
    rank = {
        (int(a), int(b)): r
        for a, b, r in zip(owner, other, np.arange(len(owner)) - start[owner], strict=True)
    }
    pairs = [(index[a], index[b]) for a, b in sorted(_positives(gold, "any"))]
    out = {}
    for k in RECALL_AT:
        hits = sum(1 for a, b in pairs if rank.get((a, b), k) < k or rank.get((b, a), k) < k)
        out[str(k)] = round(hits / len(pairs), 4) if pairs else 0.0
    return out


class HeldOut(BaseModel):
    """Leave-one-crosswalk-out: the standards threshold chosen on the others, scored on the one left out."""

    model_config = ConfigDict(frozen=True)
    gold: str
    threshold: float  # coarsest cut within 0.02 of the best mean any-level F1 on the other crosswalks
    f1: float  # the left-out crosswalk's any-level pairwise F1 at that threshold
    default_f1: float  # ... and at the default threshold


def leave_one_out(reports: Sequence[CrosswalkReport]) -> list[HeldOut]:
    """For each crosswalk, pick the standards threshold on the others (from their sweeps) and score it."""
    out = []
    for held in reports:
        others = [r for r in reports if r is not held]
        if not others or not held.sweep:
            continue
        by_t = {e.threshold: e.pairwise["any"].f1 for e in held.sweep if e.threshold is not None}
        mean = {
            t: sum(_at(r, t) for r in others) / len(others)
            for t in by_t
            if all(_at(r, t) is not None for r in others)
        }
        if not mean:
            continue
        # The calibration's rule (qms_standards.calibrate): the coarsest cut within 0.02 of the best.
        best = min(t for t in mean if mean[t] >= max(mean.values()) - 0.02)
        out.append(
            HeldOut(
                gold=held.gold, threshold=best, f1=by_t[best], default_f1=held.standards.pairwise["any"].f1
            )
        )
    return out


def _at(report: CrosswalkReport, threshold: float) -> Any:
    return next((e.pairwise["any"].f1 for e in report.sweep if e.threshold == threshold), None)
