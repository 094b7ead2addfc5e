"""Stage 2a, score: how alike two requirements are, from embeddings, fuzzy text and structure.

A pair's score blends the embedding cosine of the full texts, the rapidfuzz token-set ratio of the
normalised texts and the title ratio, then adds two structural signals that the texts alone miss:
- the same clause number in two sets whose numbering corresponds (ISO's Harmonized Structure numbers its
  common clauses identically across ISO 9001, 7101, 27001 ...). Correspondence is read from the data: two
  sets correspond when most clause numbers they share also carry alike titles, so ISO 9001 and ISO 7101
  do and ISO 9001 and ISO 31000 (same numbers, other topics) do not; and
- a mutual best match: each is the other's most similar requirement in the other's set.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from .embedding import Embedder, EmbeddingCache, Progress, embed_texts
from .models import Settings

_CLAUSE = re.compile(r"^([A-Z]\.)?\d+(\.\d+)*$")
_BRITISH = re.compile(r"\b(\w{2,})is(ation|ations|e|ed|es|ing)\b")


@dataclass(frozen=True)
class Item:
    """One requirement as the engine sees it."""

    ref: str
    set_id: str
    req_id: str
    title: str
    text: str  # "title. text"
    section: str | None = None

    @property
    def clause(self) -> str | None:
        """The clause number, when the id is one (e.g. '7.1.2' or 'A.5.1')."""
        return self.req_id if _CLAUSE.match(self.req_id) else None


def normalise(text: str) -> str:
    """Lower case, ASCII-folded, punctuation to spaces, British -ise spellings folded to -ize."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return _BRITISH.sub(r"\1iz\2", " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split()))


@dataclass
class PairScores:
    """Scored candidate pairs (i < j), with the parts of each score kept for `explain` and review."""

    n: int
    i: np.ndarray
    j: np.ndarray
    score: np.ndarray
    cosine: np.ndarray
    fuzzy: np.ndarray
    title: np.ndarray
    structure: np.ndarray  # bonuses added (clause number, mutual best)
    exact: bool  # all pairs (True) or nearest neighbours only

    def as_dict(self) -> dict[tuple[int, int], float]:
        """Score by (i, j)."""
        return {(int(a), int(b)): float(s) for a, b, s in zip(self.i, self.j, self.score, strict=True)}


def score_pairs(
    items: list[Item], vectors: np.ndarray, title_vectors: np.ndarray, settings: Settings
) -> PairScores:
    """Score candidate pairs: all pairs up to `settings.exact_pairs_limit` items, else nearest neighbours.

    Args:
        items: The requirements.
        vectors: Normalised embeddings of each item's full text.
        title_vectors: Normalised embeddings of each item's title.
        settings: Weights, bonuses and the candidate-search limits.
    """
    n = len(items)
    if n <= settings.exact_pairs_limit:
        i, j = np.triu_indices(n, k=1)
        cosine = (vectors @ vectors.T)[i, j] if n else np.zeros(0)
        title_cosine = (title_vectors @ title_vectors.T)[i, j] if n else np.zeros(0)
        exact = True
    else:
        i, j, cosine = _nearest_pairs(vectors, settings.neighbours)
        title_cosine = np.einsum("ij,ij->i", title_vectors[i], title_vectors[j]).astype(np.float64)
        exact = False
    texts = [normalise(it.text) for it in items]
    titles = [normalise(it.title) for it in items]
    fuzzy = _pair_ratio(texts, i, j, fuzz.token_set_ratio, exact)
    title = _pair_ratio(titles, i, j, fuzz.token_sort_ratio, exact)
    w = settings.weights
    base = w.embedding * cosine + w.title_embedding * title_cosine + w.fuzzy * fuzzy + w.title * title
    structure = settings.clause_bonus * _same_clause(items, i, j, title)
    structure = structure + settings.mutual_bonus * _mutual_best(items, i, j, base)
    score = np.clip(base + structure, 0.0, 1.0)
    same_set = np.array(
        [items[a].set_id == items[b].set_id for a, b in zip(i.tolist(), j.tolist(), strict=True)], dtype=bool
    )
    # A set is written so that its own requirements differ: a same-set pair needs stronger evidence.
    score = np.where(same_set, score * settings.same_set_factor, score)
    return PairScores(
        n, i.astype(np.int64), j.astype(np.int64), score, cosine, fuzzy, title, structure, exact
    )


def _pair_ratio(strings: list[str], i: np.ndarray, j: np.ndarray, scorer, exact: bool) -> np.ndarray:  # type: ignore[no-untyped-def]
    if exact and len(strings) > 1:
        matrix = process.cdist(strings, strings, scorer=scorer, dtype=np.float32, workers=-1)
        return matrix[i, j].astype(np.float64) / 100.0
    return (
        np.array([scorer(strings[a], strings[b]) for a, b in zip(i, j, strict=True)], dtype=np.float64)
        / 100.0
    )


def corresponding_sets(
    items: list[Item], min_shared: int = 3, agreement: float = 0.5
) -> set[tuple[str, str]]:
    """Pairs of sets whose clause numbering corresponds: most shared clause numbers carry alike titles."""
    by_set: dict[str, dict[str, str]] = {}
    for it in items:
        if it.clause:
            by_set.setdefault(it.set_id, {})[it.clause] = normalise(it.title)
    out: set[tuple[str, str]] = set()
    names = sorted(by_set)
    for x, a in enumerate(names):
        for b in names[x + 1 :]:
            shared = sorted(set(by_set[a]) & set(by_set[b]))
            if len(shared) < min_shared:
                continue
            alike = sum(fuzz.token_set_ratio(by_set[a][c], by_set[b][c]) >= 60 for c in shared)
            if alike / len(shared) >= agreement:
                out.add((a, b))
    return out


def _same_clause(items: list[Item], i: np.ndarray, j: np.ndarray, title: np.ndarray) -> np.ndarray:
    corresponding = corresponding_sets(items)
    out = np.zeros(len(i))
    for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True)):
        x, y = items[a], items[b]
        if x.clause and x.clause == y.clause and tuple(sorted((x.set_id, y.set_id))) in corresponding:
            out[k] = 1.0
    return out


def _mutual_best(items: list[Item], i: np.ndarray, j: np.ndarray, base: np.ndarray) -> np.ndarray:
    """1.0 where each member of a cross-set pair is the other's best match within the other's set."""
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


def _nearest_pairs(
    vectors: np.ndarray, k: int, block: int = 1024
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's k most similar rows by cosine, in blocks so no n x n matrix is ever held."""
    n = len(vectors)
    k = min(k, n - 1)
    pairs: dict[tuple[int, int], float] = {}
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T
        rows = np.arange(start, min(start + block, n))
        sims[rows - start, rows] = -np.inf
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        for r, cols in zip(rows.tolist(), top.tolist(), strict=True):
            for c in cols:
                a, b = (r, c) if r < c else (c, r)
                pairs[(a, b)] = float(sims[r - start, c])
    ordered = sorted(pairs)
    i = np.array([a for a, _ in ordered], dtype=np.int64)
    j = np.array([b for _, b in ordered], dtype=np.int64)
    cosine = np.array([pairs[p] for p in ordered], dtype=np.float64)
    return i, j, cosine


def embed_items(
    items: list[Item], embedder: Embedder, cache: EmbeddingCache | None, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Embed each item's full text and its title (one pass, cached).

    Returns:
        Text vectors, title vectors, and how many distinct texts had to be embedded (0 when all were cached).
    """
    texts = [it.text for it in items] + [it.title for it in items]
    vectors, embedded = embed_texts(texts, embedder, cache, progress)
    return vectors[: len(items)], vectors[len(items) :], embedded
