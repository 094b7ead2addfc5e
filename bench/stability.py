"""Stability bench: does a meaning-preserving edit to one requirement move only what it should?

`python bench/stability.py [--limit N] [--json FILE]` consolidates the shipped standards once, then, for
each requirement in turn, rewords it (drops its last clause, see `reword`) and consolidates again with
the same id lock. It reports how many standards changed per edit: a standard changed when it gained or
lost a member, or was added or retired. Ideally one edit changes at most the standard that holds the
edited requirement; a large figure means the engine amplifies a wording change into re-clustering.

Embeddings are cached on disk (the usual cache), so the first run embeds every reworded text once and a
re-run is quicker. Prints the median, the worst case and the worst edits; `--json` also writes every edit.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qms_standards.embedding import (  # noqa: E402
    EmbeddingCache,
    SentenceTransformerEmbedder,
    default_cache_dir,
)
from qms_standards.framework import consolidate  # noqa: E402
from qms_standards.load import LoadedSet, load_catalogue  # noqa: E402
from qms_standards.models import Framework, Mappings, Settings  # noqa: E402

_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:and|or)\s+")


def reword(text: str) -> str | None:
    """Drop the last clause of a text: after its last comma, semicolon, colon, 'and' or 'or'.

    Returns None when the text has no clause to drop (nothing to test on that requirement). The edit
    keeps what the requirement is about, which is what the engine should compare.
    """
    body = text.rstrip().rstrip(".")
    cuts = [m.start() for m in _CLAUSE.finditer(body)]
    cut = next((c for c in reversed(cuts) if c >= len(body) // 3), None)
    if cut is None:
        return None
    return body[:cut].rstrip(" ,;:") + "."


def membership(framework: Framework) -> dict[str, frozenset[str]]:
    """Each standard id with the refs it holds."""
    return {s.id: frozenset(link.ref for link in s.sources) for s in framework.standards}


def changed_standards(before: Framework, after: Framework) -> int:
    """Standards added, retired, or whose members changed, between two runs."""
    a, b = membership(before), membership(after)
    return sum(1 for sid in a.keys() | b.keys() if a.get(sid) != b.get(sid))


@dataclass(frozen=True)
class Edit:
    """One reworded requirement and what it changed."""

    ref: str
    changed: int
    seconds: float


def _with_text(sets: list[LoadedSet], ref: str, text: str) -> list[LoadedSet]:
    out = []
    for loaded in sets:
        requirements = tuple(
            r.model_copy(update={"text": text}) if loaded.set.ref(r) == ref else r
            for r in loaded.set.requirements
        )
        out.append(replace(loaded, set=loaded.set.model_copy(update={"requirements": requirements})))
    return out


def run(limit: int | None) -> tuple[int, list[Edit], int]:
    """Consolidate the shipped sets once and once per reworded requirement.

    Returns:
        (standards in the baseline, every edit, requirements with no clause to drop)
    """
    catalogue = load_catalogue([ROOT / "standards"], ROOT / "mappings")
    assert catalogue.mappings is not None
    settings = Settings()
    embedder = SentenceTransformerEmbedder(settings.model)
    cache = EmbeddingCache(default_cache_dir(), settings.model)
    base = consolidate(catalogue.sets, catalogue.mappings, settings, embedder, cache)
    # Every edit runs against the baseline's own lock, so ids compare like for like.
    mappings: Mappings = catalogue.mappings.model_copy(update={"lock": base.lock})
    base = consolidate(catalogue.sets, mappings, settings, embedder, cache)
    edits: list[Edit] = []
    skipped = 0
    targets = [(s.set.ref(r), r.text) for s in catalogue.sets for r in s.set.requirements]
    for ref, text in targets[:limit] if limit else targets:
        new_text = reword(text)
        if new_text is None:
            skipped += 1
            continue
        start = time.perf_counter()
        result = consolidate(_with_text(catalogue.sets, ref, new_text), mappings, settings, embedder, cache)
        changed = changed_standards(base.framework, result.framework)
        edits.append(Edit(ref, changed, round(time.perf_counter() - start, 2)))
        print(f"{len(edits):4d} {ref:55s} {changed:3d} standard(s) changed", file=sys.stderr, flush=True)
    return len(base.framework.standards), edits, skipped


def summarise(standards: int, edits: list[Edit], skipped: int) -> dict[str, object]:
    """Median, worst case and distribution of standards changed per edit."""
    counts = [e.changed for e in edits]
    worst = sorted(edits, key=lambda e: (-e.changed, e.ref))[:5]
    return {
        "standards": standards,
        "edits": len(edits),
        "skipped_no_clause": skipped,
        "median_changed": statistics.median(counts) if counts else 0,
        "mean_changed": round(statistics.fmean(counts), 2) if counts else 0,
        "worst_changed": max(counts, default=0),
        "edits_changing_more_than_one": sum(1 for c in counts if c > 1),
        "worst_edits": [{"ref": e.ref, "changed": e.changed} for e in worst],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N requirements.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the summary and every edit.")
    args = parser.parse_args()
    standards, edits, skipped = run(args.limit)
    summary = summarise(standards, edits, skipped)
    print(json.dumps(summary, indent=2))
    if args.json is not None:
        data = {**summary, "all_edits": [e.__dict__ for e in edits]}
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
