"""Stage 2b, group: average-linkage agglomeration over scored pairs, under must-link and cannot-link.

Average linkage (UPGMA) merges the two clusters whose members are, on average, most alike; unlike
connected components it does not chain A~B~C into one group when A and C are unrelated. Pairs that were
not scored (the nearest-neighbour path) count as similarity 0. Must-link groups start merged; clusters
joined by a cannot-link never merge. Ties break on the lower cluster number, so the result is deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

import numpy as np

from .models import Settings
from .similarity import Item, PairScores, score_pairs


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster_requirements(
    n: int,
    pairs: Iterable[tuple[int, int, float]],
    *,
    threshold: float | None,
    target: int | None = None,
    must_link: Sequence[Sequence[int]] = (),
    cannot_link: Sequence[tuple[int, int]] = (),
) -> list[list[int]]:
    """Group items 0..n-1 into clusters.

    Args:
        n: Number of items.
        pairs: (i, j, similarity) for scored pairs; each unordered pair at most once.
        threshold: Stop merging when the best average similarity falls below this.
        target: Instead of a threshold, merge until this many clusters remain (or no merge is allowed).
        must_link: Groups of items that must share a cluster.
        cannot_link: Item pairs that must never share a cluster.

    Returns:
        Clusters as sorted lists of item numbers, ordered by their smallest member.
    """
    groups = _UnionFind(n)
    for group in must_link:
        for other in group[1:]:
            groups.union(group[0], other)
    root_to_cluster: dict[int, int] = {}
    members: list[list[int]] = []
    of_item = [0] * n
    for item in range(n):
        root = groups.find(item)
        if root not in root_to_cluster:
            root_to_cluster[root] = len(members)
            members.append([])
        of_item[item] = root_to_cluster[root]
        members[of_item[item]].append(item)

    size = [len(m) for m in members]
    sums: list[dict[int, float]] = [{} for _ in members]
    for a, b, s in pairs:
        ca, cb = of_item[a], of_item[b]
        if ca != cb:
            sums[ca][cb] = sums[ca].get(cb, 0.0) + s
            sums[cb][ca] = sums[cb].get(ca, 0.0) + s
    forbidden: list[set[int]] = [set() for _ in members]
    for a, b in cannot_link:
        ca, cb = of_item[a], of_item[b]
        forbidden[ca].add(cb)
        forbidden[cb].add(ca)

    alive = [True] * len(members)
    heap = [
        (-s / (size[a] * size[b]), a, b) for a in range(len(members)) for b, s in sums[a].items() if a < b
    ]
    heapq.heapify(heap)
    count = len(members)
    while heap and (target is None or count > target):
        negative, a, b = heapq.heappop(heap)
        if not (alive[a] and alive[b]) or b in forbidden[a]:
            continue
        if target is None and threshold is not None and -negative < threshold:
            break
        c = len(members)  # the merged cluster gets a new number; a and b retire
        members.append(members[a] + members[b])
        size.append(size[a] + size[b])
        alive[a] = alive[b] = False
        alive.append(True)
        merged: dict[int, float] = {}
        for source in (sums[a], sums[b]):
            for k, s in source.items():
                if k not in (a, b) and alive[k]:
                    merged[k] = merged.get(k, 0.0) + s
        sums.append(merged)
        forbidden.append((forbidden[a] | forbidden[b]) - {a, b})
        for k in forbidden[c]:
            forbidden[k].discard(a)
            forbidden[k].discard(b)
            forbidden[k].add(c)
        for k, s in merged.items():
            sums[k].pop(a, None)
            sums[k].pop(b, None)
            sums[k][c] = s
            heapq.heappush(heap, (-s / (size[c] * size[k]), min(k, c), max(k, c)))
        sums[a], sums[b] = {}, {}
        count -= 1
    clusters = [sorted(members[c]) for c in range(len(members)) if alive[c]]
    return sorted(clusters, key=lambda m: m[0])


def dedupe(
    items: list[Item],
    vectors: np.ndarray,
    title_vectors: np.ndarray,
    settings: Settings,
    *,
    threshold: float | None = None,
    must_link: Sequence[Sequence[int]] = (),
    cannot_link: Sequence[tuple[int, int]] = (),
    scores: PairScores | None = None,
) -> tuple[list[list[int]], PairScores]:
    """Score the items' pairs (unless given) and cluster them.

    Cuts at `threshold` (default: the settings' consolidation threshold), or at `settings.target` clusters
    when that is set and no threshold is passed.
    """
    scores = scores if scores is not None else score_pairs(items, vectors, title_vectors, settings)
    target = settings.target if threshold is None else None
    clusters = cluster_requirements(
        len(items),
        zip(scores.i.tolist(), scores.j.tolist(), scores.score.tolist(), strict=True),
        threshold=threshold if threshold is not None else settings.threshold,
        target=target,
        must_link=must_link,
        cannot_link=cannot_link,
    )
    return clusters, scores
