"""Measure a review on a gold crosswalk: a simulated reviewer answers the top rows from the gold pairs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from .models import Model, Settings
from .review import DECISIONS, ReviewRow, rank_candidates


class SimulationStep(Model):
    """Strict pairwise scores after a simulated reviewer answered the top `answers` rows."""

    answers: int
    same: int
    different: int
    skipped: int
    precision: float
    recall: float
    f1: float


class ReviewSimulation(Model):
    """Strict pairwise scores before (`answers` 0) and after simulated reviews."""

    gold: str
    threshold: float
    partial: str
    before: SimulationStep
    after: tuple[SimulationStep, ...]


def gold_answer(relation: str | None, partial: str = "different") -> str:
    """A simulated reviewer's answer: equal -> same, no gold pair -> different, the others -> `partial`."""
    if relation is None:
        return "different"
    return "same" if relation == "equal" else partial


def simulate_review(
    gold: Any,
    settings: Settings,
    embedder: Any,
    cache: Any = None,
    answers: Sequence[int] = (20, 50),
    *,
    partial: str = "different",
) -> ReviewSimulation:
    """Measure a review: strict pairwise P/R/F1 on a gold crosswalk before and after answering the top rows.

    The crosswalk is clustered at the match threshold (gold pairs label equivalence), a simulated reviewer
    answers the top review rows from the gold pairs (`gold_answer`), the answers become must-links and
    cannot-links, and the crosswalk is clustered again.

    Args:
        gold: An `evaluate.GoldCrosswalk`.
        settings: Engine settings.
        embedder: The embedder (the real model for a meaningful number).
        cache: Embedding cache, or None.
        answers: How many top rows the reviewer answers, one simulation each.
        partial: The answer for subset, superset and intersect pairs (same, different or skip).
    """
    from .cluster import dedupe
    from .evaluate import evaluate_clusters, gold_items
    from .similarity import embed_items, score_pairs

    items = gold_items(gold)
    vectors, title_vectors, _ = embed_items(items, embedder, cache)
    # The simulation scores the equal grouping, so it ranks and cuts on the match score throughout.
    scores = score_pairs(items, vectors, title_vectors, settings)
    scores = dataclasses.replace(scores, score=scores.match)
    cut, index = settings.match_threshold, {it.ref: k for k, it in enumerate(items)}
    relation = {frozenset((a, b)): rel for a, b, rel in gold.gold_pairs}

    def step(rows: Sequence[ReviewRow]) -> SimulationStep:
        said = [
            (r.ref_a, r.ref_b, gold_answer(relation.get(frozenset((r.ref_a, r.ref_b))), partial))
            for r in rows
        ]
        must, cannot = _constraints([(index[a], index[b], answer) for a, b, answer in said])
        clusters, _ = dedupe(
            items,
            vectors,
            title_vectors,
            settings,
            threshold=cut,
            must_link=must,
            cannot_link=cannot,
            scores=scores,
        )
        strict = evaluate_clusters(gold, [[items[k].ref for k in c] for c in clusters], cut).pairwise[
            "strict"
        ]
        same, different, skipped = (sum(1 for *_, d in said if d == kind) for kind in DECISIONS)
        return SimulationStep(
            answers=len(rows), same=same, different=different, skipped=skipped, **strict.model_dump()
        )

    clusters, _ = dedupe(items, vectors, title_vectors, settings, threshold=cut, scores=scores)
    ids = {k: f"C-{n + 1:03d}" for n, members in enumerate(clusters) for k in members}
    standard_of = [ids[k] for k in range(len(items))]
    rows = rank_candidates(
        items,
        scores,
        clusters,
        standard_of,
        cut,
        lambda a, b: False,
        max(answers, default=1),
    )
    after = tuple(step(rows[:n]) for n in answers)
    return ReviewSimulation(gold=gold.name, threshold=cut, partial=partial, before=step([]), after=after)


def _constraints(said: Sequence[tuple[int, int, str]]) -> tuple[list[list[int]], list[tuple[int, int]]]:
    """Answers as constraints, in rank order; one contradicting earlier ones is dropped (apply refuses it)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    must: list[list[int]] = []
    cannot: list[tuple[int, int]] = []
    for a, b, decision in said:
        if decision == "same" and not any({find(x), find(y)} == {find(a), find(b)} for x, y in cannot):
            parent[find(b)] = find(a)
            must.append([a, b])
        elif decision == "different" and find(a) != find(b):
            cannot.append((a, b))
    return must, cannot
