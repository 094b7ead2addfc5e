"""Related links: requirements homed in one standard that another standard also partly covers.

Every requirement has one home standard. A broad requirement (CQC regulation 12: risk assessment,
competence, premises, medicines, infection control) also fits other standards partly. Its fit to a
standard other than its home is its average pair score to that standard's members (unscored pairs count
0), the same measure average linkage merges on. A standard relates to a requirement when that fit reaches
`related_threshold`, at most `related_per_requirement` standards per requirement, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .models import Settings
from .similarity import PairScores


@dataclass(frozen=True)
class Related:
    """Requirement `item` partly covered by cluster `cluster` (not its home), with its average fit."""

    item: int
    cluster: int
    fit: float


def related_links(clusters: Sequence[Sequence[int]], scores: PairScores, settings: Settings) -> list[Related]:
    """The related links of every item, sorted by item then best fit first (ties to the lower cluster)."""
    n = scores.n
    home = np.full(n, -1, dtype=np.int64)
    for number, members in enumerate(clusters):
        home[list(members)] = number
    size = np.bincount(home[home >= 0], minlength=len(clusters)).astype(np.float64)
    # Sum each item's scores to each other cluster: both directions of every scored pair.
    item = np.concatenate([scores.i, scores.j])
    other = np.concatenate([home[scores.j], home[scores.i]])
    value = np.concatenate([scores.score, scores.score])
    away = (other >= 0) & (other != home[item])
    item, other, value = item[away], other[away], value[away]
    if not len(item):
        return []
    keys, inverse = np.unique(item * len(clusters) + other, return_inverse=True)
    sums = np.bincount(inverse, weights=value)
    owner, cluster = keys // len(clusters), keys % len(clusters)
    fit = sums / size[cluster]
    keep = fit >= settings.related_threshold
    owner, cluster, fit = owner[keep], cluster[keep], fit[keep]
    order = np.lexsort((cluster, -fit, owner))
    out: list[Related] = []
    taken: dict[int, int] = {}
    for k in order.tolist():
        a = int(owner[k])
        if taken.get(a, 0) < settings.related_per_requirement:
            taken[a] = taken.get(a, 0) + 1
            out.append(Related(a, int(cluster[k]), float(fit[k])))
    return out
