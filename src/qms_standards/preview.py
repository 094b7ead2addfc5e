"""What a run would change: standards merged, split, retired, renamed or new; filled rows orphaned.

`qms diff` lists every change item by item for an auditor; this module groups the same differences by
standard, so `qms consolidate --dry-run` and `qms review --apply --dry-run` can show the effect of a run
before it is applied, and a real run can say plainly when it retires or merges a standard that people have
filled tracker rows for. Pure: frameworks (and a filled tracker) in, a `Preview` out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .models import Framework
from .tracker import Carry, FilledTracker, carry_entries, resolve_services


@dataclass(frozen=True)
class StandardChange:
    """One standard-level change between the current framework and the one a run would write."""

    kind: str  # merged | split | retired | renamed | reworded | new
    standard: str  # the standard id concerned (the surviving one for a merge)
    title: str
    detail: str
    filled_rows: int = 0  # filled tracker rows of the standard(s) concerned, when a tracker was given


@dataclass(frozen=True)
class Preview:
    """Everything a run would change, standard by standard, and what happens to filled tracker rows."""

    changes: tuple[StandardChange, ...] = ()
    orphaned: tuple[tuple[str, str, str], ...] = ()  # (standard id, service, why) of filled rows
    still_orphaned: int = 0  # rows already on the 'Orphaned entries' sheet that stay there: no change
    moved: tuple[tuple[str, str, str], ...] = ()  # (old id, new id, service) of filled rows
    counts: dict[str, int] = field(default_factory=dict)
    related_added: int = 0  # related links (standard, ref) the proposed framework lists and the current not
    related_removed: int = 0

    @property
    def unchanged(self) -> bool:
        """True when the run would change no standard, no related link and no filled row."""
        return not (self.changes or self.orphaned or self.moved or self.related_added or self.related_removed)

    def touching_filled_rows(self) -> tuple[StandardChange, ...]:
        """Retired or merged standards that hold filled tracker rows: what a real run must say plainly."""
        return tuple(c for c in self.changes if c.kind in ("retired", "merged") and c.filled_rows)


KINDS = ("merged", "split", "retired", "renamed", "reworded", "new")


def preview_run(current: Framework, proposed: Framework, tracker: FilledTracker | None = None) -> Preview:
    """Group the differences between `current` and `proposed` by standard (pure).

    - merged: two or more current standards have most of their requirements in one proposed standard;
    - split: a current standard's requirements would be spread over more than one standard;
    - retired: a current standard id is not in the proposed framework (where its requirements go is said);
    - renamed: same id, another title;
    - reworded: same id, another statement (its most central requirement's wording changed, or another
      requirement became the most central);
    - new: a proposed standard id that is not in the current framework.
    """
    old = {s.id: s for s in current.standards}
    new = {s.id: s for s in proposed.standards}
    home = {link.ref: s.id for s in proposed.standards for link in s.sources}
    filled = Counter(e.standard_id for e in tracker.filled_entries()) if tracker is not None else Counter()
    changes: list[StandardChange] = []
    main: dict[str, str] = {}
    for sid, standard in old.items():
        places = Counter(home[link.ref] for link in standard.sources if link.ref in home)
        if places:
            main[sid] = min(places, key=lambda k: (-places[k], k))
        if len(places) > 1:
            parts = ", ".join(
                f"{n} to {k}" for k, n in sorted(places.items(), key=lambda kv: (-kv[1], kv[0]))
            )
            changes.append(
                StandardChange(
                    "split", sid, standard.title, f"its requirements would go {parts}", filled[sid]
                )
            )
        if sid not in new:
            where = (
                f"its requirements would go to {', '.join(sorted(places))}" if places else "nothing remains"
            )
            changes.append(StandardChange("retired", sid, standard.title, where, filled[sid]))
        else:
            if new[sid].title != standard.title:
                changes.append(
                    StandardChange("renamed", sid, new[sid].title, f"was '{standard.title}'", filled[sid])
                )
            if new[sid].statement != standard.statement:
                detail = "its statement would change (qms diff shows the words)"
                changes.append(StandardChange("reworded", sid, new[sid].title, detail, filled[sid]))
    merged_into: dict[str, list[str]] = {}
    for sid, target in main.items():
        merged_into.setdefault(target, []).append(sid)
    for target, sources in sorted(merged_into.items()):
        if len(sources) > 1:
            names = " and ".join(f"{s} '{old[s].title}'" for s in sorted(sources))
            rows = sum(filled[s] for s in sources if s != target)
            changes.append(
                StandardChange("merged", target, new[target].title, f"{names} would become one", rows)
            )
    changes += [
        StandardChange("new", sid, s.title, f"{len(s.sources)} requirement(s)")
        for sid, s in new.items()
        if sid not in old
    ]
    changes.sort(key=lambda c: (KINDS.index(c.kind), _natural(c.standard)))
    related_old = {(s.id, link.ref) for s in current.standards for link in s.related}
    related_new = {(s.id, link.ref) for s in proposed.standards for link in s.related}
    carry = _carry(proposed, tracker)
    already = {(e.standard_id, e.service) for e in tracker.orphaned} if tracker else set()
    orphans = [(e.standard_id, e.service, why) for e, why in carry.orphaned] if carry else []
    return Preview(
        changes=tuple(changes),
        orphaned=tuple(o for o in orphans if o[:2] not in already),
        still_orphaned=sum(1 for o in orphans if o[:2] in already),
        moved=tuple((old_id, e.standard_id, e.service) for old_id, e in carry.moved) if carry else (),
        counts={kind: sum(1 for c in changes if c.kind == kind) for kind in KINDS},
        related_added=len(related_new - related_old),
        related_removed=len(related_old - related_new),
    )


def _carry(proposed: Framework, tracker: FilledTracker | None) -> Carry | None:
    if tracker is None:
        return None
    return carry_entries(proposed, tracker, resolve_services(None, tracker))


def _natural(text: str) -> tuple[int, str]:
    digits = "".join(ch for ch in text if ch.isdigit())
    return (int(digits) if digits else 0, text)
