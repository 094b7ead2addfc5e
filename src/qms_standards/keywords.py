"""Subject words: a TF-IDF vector per requirement, so rare shared subjects count and common verbs do not.

Two requirements that both say "control" or "planning" share a word that half the corpus uses; two that
both say "medicines" or "calibration" share a subject. Inverse document frequency, computed over the
requirements being consolidated, weighs each word by how rare it is there. Words are lower-cased, folded
to ASCII (see `similarity.normalise`), stripped of a short list of function words and of common English
suffixes, so "audits", "auditing" and "audit" are one word.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "from",
        "as",
        "at",
        "be",
        "is",
        "are",
        "was",
        "were",
        "been",
        "being",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "their",
        "them",
        "they",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "how",
        "all",
        "any",
        "each",
        "every",
        "other",
        "such",
        "no",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "can",
        "will",
        "shall",
        "should",
        "must",
        "may",
        "might",
        "do",
        "does",
        "did",
        "done",
        "has",
        "have",
        "had",
        "having",
        "into",
        "out",
        "up",
        "down",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "both",
        "few",
        "more",
        "most",
        "some",
        "our",
        "your",
        "we",
        "you",
        "he",
        "she",
        "his",
        "her",
        "i",
        "me",
        "my",
        "also",
        "within",
        "across",
        "between",
        "per",
        "whether",
        "including",
        "include",
        "includes",
        "eg",
        "ie",
        "etc",
    ]
)
# Longest first: the first suffix that leaves a stem of 3+ letters is replaced.
_SUFFIXES = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("iveness", "ive"),
    ("fulness", "ful"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ments", "ment"),
    ("ities", "ity"),
    ("ment", ""),
    ("ity", ""),
    ("ies", "y"),
    ("ing", ""),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
)
_DOT_CHUNK = 65_536


def stem(word: str) -> str:
    """A light suffix-stripping stem: enough to join plural, -ing, -ed, -ation and -ment forms."""
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


def words(normalised: str) -> list[str]:
    """The subject-bearing words of an already normalised text, stemmed."""
    return [stem(w) for w in normalised.split() if len(w) > 1 and w not in _STOP and not w.isdigit()]


def tfidf(normalised_texts: list[str]) -> sparse.csr_matrix:
    """Rows of L2-normalised TF-IDF weights (sublinear tf, smoothed idf), columns in sorted word order."""
    docs = [words(t) for t in normalised_texts]
    vocabulary = {w: k for k, w in enumerate(sorted({w for d in docs for w in d}))}
    rows, cols, counts = [], [], []
    for r, doc in enumerate(docs):
        seen: dict[int, int] = {}
        for w in doc:
            seen[vocabulary[w]] = seen.get(vocabulary[w], 0) + 1
        for c in sorted(seen):
            rows.append(r)
            cols.append(c)
            counts.append(seen[c])
    shape = (len(docs), len(vocabulary))
    tf = sparse.csr_matrix((np.array(counts, dtype=np.float64), (rows, cols)), shape=shape)
    df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(vocabulary))
    idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
    tf.data = (1.0 + np.log(tf.data)) * idf[tf.indices]
    norms = np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ tf)


def pair_cosines(matrix: sparse.csr_matrix, i: np.ndarray, j: np.ndarray, exact: bool) -> np.ndarray:
    """Cosine of rows i[k] and j[k]: from the full product when all pairs are wanted, else row by row."""
    if not len(i):
        return np.zeros(0)
    if exact:
        return np.asarray((matrix @ matrix.T).todense())[i, j].astype(np.float64)
    out = np.zeros(len(i))
    for start in range(0, len(i), _DOT_CHUNK):
        rows = slice(start, start + _DOT_CHUNK)
        out[rows] = np.asarray(matrix[i[rows]].multiply(matrix[j[rows]]).sum(axis=1)).ravel()
    return out
