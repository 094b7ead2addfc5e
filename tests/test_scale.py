"""The scalable path (nearest neighbours, beyond `Settings.exact_pairs_limit`) against the all-pairs path.

Forcing the scalable path on small inputs (`exact_pairs_limit=2`) must not cost clustering quality, and it
must never hold an n x n array: that is what lets the engine grow near-linearly.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, FakeEmbedder
from qms_standards import similarity
from qms_standards.cluster import _cluster
from qms_standards.evaluate import Evaluation, GoldCrosswalk, load_gold, run_evaluation
from qms_standards.models import Settings
from qms_standards.similarity import Item, score_pairs

sys.path.insert(0, str(ROOT))
from bench.synthetic import generate  # noqa: E402

GOLD = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "iso27001-2013-vs-2022.yaml"
SCALABLE = Settings(exact_pairs_limit=2)


def _assert_same_or_better(small: Evaluation, scalable: Evaluation, slack: float = 0.0) -> None:
    for level in ("strict", "lenient"):
        assert scalable.pairwise[level].f1 >= small.pairwise[level].f1 - slack, level
        assert scalable.bcubed[level].f1 >= small.bcubed[level].f1 - slack, level


@pytest.mark.slow
def test_scalable_path_keeps_f1_on_the_gold_crosswalk() -> None:
    if not GOLD.exists():
        pytest.skip(
            f"gold crosswalk not found at {GOLD} (it lives in the shared/eval folder beside the repo)"
        )
    from qms_standards.embedding import EmbeddingCache, SentenceTransformerEmbedder, default_cache_dir

    gold = load_gold(GOLD)
    embedder = SentenceTransformerEmbedder()
    cache = EmbeddingCache(default_cache_dir(), embedder.name)
    small = run_evaluation(gold, Settings(), embedder, cache).report
    scalable = run_evaluation(gold, SCALABLE, embedder, cache).report
    _assert_same_or_better(small.equal, scalable.equal)
    # The standards cut reads each item's local level from its candidates: close, not always equal.
    _assert_same_or_better(small.standards, scalable.standards, slack=0.03)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scalable_path_keeps_f1_on_a_synthetic_corpus(seed: int) -> None:
    gold = GoldCrosswalk.model_validate(generate(150, seed=seed).gold())
    small = run_evaluation(gold, Settings(), FakeEmbedder()).report
    scalable = run_evaluation(gold, SCALABLE, FakeEmbedder()).report
    assert small.equal.pairwise["strict"].f1 > 0.7  # a meaningful baseline, not 0 against 0
    _assert_same_or_better(small.equal, scalable.equal)
    _assert_same_or_better(small.standards, scalable.standards, slack=0.03)  # at the consolidation cut too


class _Watched(np.ndarray):
    """An array that records the size of every ufunc result computed from it (`@` included)."""

    largest = 0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):  # type: ignore[no-untyped-def]
        plain = [x.view(np.ndarray) if isinstance(x, _Watched) else x for x in inputs]
        result = getattr(ufunc, method)(*plain, **kwargs)
        if isinstance(result, np.ndarray):
            _Watched.largest = max(_Watched.largest, result.size)
        return result


def _corpus(n: int) -> tuple[list[Item], np.ndarray, np.ndarray]:
    corpus = generate(n, seed=3)
    items = [
        Item(
            ref=f"{s['id']}:{r['id']}",
            set_id=s["id"],
            req_id=r["id"],
            title=r["title"],
            text=f"{r['title']}. {r['text']}",
        )
        for s in corpus.sets
        for r in s["requirements"]
    ]
    rng = np.random.default_rng(0)  # memory, not meaning, is under test: random unit vectors will do
    vectors, titles = (rng.standard_normal((n, 16)).astype(np.float32) for _ in range(2))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    titles /= np.linalg.norm(titles, axis=1, keepdims=True)
    return items, vectors.view(_Watched), titles.view(_Watched)


def test_nearest_neighbour_path_never_builds_an_n_by_n_array(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 2500
    items, vectors, titles = _corpus(n)

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("all-pairs helper called on the nearest-neighbour path")

    monkeypatch.setattr(similarity.process, "cdist", refuse)
    monkeypatch.setattr(np, "triu_indices", refuse)
    _Watched.largest = 0
    scores = score_pairs(items, vectors, titles, Settings(exact_pairs_limit=1000, neighbours=10))
    assert not scores.exact
    assert 0 < _Watched.largest <= 1024 * n < n * n  # one block of rows at a time
    # At most k neighbours by text and k by title per row: the arrays grow with n x k, never with n x n.
    assert len(scores.i) <= 2 * n * 10 and np.all(scores.i < scores.j)
    assert max(a.size for a in (scores.i, scores.j, scores.score, scores.cosine, scores.fuzzy)) <= 2 * n * 10


def test_the_watch_sees_the_all_pairs_matrix() -> None:
    items, vectors, titles = _corpus(300)
    _Watched.largest = 0
    assert score_pairs(items, vectors, titles, Settings()).exact
    assert _Watched.largest == 300 * 300  # so the bound above is a real check, not a blind spot


# --- The vectorised and dense implementations against plain reference loops -------------------------


@st.composite
def _clustering_inputs(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 12))
    every = [(a, b) for a in range(n) for b in range(a + 1, n)]
    density = draw(st.sampled_from([1.0, 0.6, 0.25]))
    values = draw(st.sampled_from([(0.1, 0.5, 0.9), (0.3, 0.6), None]))  # few values: many exact ties
    rng = random.Random(draw(st.integers(0, 10**6)))
    pairs = [p for p in every if rng.random() < density]
    scores = [rng.choice(values) if values else rng.random() for _ in pairs]
    must = [rng.sample(range(n), 2)] if n >= 4 and rng.random() < 0.3 else []
    cannot = []
    for _ in range(rng.randint(0, 3) if n >= 3 else 0):
        a, b = rng.sample(range(n), 2)
        if not any(a in g and b in g for g in must):
            cannot.append((a, b))
    mode = draw(st.sampled_from(["threshold", "target", "neither"]))
    if mode == "threshold":
        cut = {"threshold": draw(st.sampled_from([0.0, 0.3, 0.5, 0.85])), "target": None}
    else:
        cut = {"threshold": None, "target": draw(st.integers(1, n)) if mode == "target" else None}
    return n, pairs, scores, must, cannot, cut


@given(_clustering_inputs())
@settings(max_examples=300, deadline=None)
def test_dense_and_sparse_merging_agree(case) -> None:  # type: ignore[no-untyped-def]
    n, pairs, scores, must, cannot, cut = case
    i = np.array([a for a, _ in pairs], dtype=np.int64)
    j = np.array([b for _, b in pairs], dtype=np.int64)
    s = np.array(scores, dtype=np.float64)
    sparse = _cluster(n, i, j, s, must_link=must, cannot_link=cannot, dense=False, **cut)
    dense = _cluster(n, i, j, s, must_link=must, cannot_link=cannot, dense=True, **cut)
    assert dense == sparse


def _mutual_best_loop(items: list[Item], i: np.ndarray, j: np.ndarray, base: np.ndarray) -> np.ndarray:
    best: dict[tuple[int, str], tuple[float, int]] = {}
    for a, b, s in zip(i.tolist(), j.tolist(), base.tolist(), strict=True):
        sa, sb = items[a].set_id, items[b].set_id
        if sa == sb:
            continue
        for x, other_set, y in ((a, sb, b), (b, sa, a)):
            current = best.get((x, other_set))
            if current is None or s > current[0] or (s == current[0] and y < current[1]):
                best[(x, other_set)] = (s, y)
    out = np.zeros(len(i))
    for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        sa, sb = items[a].set_id, items[b].set_id
        if sa != sb and best[(a, sb)][1] == b and best[(b, sa)][1] == a:
            out[k] = 1.0
    return out


@pytest.mark.parametrize("seed", range(20))
def test_mutual_best_matches_a_plain_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    sets = [f"s{k}" for k in range(int(rng.integers(1, 6)))]
    items = [
        Item(ref=f"r{k}", set_id=str(rng.choice(sets)), req_id=str(k), title="t", text="t") for k in range(n)
    ]
    i, j = np.triu_indices(n, k=1)
    keep = rng.random(len(i)) < rng.choice([1.0, 0.4])
    i, j = i[keep], j[keep]
    base = rng.choice([0.2, 0.5, 0.7], size=len(i)) if seed % 2 else rng.random(len(i))
    assert np.array_equal(similarity._mutual_best(items, i, j, base), _mutual_best_loop(items, i, j, base))


def test_same_clause_matches_a_plain_loop() -> None:
    rng = np.random.default_rng(1)
    clauses = ["4.1", "4.2", "5.1", "5.2", "6.1", "A.5.1", "x/y"]
    items = [
        Item(ref=f"{s}:{k}", set_id=s, req_id=str(rng.choice(clauses)), title=f"title {k % 4}", text="t")
        for k, s in enumerate(rng.choice(["iso-a", "iso-b", "other"], size=60).tolist())
    ]
    i, j = np.triu_indices(len(items), k=1)
    corresponding = similarity.corresponding_sets(items)
    expected = [
        float(
            bool(items[a].clause)
            and items[a].clause == items[b].clause
            and tuple(sorted((items[a].set_id, items[b].set_id))) in corresponding
        )
        for a, b in zip(i.tolist(), j.tolist(), strict=True)
    ]
    assert similarity._same_clause(items, i, j, np.zeros(len(i))).tolist() == expected


@pytest.mark.parametrize(("n", "k", "block"), [(50, 5, 7), (300, 30, 64), (40, 60, 16)])
def test_nearest_pairs_are_each_rows_top_k(n: int, k: int, block: int) -> None:
    vectors = np.random.default_rng(n).standard_normal((n, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    i, j, cosine = similarity._nearest_pairs(vectors, k, block=block)
    full = vectors @ vectors.T
    np.fill_diagonal(full, -np.inf)
    kk = min(k, n - 1)
    expected = {(min(r, c), max(r, c)) for r in range(n) for c in np.argsort(-full[r])[:kk].tolist()}
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == sorted(expected)
    assert np.allclose(cosine, full[i, j], atol=1e-6)


def test_candidates_are_the_nearest_by_text_and_by_title() -> None:
    rng = np.random.default_rng(7)
    texts, titles = (rng.standard_normal((60, 8)).astype(np.float32) for _ in range(2))
    for v in (texts, titles):
        v /= np.linalg.norm(v, axis=1, keepdims=True)
    i, j = similarity._candidate_pairs(texts, titles, 4)
    by_text = set(zip(*(a.tolist() for a in similarity._nearest_pairs(texts, 4)[:2]), strict=True))
    by_title = set(zip(*(a.tolist() for a in similarity._nearest_pairs(titles, 4)[:2]), strict=True))
    assert by_title - by_text  # the title search adds pairs the text search misses
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == sorted(by_text | by_title)
