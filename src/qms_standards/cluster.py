"""Stage 2b, group: average-linkage agglomeration over scored pairs, under must-link and cannot-link.

Average linkage (UPGMA) merges the two clusters whose members are, on average, most alike; unlike
connected components it does not chain A~B~C into one group when A and C are unrelated. Pairs that were
not scored (the nearest-neighbour path) count as similarity 0. Must-link groups start merged; clusters
joined by a cannot-link never merge. Ties break on the lower cluster number, so the result is deterministic.

Two implementations give the same merges, bit for bit: adjacency dicts and a heap for sparse input (the
nearest-neighbour path: about n x neighbours pairs), and dense matrices with each row's best partner cached
for all-pairs input (up to a few thousand items), where dicts would cost n^2 Python objects.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import numpy as np

from .models import Settings
from .progress import Progress, tick
from .similarity import Item, PairScores, score_pairs

_PAIR = np.dtype([("i", np.int64), ("j", np.int64), ("s", np.float64)])
_DENSE_MAX = 5000  # clusters: the dense path then holds three 5000^2 matrices (8 + 1 + 1 bytes a cell)


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
    progress: Progress | None = None,
) -> list[list[int]]:
    """Group items 0..n-1 into clusters.

    Args:
        n: Number of items.
        pairs: (i, j, similarity) for scored pairs; each unordered pair at most once.
        threshold: Stop merging when the best average similarity falls below this.
        target: Instead of a threshold, merge until this many clusters remain (or no merge is allowed).
        must_link: Groups of items that must share a cluster.
        cannot_link: Item pairs that must never share a cluster.
        progress: Called with (merges done, the most merges possible); with (most, most) at the end.

    Returns:
        Clusters as sorted lists of item numbers, ordered by their smallest member.
    """
    scored = np.fromiter(pairs, dtype=_PAIR)
    return _cluster(
        n,
        scored["i"],
        scored["j"],
        scored["s"],
        threshold=threshold,
        target=target,
        must_link=must_link,
        cannot_link=cannot_link,
        progress=progress,
    )


def _cluster(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    s: np.ndarray,
    *,
    threshold: float | None,
    target: int | None,
    must_link: Sequence[Sequence[int]] = (),
    cannot_link: Sequence[tuple[int, int]] = (),
    dense: bool | None = None,
    progress: Progress | None = None,
) -> list[list[int]]:
    """`cluster_requirements` over arrays; `dense` picks the implementation (default: by input density).

    `progress` is called with (merges done, the most merges possible), and with (most, most) at the end.
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
    m = len(members)
    # Under a threshold, a pair below it never merges: its average changes only when one side merges, and
    # then it is computed afresh. Both implementations leave such pairs out; that changes no merge.
    floor = threshold if target is None and threshold is not None else -math.inf
    if dense is None:
        dense = m <= _DENSE_MAX and len(i) >= m * (m - 1) // 4
    merge = _merge_dense if dense else _merge_sparse
    forbidden = [(of_item[a], of_item[b]) for a, b in cannot_link]
    most = max(0, m - (target or 1))  # merges until one cluster is left, or the target
    tick(progress, 0, most)

    def on_merge(count: int) -> None:
        tick(progress, m - count, most, every=256)

    alive = merge(members, np.asarray(of_item, dtype=np.int64), i, j, s, forbidden, floor, target, on_merge)
    tick(progress, most, most)
    clusters = [sorted(group) for group, live in zip(members, alive, strict=True) if live]
    return sorted(clusters, key=lambda group: group[0])


def _merge_sparse(
    members: list[list[int]],
    of_item: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    s: np.ndarray,
    cannot: list[tuple[int, int]],
    floor: float,
    target: int | None,
    on_merge: Callable[[int], None] = lambda count: None,
) -> list[bool]:
    """Adjacency dicts and a heap of (-average, a, b); cluster numbers grow, merged clusters get new ones.

    Appends merged clusters to `members`; returns which entries of `members` are still clusters. Calls
    `on_merge` with the number of clusters left after each merge.
    """
    size = [len(group) for group in members]
    sums: list[dict[int, float]] = [{} for _ in members]
    for a, b, score in zip(of_item[i].tolist(), of_item[j].tolist(), s.tolist(), strict=True):
        if a != b:
            sums[a][b] = sums[a].get(b, 0.0) + score
            sums[b][a] = sums[b].get(a, 0.0) + score
    forbidden: list[set[int]] = [set() for _ in members]
    for a, b in cannot:
        forbidden[a].add(b)
        forbidden[b].add(a)

    alive = [True] * len(members)
    heap = [
        (-score / (size[a] * size[b]), a, b)
        for a in range(len(members))
        for b, score in sums[a].items()
        if a < b and score / (size[a] * size[b]) >= floor
    ]
    heapq.heapify(heap)
    count = len(members)
    while heap and (target is None or count > target):
        _, a, b = heapq.heappop(heap)
        if not (alive[a] and alive[b]) or b in forbidden[a]:
            continue
        c = len(members)  # the merged cluster gets a new number; a and b retire
        members.append(members[a] + members[b])
        size.append(size[a] + size[b])
        alive[a] = alive[b] = False
        alive.append(True)
        # The larger half's dict becomes the merged one and the smaller is added in (x + y == y + x exactly,
        # so the sums match the dense path's bit for bit). Entries for retired clusters are left where they
        # are and skipped here, which spares two deletions per neighbour and merge.
        merged, smaller = (sums[a], sums[b]) if len(sums[a]) >= len(sums[b]) else (sums[b], sums[a])
        for k, score in smaller.items():
            merged[k] = merged.get(k, 0.0) + score
        sums[a], sums[b] = {}, {}
        sums.append(merged)
        forbidden.append((forbidden[a] | forbidden[b]) - {a, b})
        for k in forbidden[c]:
            forbidden[k].discard(a)
            forbidden[k].discard(b)
            forbidden[k].add(c)
        retired = [k for k in merged if not alive[k]]
        for k in retired:
            del merged[k]
        for k, score in merged.items():
            sums[k][c] = score
            if score / (size[c] * size[k]) >= floor:
                heapq.heappush(heap, (-score / (size[c] * size[k]), min(k, c), max(k, c)))
        count -= 1
        on_merge(count)
    return alive


def _merge_dense(
    members: list[list[int]],
    of_item: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    s: np.ndarray,
    cannot: list[tuple[int, int]],
    floor: float,
    target: int | None,
    on_merge: Callable[[int], None] = lambda count: None,
) -> list[bool]:
    """The same merges as `_merge_sparse`, on m x m matrices: sums, which pairs were scored, cannot-links.

    Slots hold clusters; a merged cluster takes the slot of its lower-numbered half and the next cluster
    number. Each row caches its best partner: the highest average, ties to the lowest partner number, which
    is the heap's (min, max) order too. After a merge only the merged row and the rows whose best partner
    merged are searched again; every other row just meets the merged cluster as one new candidate.
    """
    m = len(members)
    a, b = of_item[i], of_item[j]
    between = a != b
    a, b, score = a[between], b[between], s[between]
    sums = np.zeros((m, m))
    np.add.at(sums, (a, b), score)  # one pair at a time, in pair order, as the sparse path adds them
    np.add.at(sums, (b, a), score)
    scored = np.zeros((m, m), dtype=bool)
    scored[a, b] = scored[b, a] = True  # an unscored pair is never a candidate, as in the sparse path
    blocked = np.zeros((m, m), dtype=bool)
    for x, y in cannot:
        blocked[x, y] = blocked[y, x] = True
    size = np.array([len(group) for group in members], dtype=np.int64)
    number = np.arange(m, dtype=np.int64)
    live = np.ones(m, dtype=bool)
    best = np.full(m, -np.inf)
    partner = np.full(m, -1, dtype=np.int64)

    def search(row: int) -> None:
        candidates = scored[row] & ~blocked[row] & live
        candidates[row] = False
        columns = np.flatnonzero(candidates)
        average = sums[row, columns] / (size[row] * size[columns])
        keep = average >= floor
        columns, average = columns[keep], average[keep]
        if not len(columns):
            best[row], partner[row] = -np.inf, -1
            return
        top = average.max()
        tied = columns[average == top]
        best[row], partner[row] = top, tied[np.argmin(number[tied])]

    for row in range(m):
        search(row)
    count, next_number = m, m
    while target is None or count > target:
        top = best.max()
        if top == -np.inf:
            break
        rows = np.flatnonzero(best == top)
        low = np.minimum(number[rows], number[partner[rows]])
        high = np.maximum(number[rows], number[partner[rows]])
        pick = int(rows[np.lexsort((high, low))[0]])
        x, y = sorted((pick, int(partner[pick])), key=lambda slot: number[slot])
        members[x], members[y] = members[x] + members[y], []
        sums[x] += sums[y]
        scored[x] |= scored[y]
        blocked[x] |= blocked[y]
        for matrix in (sums, scored, blocked):
            matrix[:, x] = matrix[x]
        size[x] += size[y]
        number[x], next_number = next_number, next_number + 1
        live[y], best[y], partner[y] = False, -np.inf, -1
        count -= 1
        on_merge(count)
        stale = np.flatnonzero(live & ((partner == x) | (partner == y)))
        for row in {x, *stale.tolist()}:
            search(row)
        # Any other row: the merged cluster has the highest number, so it wins only on a higher average.
        others = live.copy()
        others[stale] = others[x] = False
        average = sums[:, x] / (size * size[x])
        better = others & scored[:, x] & ~blocked[:, x] & (average >= floor) & (average > best)
        best[better], partner[better] = average[better], x
    return live.tolist()


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
    progress: Progress | None = None,
    by: Literal["score", "match"] = "score",
    bonus: np.ndarray | None = None,
) -> tuple[list[list[int]], PairScores]:
    """Score the items' pairs (unless given) and cluster them.

    Cuts at `threshold` (default: the settings' consolidation threshold), or at `settings.target` clusters
    when that is set and no threshold is passed. `by` picks the pair score: `score` (fit in one standard)
    or `match` (the same requirement). `progress` follows the merges (see `_cluster`). `bonus`, one value
    per scored pair, is added to the pair score for cutting only (see `framework.agreed_pairs`).
    """
    scores = scores if scores is not None else score_pairs(items, vectors, title_vectors, settings)
    target = settings.target if threshold is None else None
    clusters = _cluster(
        len(items),
        scores.i,
        scores.j,
        (scores.score if by == "score" else scores.match) + (0.0 if bonus is None else bonus),
        threshold=threshold if threshold is not None else settings.threshold,
        target=target,
        must_link=must_link,
        cannot_link=cannot_link,
        progress=progress,
    )
    return clusters, scores
