"""Stage 2a, score: how alike two requirements are, and how well they fit together in one standard.

Each candidate pair gets two scores.

`match` says whether two requirements ask for the same thing: it blends the embedding cosine of the full
texts and of the titles, the rapidfuzz token-set ratio of the texts and the title ratio, plus two
structural signals the texts miss (the same clause number in two sets whose numbering corresponds, such as
ISO's Harmonized Structure in ISO 9001 and ISO 7101; and a mutual best match across two sets). It labels a
member `equal` at `match_threshold`, where the version-to-version crosswalk calibrates it.

`score` says whether two requirements belong in one consolidated standard, by meaning rather than shared
words, and is what the standards are cut on:
- embeddings are centred per set first: each publisher's house style (ISO's "the organization shall",
  CQC's "we ...") is a direction every vector of that set shares, and removing it leaves the subject;
- subject words count by rarity (TF-IDF over the requirements at hand, `keywords`), so a shared
  "medicines" counts and a shared "control" or "planning" barely does;
- titles count only where both requirements have one of their own;
- the blend is read relative to each requirement's own nearest alternatives in other sets (cross-domain
  similarity local scaling): 0.5 + blend - (r_a + r_b) / 2, where r is the mean of a requirement's best
  few cross-set blends, never below a floor (a percentile, `grouping.floor`, of all items' levels). A
  generic requirement close to everything no longer pulls unrelated ones in, and
  one cut serves corpora whose similarities sit at different levels (two editions of one standard, two
  publishers' vocabularies).
Same-set pairs are not damped across the board: centring removes the house style that made them look
alike, and a consolidation should group a set's own related items when they fit. What is damped is a pair
its publisher filed under different headings (ISO 9001's 8.4.2 supplier control and 8.5.6 control of
changes): their fit loses `grouping.other_heading`, so a shared word no longer chains them into one standard.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from .embedding import Embedder, EmbeddingCache, embed_texts
from .keywords import pair_cosines, tfidf
from .models import Settings
from .progress import Progress, tick

_CLAUSE = re.compile(r"^([A-Z]\.)?\d+(\.\d+)*$")
_DOT_CHUNK = 16_384  # pairs per step of a row-wise dot product: 16k x 384 float32 is 25 MB
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
    score: np.ndarray  # fit in one standard: what the standards are cut on
    cosine: np.ndarray  # of the text embeddings
    title_cosine: np.ndarray  # of the title embeddings
    fuzzy: np.ndarray
    title: np.ndarray
    structure: np.ndarray  # bonuses added to `match` (clause number, mutual best)
    exact: bool  # all pairs (True) or nearest neighbours only
    match: np.ndarray  # the same requirement: what `equal` is cut on
    meaning: np.ndarray  # cosine of the set-centred text embeddings
    title_meaning: np.ndarray  # of the set-centred title embeddings (0 where either has no title)
    subject: np.ndarray  # TF-IDF cosine of the subject words
    blend: np.ndarray  # the weighted parts of `score` before local scaling, with the clause bonus
    local: np.ndarray  # per item: the mean of its best cross-set blends (never below the floor)
    apart: np.ndarray  # one set's requirements under different headings: `other_heading` came off the blend
    same_clause: np.ndarray  # corresponding sets, the same clause number: `clause_bonus` is in the blend

    def as_dict(self) -> dict[tuple[int, int], float]:
        """Score by (i, j)."""
        return dict(zip(zip(self.i.tolist(), self.j.tolist(), strict=True), self.score.tolist(), strict=True))


def score_pairs(
    items: list[Item],
    vectors: np.ndarray,
    title_vectors: np.ndarray,
    settings: Settings,
    progress: Progress | None = None,
) -> PairScores:
    """Score candidate pairs: all pairs up to `settings.exact_pairs_limit` items, else nearest neighbours.

    Args:
        items: The requirements.
        vectors: Normalised embeddings of each item's full text.
        title_vectors: Normalised embeddings of each item's title.
        settings: Weights, bonuses and the candidate-search limits.
        progress: Called with (rows searched, total) per block of the nearest-neighbour searches.
    """
    n = len(items)
    steps = n if n <= settings.exact_pairs_limit else 2 * n  # the scalable path searches texts, then titles
    tick(progress, 0, steps)
    sets = _set_codes(items)
    centred, title_centred = _centred(vectors, sets), _centred(title_vectors, sets)
    if n <= settings.exact_pairs_limit:
        i, j = np.triu_indices(n, k=1)
        cosine = (vectors @ vectors.T)[i, j] if n else np.zeros(0)
        title_cosine = (title_vectors @ title_vectors.T)[i, j] if n else np.zeros(0)
        meaning = (centred @ centred.T)[i, j] if n else np.zeros(0)
        title_meaning = (title_centred @ title_centred.T)[i, j] if n else np.zeros(0)
        exact = True
    else:
        i, j = _candidate_pairs(vectors, title_vectors, settings.neighbours, progress)
        cosine, title_cosine = _pair_dots(vectors, i, j), _pair_dots(title_vectors, i, j)
        meaning, title_meaning = _pair_dots(centred, i, j), _pair_dots(title_centred, i, j)
        exact = False
    texts = [normalise(it.text) for it in items]
    titles = [normalise(it.title) for it in items]
    fuzzy = _pair_ratio(texts, i, j, fuzz.token_set_ratio, exact)
    title = _pair_ratio(titles, i, j, fuzz.token_sort_ratio, exact)
    subject = pair_cosines(tfidf(texts), i, j, exact)
    w = settings.weights
    base = w.embedding * cosine + w.title_embedding * title_cosine + w.fuzzy * fuzzy + w.title * title
    clause = _same_clause(items, i, j, title)
    structure = settings.clause_bonus * clause + settings.mutual_bonus * _mutual_best(items, i, j, base)
    match = np.clip(base + structure, 0.0, 1.0)
    same_set = sets[i] == sets[j]
    # A set is written so that its own requirements differ: a same-set pair needs stronger evidence.
    match = np.where(same_set, match * settings.same_set_factor, match)
    # Fit in one standard: by meaning, subject words and (where both have one) titles, read locally.
    g = settings.grouping
    titled = np.array([_has_title(it) for it in items], dtype=bool)
    both = titled[i] & titled[j] if len(i) else np.zeros(0, dtype=bool)
    title_meaning = np.where(both, title_meaning, 0.0)
    blend = np.where(
        both,
        g.meaning * meaning + g.title_meaning * title_meaning + g.title_words * title,
        (g.meaning + g.title_meaning + g.title_words) * meaning,
    )
    blend = blend + g.subject * subject + settings.clause_bonus * clause
    # A publisher files related requirements under one heading and different topics under different ones.
    apart = same_set & _other_heading(items, i, j)
    blend = blend - g.other_heading * apart
    local = _local_level(n, i, j, blend, ~same_set, g.neighbours, g.floor)
    score = np.clip(0.5 + blend - 0.5 * (local[i] + local[j]), 0.0, 1.0) if len(i) else np.zeros(0)
    tick(progress, steps, steps)
    return PairScores(
        n,
        i.astype(np.int64),
        j.astype(np.int64),
        score,
        cosine,
        title_cosine,
        fuzzy,
        title,
        structure,
        exact,
        match,
        meaning,
        title_meaning,
        subject,
        blend,
        local,
        apart,
        clause > 0,
    )


def _has_title(item: Item) -> bool:
    """Whether the item has a title of its own (not its text standing in for one)."""
    title = normalise(item.title)
    return bool(title) and title != normalise(item.text)


def _other_heading(items: list[Item], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """True where two items are under different headings of their set (compare same-set pairs only).

    An item's heading is its section with its id's parent (the id up to its last '/' or '.': 8.5 for
    8.5.6, safe for safe/infection-prevention-control). Siblings share a heading, and so do a parent and
    its children (8.5 and 8.5.6). Where an item's heading is unknown (no section, no parent) it is never
    called different.
    """
    if not len(i):
        return np.zeros(0, dtype=bool)
    codes: dict[tuple[str, str], int] = {}
    heading = np.empty(len(items), dtype=np.int64)
    own = np.empty(len(items), dtype=np.int64)  # the heading the item's own id would be to its children
    known = np.empty(len(items), dtype=bool)
    for k, it in enumerate(items):
        cut = max(it.req_id.rfind("/"), it.req_id.rfind("."))
        parent = it.req_id[:cut] if cut > 0 else ""
        section = it.section or ""
        heading[k] = codes.setdefault((section, parent), len(codes))
        own[k] = codes.setdefault((section, it.req_id), len(codes))
        known[k] = bool(section or parent)
    together = (heading[i] == heading[j]) | (heading[i] == own[j]) | (own[i] == heading[j])
    return known[i] & known[j] & ~together


def _centred(vectors: np.ndarray, sets: np.ndarray, min_size: int = 5) -> np.ndarray:
    """Vectors less their set's mean (the corpus mean for sets under `min_size`), normalised again."""
    if not len(vectors):
        return vectors
    out = vectors.astype(np.float64) - vectors.mean(axis=0)
    for code in np.unique(sets):
        rows = sets == code
        if rows.sum() >= min_size:
            out[rows] = vectors[rows] - vectors[rows].mean(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (out / norms).astype(np.float32)


def _local_level(
    n: int, i: np.ndarray, j: np.ndarray, blend: np.ndarray, cross: np.ndarray, k: int, floor: int
) -> np.ndarray:
    """Each item's mean of its k best cross-set blends (all its pairs when it has no cross-set one).

    Never below the `floor` percentile of the items' levels (see the end).
    """
    local = np.zeros(n)
    if not len(i):
        return local
    item = np.concatenate([i, j])
    value = np.concatenate([blend, blend])
    is_cross = np.concatenate([cross, cross])
    has_cross = np.zeros(n, dtype=bool)
    has_cross[item[is_cross]] = True
    keep = is_cross | ~has_cross[item]
    item, value = item[keep], value[keep]
    order = np.lexsort((-value, item))  # by item, best first
    item, value = item[order], value[order]
    start = np.searchsorted(item, np.arange(n))
    rank = np.arange(len(item)) - start[item]
    top = rank < k
    sums = np.bincount(item[top], weights=value[top], minlength=n)
    counts = np.bincount(item[top], minlength=n)
    np.divide(sums, counts, out=local, where=counts > 0)
    # An item far from everything would otherwise look close to its least-bad neighbours: no item's level
    # is taken below the `floor` percentile of all items' levels, so a requirement like no other stays on its
    # own rather than joining the one whose title shares a word with it.
    return np.maximum(local, np.percentile(local, floor))


def _pair_ratio(
    strings: list[str], i: np.ndarray, j: np.ndarray, scorer: Callable[..., float], exact: bool
) -> np.ndarray:
    if exact and len(strings) > 1:
        matrix = process.cdist(strings, strings, scorer=scorer, dtype=np.float32, workers=-1)
        return matrix[i, j].astype(np.float64) / 100.0
    if not len(i):
        return np.zeros(0)
    # Only the candidate pairs, element by element in C; float32 as above, so both paths score a pair alike.
    left, right = [strings[a] for a in i.tolist()], [strings[b] for b in j.tolist()]
    return process.cpdist(left, right, scorer=scorer, dtype=np.float32, workers=-1).astype(np.float64) / 100.0


def _pair_dots(vectors: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """vectors[i] . vectors[j] per pair, in chunks: gathering every row at once took 1.4 GB at 20k items."""
    out = np.zeros(len(i))
    for start in range(0, len(i), _DOT_CHUNK):
        rows = slice(start, start + _DOT_CHUNK)
        out[rows] = np.einsum("ij,ij->i", vectors[i[rows]], vectors[j[rows]])
    return out


def _set_numbers(items: list[Item]) -> dict[str, int]:
    """Each set id's small integer, sets numbered in id order."""
    return {name: k for k, name in enumerate(sorted({it.set_id for it in items}))}


def _set_codes(items: list[Item]) -> np.ndarray:
    """Each item's set as its number from `_set_numbers`."""
    numbers = _set_numbers(items)
    return np.array([numbers[it.set_id] for it in items], dtype=np.int64)


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
    """1.0 where both items carry the same clause number in two sets whose numbering corresponds."""
    corresponding = corresponding_sets(items)
    if not corresponding or not len(i):
        return np.zeros(len(i))
    code = _set_numbers(items)
    table = np.zeros((len(code), len(code)), dtype=bool)
    for a, b in corresponding:
        table[code[a], code[b]] = table[code[b], code[a]] = True
    numbers: dict[str, int] = {}
    clause = np.array([numbers.setdefault(c, len(numbers)) if (c := it.clause) else -1 for it in items])
    sets = _set_codes(items)
    hit = (clause[i] >= 0) & (clause[i] == clause[j]) & table[sets[i], sets[j]]
    return hit.astype(np.float64)


def _mutual_best(items: list[Item], i: np.ndarray, j: np.ndarray, base: np.ndarray) -> np.ndarray:
    """1.0 where each member of a cross-set pair is the other's best match within the other's set.

    Best means the highest base score, ties to the lower item number. Vectorised over both directions of
    every cross-set pair: the top score per (item, other set), then the lowest other item reaching it.
    """
    out = np.zeros(len(i))
    sets = _set_codes(items)
    cross = np.flatnonzero(sets[i] != sets[j])
    if not len(cross):
        return out
    a, b = i[cross], j[cross]
    x, y = np.concatenate([a, b]), np.concatenate([b, a])
    score = np.concatenate([base[cross], base[cross]])
    width = int(sets.max()) + 1
    key = x * width + sets[y]  # (item, other set)
    if len(items) * width > 4 * len(key) + (1 << 20):  # many small sets: number the keys that occur
        groups, key = np.unique(key, return_inverse=True)
        slots = len(groups)
    else:
        groups, slots = None, len(items) * width
    top = np.full(slots, -np.inf)
    np.maximum.at(top, key, score)
    reaches = score == top[key]
    lowest = np.full(slots, len(items), dtype=np.int64)
    np.minimum.at(lowest, key[reaches], y[reaches])

    def best(item: np.ndarray, other: np.ndarray) -> np.ndarray:
        wanted = item * width + sets[other]
        return lowest[wanted if groups is None else np.searchsorted(groups, wanted)]

    out[cross[(best(a, b) == b) & (best(b, a) == a)]] = 1.0
    return out


def _candidate_pairs(
    vectors: np.ndarray, title_vectors: np.ndarray, k: int, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i < j, sorted) worth scoring: each row's k nearest by text and k nearest by title.

    A score weighs the title embedding as much as the text's, so a pair whose titles agree (the same
    clause in two editions, say) is a candidate even when other texts are nearer to each one's wording.
    """
    n = len(vectors)

    def half(offset: int) -> Progress | None:  # each search is half of the step's 2n rows
        return None if progress is None else (lambda done, total: progress(offset + done, 2 * n))

    i, j, _ = _nearest_pairs(vectors, k, half(0))
    if progress is not None:
        progress(n, 2 * n)
    ti, tj, _ = _nearest_pairs(title_vectors, k, half(n))
    keys = np.union1d(i * n + j, ti * n + tj)
    return keys // n, keys % n


def _nearest_pairs(
    vectors: np.ndarray, k: int, progress: Progress | None = None, block: int = 1024
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's k most similar rows by cosine, in blocks so no n x n matrix is ever held.

    Returns:
        The pairs (i < j, sorted) and their cosines; a pair found from both ends counts once.
    """
    n = len(vectors)
    k = min(k, n - 1)
    if k < 1:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    keys, values = [], []
    for start in range(0, n, block):
        sims = vectors[start : start + block] @ vectors.T  # block x n: the largest array held
        rows = np.arange(start, min(start + block, n))
        sims[rows - start, rows] = -np.inf
        # A few rows at a time: argpartition returns whole rows of int64 indices, twice the block's size.
        top = np.concatenate(
            [np.argpartition(-sims[r : r + 128], k, axis=1)[:, :k] for r in range(0, len(sims), 128)]
        )
        r = np.repeat(rows, k)
        c = top.ravel()
        keys.append(np.minimum(r, c) * n + np.maximum(r, c))
        values.append(sims[r - start, c])
        if progress is not None and start + block < n:  # the last block reports once scoring is done
            progress(start + block, n)
    # Keep each pair once, with the cosine of its last sighting, in (i, j) order.
    found, first = np.unique(np.concatenate(keys)[::-1], return_index=True)
    cosine = np.concatenate(values)[::-1][first].astype(np.float64)
    return found // n, found % n, cosine


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
