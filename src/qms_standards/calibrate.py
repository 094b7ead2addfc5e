"""Reproduce the grouping defaults from labelled crosswalks: `qms evaluate FOLDER --calibrate`.

The rule, so a reader can check it:
1. For every point of a small grid and every standards cut in `CUTS`, score the standards grouping on each
   crosswalk (any-level pairwise F1, since every crosswalk labels at least `intersect`). A point is the
   grouping weights (meaning, title meaning, subject words, title words; they sum to 1), the penalty for
   one set's requirements under different headings (`HEADING`) and the floor of the local level (`FLOORS`).
2. A default must hold on every crosswalk, so a point is judged by its worst crosswalk at its best cut
   (ties: the grid's order). The weights are chosen first (no penalty, the median floor); then the
   penalty and the floor at those weights. Choosing all six together picks on noise: on the paraphrase
   crosswalk F1 moves by 0.03 between neighbouring points, and the joint choice scored worse there when
   that crosswalk was left out (0.248 against 0.267).
3. The cut: the coarsest (lowest) one whose worst-crosswalk F1 is within `TOLERANCE` of the best. Below
   the best the figure is flat on the paraphrase crosswalk, and a consolidation exists to consolidate.
4. The related-link cut: the one whose worst-crosswalk link F1 (shared home or related link) is highest.
Plain MiniLM cosine with average linkage, at its own best cut per crosswalk, is printed beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .evaluate import GoldCrosswalk, _link_scores, evaluate_clusters, gold_items
from .models import Grouping, Settings

CUTS = tuple(round(0.35 + 0.025 * k, 3) for k in range(11))  # 0.35 .. 0.60
RELATED_CUTS = (0.45, 0.5, 0.55, 0.6, 1.0)  # 1.0: no related links
TOLERANCE = 0.02
# A point of the grid: grouping weights (meaning, title meaning, subject, title words), penalty, floor.
Point = tuple[float, float, float, float, float, int]
# Taken off the fit of a set's own requirements under different headings. The grid stops at 0.3: the
# crosswalks score cross-set pairs only, so they favour any penalty that keeps a set's items apart, while a
# consolidation still needs a set's closely related items (under any heading) to be able to share a standard.
HEADING = (0.0, 0.1, 0.2, 0.3)
# The percentile below which no item's local level is taken (`similarity._local_level`).
FLOORS = (50, 60, 70)
WEIGHTS = tuple(
    (m, t, s, round(1.0 - m - t - s, 2), h, f)
    for h in HEADING
    for f in FLOORS
    for m in (0.4, 0.5, 0.6)
    for t in (0.1, 0.2, 0.3)
    for s in (0.1, 0.2, 0.3)
    if 0.0 <= round(1.0 - m - t - s, 2) <= 0.2
)


@dataclass(frozen=True)
class Calibration:
    """What the rule chose, and the figures it chose from."""

    grouping: Grouping
    threshold: float
    related_threshold: float
    worst_f1: float  # the worst crosswalk's any-level F1 at the chosen weights and cut
    per_crosswalk: dict[str, float]  # each crosswalk's any-level F1 there
    plain_cosine: dict[str, tuple[float, float]]  # crosswalk -> (best cut, any-level F1) of plain cosine
    held_out: dict[str, tuple[float, float]]  # crosswalk -> (cut chosen on the others, its F1 here)


def calibrate(golds: Sequence[GoldCrosswalk], embedder: Any, cache: Any = None) -> Calibration:
    """Apply the rule in the module docstring to the crosswalks."""
    from .cluster import _cluster, dedupe
    from .related import related_links
    from .similarity import embed_items, score_pairs

    prepared = []
    for gold in golds:
        items = gold_items(gold)
        vectors, titles, _ = embed_items(items, embedder, cache)
        prepared.append((gold, items, vectors, titles))

    def grouped(gold: GoldCrosswalk, items: list[Any], clusters: list[list[int]], cut: float) -> float:
        named = [[items[k].ref for k in c] for c in clusters]
        return evaluate_clusters(gold, named, cut).pairwise["any"].f1

    table: dict[Point, dict[float, list[float]]] = {}

    def figures(weights: Point) -> dict[float, list[float]]:
        """Any-level F1 per cut, one per crosswalk, for one point of the grid (computed once)."""
        if weights not in table:
            settings = Settings(grouping=_grouping(weights))
            by_cut: dict[float, list[float]] = {cut: [] for cut in CUTS}
            for gold, items, vectors, titles in prepared:
                scores = score_pairs(items, vectors, titles, settings)
                for cut in CUTS:
                    clusters, _ = dedupe(items, vectors, titles, settings, threshold=cut, scores=scores)
                    by_cut[cut].append(grouped(gold, items, clusters, cut))
            table[weights] = by_cut
        return table[weights]

    def best(candidates: Sequence[Point], which: Sequence[int]) -> Point:
        """The candidate whose best cut has the highest worst F1 over `which` (ties: the first)."""
        return max(candidates, key=lambda w: max(min(f[k] for k in which) for f in figures(w).values()))

    def choose(which: Sequence[int]) -> Point:
        """Step 2: the blend's weights (no heading penalty, median floor), then penalty and floor at them."""
        weights = best([w for w in WEIGHTS if w[4:] == (HEADING[0], FLOORS[0])], which)
        return best([w for w in WEIGHTS if w[:4] == weights[:4]], which)

    everyone = range(len(prepared))
    key = choose(everyone)
    grouping = _grouping(key)
    threshold = _cut(table[key], everyone)
    worst = {cut: min(f1s) for cut, f1s in table[key].items()}
    held_out = {}
    for h, (gold, *_) in enumerate(prepared):
        others = [k for k in range(len(prepared)) if k != h]
        if not others:
            continue
        chosen = choose(others)
        cut = _cut(table[chosen], others)
        held_out[gold.name] = (cut, table[chosen][cut][h])

    settings = Settings(grouping=grouping, threshold=threshold)
    link_f1: dict[float, list[float]] = {cut: [] for cut in RELATED_CUTS}
    for gold, items, vectors, titles in prepared:
        scores = score_pairs(items, vectors, titles, settings)
        clusters, _ = dedupe(items, vectors, titles, settings, scores=scores)
        for cut in RELATED_CUTS:
            related = related_links(clusters, scores, settings.model_copy(update={"related_threshold": cut}))
            links = _link_scores(gold, items, clusters, [(r.item, r.cluster) for r in related])
            link_f1[cut].append(links["any"].f1)
    related_cut = max(RELATED_CUTS, key=lambda cut: (min(link_f1[cut]), -cut))

    plain: dict[str, tuple[float, float]] = {}
    for gold, items, vectors, _ in prepared:
        i, j = np.triu_indices(len(items), k=1)
        cosine = (vectors @ vectors.T)[i, j].astype(np.float64)
        by_cut = {
            cut: grouped(gold, items, _cluster(len(items), i, j, cosine, threshold=cut, target=None), cut)
            for cut in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75)
        }
        cut = max(by_cut, key=lambda c: (by_cut[c], -c))
        plain[gold.name] = (cut, by_cut[cut])
    return Calibration(
        grouping=grouping,
        threshold=threshold,
        related_threshold=related_cut,
        worst_f1=worst[threshold],
        per_crosswalk={g.name: f for (g, *_), f in zip(prepared, table[key][threshold], strict=True)},
        plain_cosine=plain,
        held_out=held_out,
    )


def _grouping(point: Point) -> Grouping:
    meaning, title_meaning, subject, title_words, other_heading, floor = point
    return Grouping(
        meaning=meaning,
        title_meaning=title_meaning,
        subject=subject,
        title_words=title_words,
        other_heading=other_heading,
        floor=floor,
    )


def _cut(by_cut: dict[float, list[float]], which: Sequence[int] | range) -> float:
    """The coarsest cut whose worst F1 over the crosswalks `which` is within TOLERANCE of the best."""
    worst = {cut: min(f1s[k] for k in which) for cut, f1s in by_cut.items()}
    return min(cut for cut in CUTS if worst[cut] >= max(worst.values()) - TOLERANCE)
