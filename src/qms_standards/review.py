"""Human review: the pairs worth a person's time, ranked by how close the engine came to deciding otherwise.

Every row is a pair of requirements with a margin: how far, in score units, the evidence is from flipping
what the engine did. Rows are ranked by margin, smallest (most uncertain) first, then by kind and refs:
- `weak-member`: the least alike pair inside a standard; margin = |mean score of its weaker member to the
  rest of the standard - threshold|, since average linkage keeps a member on that mean;
- `near-miss`: a requirement whose best score to a member of another standard is close to its mean score
  to its own standard; margin = |own mean - best elsewhere|;
- `boundary`: two standards whose average score lies just above or below the threshold (what average
  linkage compares), shown as their closest cross-set pair; margin = |average - threshold|. For two
  single requirements the average is the pair's score.
A pair flagged twice is listed once, under its smaller margin. Reviews are measured against the threshold
that cuts standards, because must-links and cannot-links decide standards; the match threshold only labels
relationships inside a standard. `simulate_review` measures against the match threshold, since it clusters
a gold crosswalk of equivalences there. Decisions come back through `overrides_edit.apply_review`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from .files import canonical_xlsx
from .models import Model, Overrides, Settings
from .similarity import Item, PairScores

Kind = Literal["boundary", "weak-member", "near-miss"]
_KIND_ORDER = {"weak-member": 0, "near-miss": 1, "boundary": 2}
Decision = Literal["same", "different", "skip"]
DECISIONS: tuple[Decision, ...] = ("same", "different", "skip")

# The review workbook's layout, shared by the writer here and the reader in `overrides_edit`.
REVIEW_SHEET = "Review"
META_SHEET = "qms"
FORMAT_MARKER = "qms-review format 1"
COLUMNS: tuple[tuple[str, str, float], ...] = (  # key, header, width
    ("rank", "#", 5),
    ("kind", "Kind", 12),
    ("ref_a", "Ref A", 24),
    ("set_a", "Set A", 16),
    ("text_a", "Text A", 50),
    ("ref_b", "Ref B", 24),
    ("set_b", "Set B", 16),
    ("text_b", "Text B", 50),
    ("score", "Score", 8),
    ("margin", "Margin", 8),
    ("together", "Same standard now", 11),
    ("standard_a", "Standard A", 11),
    ("standard_b", "Standard B", 11),
    ("why", "Why listed", 40),
    ("decision", "Decision", 12),
    ("by", "By", 14),
    ("reason", "Reason", 40),
)


class ReviewRow(Model):
    """One pair for a person to decide: both requirements, the score and what the engine did."""

    rank: int
    kind: Kind
    ref_a: str
    set_a: str
    text_a: str
    ref_b: str
    set_b: str
    text_b: str
    score: float
    margin: float = Field(description="Distance from flipping the engine's decision, in score units.")
    together: bool
    standard_a: str
    standard_b: str
    why: str


class _Pairs:
    """Pair lookup by item numbers; unscored pairs (nearest-neighbour path) count as 0, as in clustering."""

    def __init__(self, scores: PairScores) -> None:
        self.scores = scores
        self.where: dict[tuple[int, int], int] | None = None
        if not scores.exact:
            self.where = {
                ab: k for k, ab in enumerate(zip(scores.i.tolist(), scores.j.tolist(), strict=True))
            }

    def index(self, a: int, b: int) -> int | None:
        a, b = min(a, b), max(a, b)
        if self.where is not None:
            return self.where.get((a, b))
        return a * self.scores.n - a * (a + 1) // 2 + (b - a - 1)  # position in np.triu_indices order

    def score(self, a: int, b: int) -> float:
        k = self.index(a, b)
        return 0.0 if k is None else float(self.scores.score[k])


def decided_pairs(overrides: Overrides) -> Callable[[str, str], bool]:
    """A test for pairs a person already decided: joined by must-links, or named in one cannot-link."""
    parent: dict[str, str] = {}

    def find(ref: str) -> str:
        while parent.setdefault(ref, ref) != ref:
            ref = parent[ref]
        return ref

    for link in overrides.must_link:
        for ref in link.refs[1:]:
            parent[find(ref)] = find(link.refs[0])
    apart = {frozenset((a, b)) for link in overrides.cannot_link for a in link.refs for b in link.refs}
    return lambda a, b: find(a) == find(b) or frozenset((a, b)) in apart


def review_candidates(consolidation: Any, overrides: Overrides, limit: int = 50) -> list[ReviewRow]:
    """The pairs most worth a person's decision, most uncertain first (pure, deterministic).

    Args:
        consolidation: A `framework.Consolidation` (items, scores, clusters and the framework).
        overrides: The overrides in force; pairs they already decide are not listed.
        limit: At most this many rows.
    """
    settings: Settings = consolidation.framework.framework.engine
    standard_of = {s.ref: st.id for st in consolidation.framework.standards for s in st.sources}
    items = consolidation.items
    return rank_candidates(
        items,
        consolidation.scores,
        consolidation.clusters,
        [standard_of[it.ref] for it in items],
        settings.threshold,
        decided_pairs(overrides),
        limit,
    )


def rank_candidates(
    items: Sequence[Item],
    scores: PairScores,
    clusters: Sequence[Sequence[int]],
    standard_of: Sequence[str],
    cut: float,
    decided: Callable[[str, str], bool],
    limit: int,
) -> list[ReviewRow]:
    """Rank review rows over any engine output (the core of `review_candidates`).

    Args:
        items: The requirements, in item-number order.
        scores: Their scored pairs.
        clusters: The clusters (lists of item numbers) the engine made.
        standard_of: The standard id of each item.
        cut: The threshold the clusters were cut at.
        decided: True for a pair of refs already decided, which is not listed.
        limit: At most this many rows.
    """
    cluster_of = np.zeros(len(items), dtype=np.int64)
    for number, members in enumerate(clusters):
        cluster_of[list(members)] = number
    found: dict[tuple[int, int], tuple[float, str, str, float]] = {}  # (a, b) -> margin, kind, why, score

    def offer(a: int, b: int, margin: float, kind: str, why: str, score: float) -> tuple[int, int] | None:
        """Record a candidate row, keeping a pair's smallest margin; the pair, or None when decided."""
        key, entry = (min(a, b), max(a, b)), (round(margin, 9), kind, why, score)
        if decided(items[key[0]].ref, items[key[1]].ref):
            return None
        current = found.get(key)
        if current is None or (entry[0], _KIND_ORDER[kind]) < (current[0], _KIND_ORDER[current[1]]):
            found[key] = entry
        return key

    own = _own_means(len(items), scores, cluster_of)
    _weak_member_rows(items, clusters, _Pairs(scores), own, cut, standard_of, offer)
    # Each kind offers at most `limit` undecided rows, smallest margins first: more could not make the cut.
    _near_miss_rows(items, scores, cluster_of, own, standard_of, offer, limit)
    _boundary_rows(items, scores, cluster_of, cut, standard_of, offer, limit)
    ranked = sorted(found.items(), key=lambda kv: (kv[1][0], _KIND_ORDER[kv[1][1]], kv[0]))[:limit]
    return [
        ReviewRow(
            rank=rank,
            kind=kind,  # type: ignore[arg-type]
            ref_a=items[a].ref,
            set_a=items[a].set_id,
            text_a=items[a].text,
            ref_b=items[b].ref,
            set_b=items[b].set_id,
            text_b=items[b].text,
            score=round(score, 4),
            margin=round(margin, 4),
            together=bool(cluster_of[a] == cluster_of[b]),
            standard_a=standard_of[a],
            standard_b=standard_of[b],
            why=why,
        )
        for rank, ((a, b), (margin, kind, why, score)) in enumerate(ranked, 1)
    ]


def _own_means(n: int, scores: PairScores, cluster_of: np.ndarray) -> np.ndarray:
    """Each item's mean score to the other members of its cluster (NaN for a singleton)."""
    same = cluster_of[scores.i] == cluster_of[scores.j]
    total = np.zeros(n)
    np.add.at(total, scores.i[same], scores.score[same])
    np.add.at(total, scores.j[same], scores.score[same])
    size = np.bincount(cluster_of)[cluster_of] if n else np.zeros(0, dtype=np.int64)
    return np.where(size > 1, total / np.maximum(size - 1, 1), np.nan)


def _weak_member_rows(items, clusters, pairs, own, cut, standard_of, offer) -> None:
    for members in clusters:
        if len(members) < 2:
            continue
        s, a, b = min((pairs.score(a, b), a, b) for x, a in enumerate(members) for b in members[x + 1 :])
        weaker = a if own[a] <= own[b] else b
        why = (
            f"weakest pair of {standard_of[a]} ({len(members)} members); {items[weaker].ref} averages "
            f"{own[weaker]:.3f} there (threshold {cut:g})"
        )
        offer(a, b, abs(float(own[weaker]) - cut), "weak-member", why, s)


def _first(keys: np.ndarray, *ties: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct key, the position of its entry with the smallest ties (compared in order)."""
    order = np.lexsort((*reversed(ties), keys))
    distinct, at = np.unique(keys[order], return_index=True)
    return distinct, order[at]


def _walk(margins: np.ndarray, offer_one: Callable[[int], tuple[int, int] | None], limit: int) -> None:
    """Offer candidates in margin order until `limit` distinct pairs are taken (decided ones are refused)."""
    taken: set[tuple[int, int]] = set()
    for k in np.lexsort((np.arange(len(margins)), np.round(margins, 9))).tolist():
        if np.isnan(margins[k]) or (pair := offer_one(k)) is None:
            continue
        taken.add(pair)
        if len(taken) >= limit:
            return


def _near_miss_rows(items, scores, cluster_of, own, standard_of, offer, limit) -> None:
    apart = cluster_of[scores.i] != cluster_of[scores.j]
    a = np.concatenate([scores.i[apart], scores.j[apart]])
    b = np.concatenate([scores.j[apart], scores.i[apart]])
    s = np.concatenate([scores.score[apart], scores.score[apart]])
    best = np.full(len(items), -np.inf)
    np.maximum.at(best, a, s)
    top = s == best[a]
    who, at = _first(a[top], b[top])  # each item's best partner elsewhere, ties to the lower item number
    partner = np.full(len(items), -1)
    partner[who] = b[top][at]
    # Alone in its standard (NaN mean): its best pair is a boundary row. Nothing above 0 elsewhere: no row.
    margins = np.where((partner >= 0) & (best > 0), np.abs(own - best), np.nan)

    def offer_one(x: int) -> tuple[int, int] | None:
        y = int(partner[x])
        why = (
            f"{items[x].ref} averages {own[x]:.3f} in {standard_of[x]} but scores {best[x]:.3f} with "
            f"{items[y].ref} in {standard_of[y]}"
        )
        return offer(x, y, float(margins[x]), "near-miss", why, float(best[x]))

    _walk(margins, offer_one, limit)


def _boundary_rows(items, scores, cluster_of, cut, standard_of, offer, limit) -> None:
    n = len(items)
    names = {name: k for k, name in enumerate(sorted({it.set_id for it in items}))}
    sets = np.array([names[it.set_id] for it in items], dtype=np.int64)
    apart = np.flatnonzero(cluster_of[scores.i] != cluster_of[scores.j])
    i, j, s = scores.i[apart], scores.j[apart], scores.score[apart]
    low, high = np.minimum(cluster_of[i], cluster_of[j]), np.maximum(cluster_of[i], cluster_of[j])
    groups, group = np.unique(low * n + high, return_inverse=True)  # one group per pair of standards
    total = np.zeros(len(groups))
    np.add.at(total, group, s)
    size = np.bincount(cluster_of, minlength=n)
    linkage = total / (size[groups // n] * size[groups % n])
    # Each group is shown as its closest cross-set pair, ties to the lower refs.
    cross = sets[i] != sets[j]
    best = np.full(len(groups), -np.inf)
    np.maximum.at(best, group[cross], s[cross])
    top = cross & (s == best[group])
    which, at = _first(group[top], i[top], j[top])
    pair = np.full(len(groups), -1)
    pair[which] = np.flatnonzero(top)[at]
    # No cross-set pair, or nothing connects the two: no row.
    margins = np.where((pair >= 0) & (linkage > 0), np.abs(linkage - cut), np.nan)

    def offer_one(g: int) -> tuple[int, int] | None:
        k = int(pair[g])
        a, b = int(i[k]), int(j[k])
        why = f"score {s[k]:.3f}, threshold {cut:g}"
        if not size[cluster_of[a]] == size[cluster_of[b]] == 1:
            mean = f"{standard_of[a]} and {standard_of[b]} average {linkage[g]:.3f}"
            why = f"{mean} (threshold {cut:g}); closest pair {s[k]:.3f}"
        return offer(a, b, float(margins[g]), "boundary", why, float(s[k]))

    _walk(margins, offer_one, limit)


# --- Rendering ------------------------------------------------------------------------------------


def render_review_xlsx(rows: Sequence[ReviewRow]) -> bytes:
    """The review workbook: one row per pair, a Decision dropdown (same / different / skip), By and Reason."""
    from openpyxl import Workbook
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from .export.layout import Column
    from .export.style import BOLD, put, solid, table

    book = Workbook()
    ws = book.active
    ws.title = REVIEW_SHEET
    columns = [Column(key, header, width, wrap=width >= 16) for key, header, width in COLUMNS]
    values = [{**row.model_dump(), "together": "yes" if row.together else "no"} for row in rows]
    last = table(ws, columns, [[v.get(c.key) for c in columns] for v in values])
    ws.freeze_panes = "C2"  # keep the refs in view while scrolling right to the Decision column
    letter = get_column_letter(1 + [c.key for c in columns].index("decision"))
    decision = f"{letter}2:{letter}{max(last, 2)}"
    choices = '"' + ",".join(DECISIONS) + '"'
    ws.add_data_validation(
        DataValidation(
            type="list",
            formula1=choices,
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Decision",
            error="Pick same, different or skip.",
            sqref=decision,
        )
    )
    for value, colour in (("same", "C6EFCE"), ("different", "FFC7CE"), ("skip", "D9D9D9")):
        rule = CellIsRule(operator="equal", formula=[f'"{value}"'], fill=solid(colour))
        ws.conditional_formatting.add(decision, rule)
    meta = book.create_sheet(META_SHEET)
    put(meta["A1"], "format").font = BOLD
    put(meta["B1"], FORMAT_MARKER)
    meta.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return canonical_xlsx(out.getvalue())


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def render_review_markdown(rows: Sequence[ReviewRow]) -> str:
    """The review rows as a Markdown table (for a pull request or an issue); decide in the workbook."""
    lines = [
        "# Review: decisions worth a person's time",
        "",
        f"{len(rows)} pair(s), most uncertain first. Decide in the workbook "
        "(`qms review --out review.xlsx`), then run `qms review --apply review.xlsx`.",
        "",
        "| # | Kind | A | B | Score | Same standard now | Why listed | Decision |",
        "|--:|---|---|---|--:|---|---|---|",
    ]
    for r in rows:
        now = f"yes ({r.standard_a})" if r.together else f"no ({r.standard_a} / {r.standard_b})"
        lines.append(
            f"| {r.rank} | {r.kind} | `{_md(r.ref_a)}`: {_md(r.text_a)} | `{_md(r.ref_b)}`: {_md(r.text_b)} "
            f"| {r.score:.3f} | {now} | {_md(r.why)} |  |"
        )
    return "\n".join(lines) + "\n"
