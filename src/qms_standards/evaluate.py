"""Score the engine's clusters against a gold crosswalk: pairwise and B-cubed precision, recall, F1."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

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


SWEEP = tuple(round(0.30 + 0.05 * k, 2) for k in range(14))  # 0.30 .. 0.95


def run_evaluation(
    gold: GoldCrosswalk,
    settings: Any,  # models.Settings
    embedder: Any,  # embedding.Embedder
    cache: Any = None,  # embedding.EmbeddingCache | None
    *,
    thresholds: Sequence[float] = (),
    progress: Report | None = None,
) -> tuple[Evaluation, list[list[str]], list[Evaluation]]:
    """Run the engine on a gold crosswalk, embedding once.

    The main evaluation cuts at `settings.match_threshold` (the level at which the engine calls two
    requirements the same, which is what the gold pairs label).

    Returns:
        The main evaluation, its predicted clusters (lists of ids), and one evaluation per extra threshold.
    """
    from .cluster import dedupe
    from .similarity import embed_items, score_pairs

    items = gold_items(gold)
    vectors, title_vectors, _ = embed_items(items, embedder, cache, step(progress, "Embedding"))
    scores = score_pairs(items, vectors, title_vectors, settings, step(progress, "Scoring pairs"))

    def at(threshold: float) -> tuple[Evaluation, list[list[str]]]:
        clusters, _ = dedupe(items, vectors, title_vectors, settings, threshold=threshold, scores=scores)
        named = [[items[k].ref for k in c] for c in clusters]
        return evaluate_clusters(gold, named, threshold), named

    main, clusters = at(settings.match_threshold)
    return main, clusters, [at(t)[0] for t in thresholds]
