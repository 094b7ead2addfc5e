import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from qms_standards.cluster import cluster_requirements


def _pairs(matrix: np.ndarray):
    n = len(matrix)
    return [(i, j, float(matrix[i, j])) for i in range(n) for j in range(i + 1, n)]


def _random_similarity(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Distinct values avoid ties, where two correct algorithms may merge in different orders.
    values = rng.permutation(n * (n - 1) // 2) / (n * (n - 1) / 2)
    matrix = np.zeros((n, n))
    matrix[np.triu_indices(n, 1)] = values
    return matrix + matrix.T


def _as_partition(clusters):
    return sorted(tuple(sorted(c)) for c in clusters)


@pytest.mark.parametrize("seed", range(12))
def test_average_linkage_matches_scipy(seed: int) -> None:
    n = 4 + seed
    similarity = _random_similarity(n, seed)
    threshold = 0.55
    ours = cluster_requirements(n, _pairs(similarity), threshold=threshold)
    distance = 1.0 - similarity
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=1.0 - threshold, criterion="distance")
    theirs = [[i for i in range(n) if labels[i] == label] for label in set(labels)]
    assert _as_partition(ours) == _as_partition(theirs)


def test_average_linkage_does_not_chain() -> None:
    # a~b and b~c are strong, a~c unrelated: single linkage would chain all three.
    pairs = [(0, 1, 0.9), (1, 2, 0.8), (0, 2, 0.0)]
    assert cluster_requirements(3, pairs, threshold=0.6) == [[0, 1], [2]]


def test_must_link_merges_first_and_cannot_link_never_merges() -> None:
    pairs = [(0, 1, 0.95), (2, 3, 0.1), (1, 2, 0.9)]
    clusters = cluster_requirements(4, pairs, threshold=0.5, must_link=[[2, 3]], cannot_link=[(0, 2)])
    assert [2, 3] in clusters
    assert not any(0 in c and 2 in c for c in clusters)


def test_cannot_link_holds_transitively_after_merges() -> None:
    pairs = [(0, 1, 0.99), (1, 2, 0.98), (0, 2, 0.97)]
    clusters = cluster_requirements(3, pairs, threshold=0.1, cannot_link=[(0, 2)])
    assert not any(0 in c and 2 in c for c in clusters)


def test_target_cuts_to_that_many_clusters() -> None:
    similarity = _random_similarity(10, 3)
    for target in (1, 3, 7, 10):
        assert len(cluster_requirements(10, _pairs(similarity), threshold=None, target=target)) == target


def test_target_stops_when_constraints_forbid_more_merges() -> None:
    clusters = cluster_requirements(2, [(0, 1, 0.9)], threshold=None, target=1, cannot_link=[(0, 1)])
    assert clusters == [[0], [1]]


def test_unscored_pairs_count_as_zero() -> None:
    # 0~1 strong, 2 only linked to 0: average of (0.9 + 0 missing) / 2 = 0.45 < 0.5.
    assert cluster_requirements(3, [(0, 1, 0.9), (0, 2, 0.9)], threshold=0.5) in (
        [[0, 1], [2]],
        [[0, 2], [1]],
    )
    assert cluster_requirements(3, [(0, 1, 0.95), (0, 2, 0.9)], threshold=0.5) == [[0, 1], [2]]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_every_item_lands_in_exactly_one_cluster(n: int, seed: int, threshold: float) -> None:
    rnd = random.Random(seed)
    pairs = [(i, j, rnd.random()) for i, j in itertools.combinations(range(n), 2) if rnd.random() < 0.7]
    must = [list(rnd.sample(range(n), 2))] if n >= 2 and rnd.random() < 0.5 else []
    cannot = [
        (a, b)
        for a, b in itertools.combinations(range(n), 2)
        if rnd.random() < 0.2 and not any(a in g and b in g for g in must)
    ]
    clusters = cluster_requirements(n, pairs, threshold=threshold, must_link=must, cannot_link=cannot)
    members = sorted(k for c in clusters for k in c)
    assert members == list(range(n))
    for group in must:
        assert any(set(group) <= set(c) for c in clusters)
    for a, b in cannot:
        assert not any(a in c and b in c for c in clusters)
