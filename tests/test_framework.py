import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MAPPINGS, STANDARDS, FakeEmbedder
from engine_helpers import make_tree, run
from qms_standards.cluster import cluster_requirements
from qms_standards.files import dump_model
from qms_standards.framework import assign_ids, check_traceability, consolidate, to_items
from qms_standards.load import load_catalogue, load_standard_sets
from qms_standards.models import IdsLock, LockEntry, Settings
from qms_standards.risk import rating
from qms_standards.similarity import _nearest_pairs


def _refs(standards: Path) -> list[str]:
    return [it.ref for it in to_items(load_standard_sets([standards]))]


def test_every_requirement_lands_in_exactly_one_standard(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    framework = run(standards, mappings).framework
    placed = Counter(s.ref for st_ in framework.standards for s in st_.sources)
    assert sorted(placed) == sorted(_refs(standards))
    assert set(placed.values()) == {1}


def test_overlapping_requirements_share_a_standard(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    framework = run(standards, mappings).framework
    home = {s.ref: st_.id for st_ in framework.standards for s in st_.sources}
    assert home["alpha-2020:7.2"] == home["beta-2023:7.2"]
    assert home["alpha-2020:10.2"] == home["beta-2023:10.2"]
    assert home["gamma-2024:caring/kindness"] != home["alpha-2020:7.2"]


def test_standard_fields_follow_the_documented_rules(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    framework = run(standards, mappings).framework
    domain_ids = {d.id for d in framework.domains}
    total = sum(s.risk.score for s in framework.standards)
    for standard in framework.standards:
        sets = {s.ref.split(":")[0] for s in standard.sources}
        assert standard.domain in domain_ids
        assert standard.risk.recurrence == len(sets)
        assert standard.risk.score == standard.risk.severity * standard.risk.likelihood
        assert standard.risk.rating == rating(standard.risk.score)
        assert standard.risk.weight == pytest.approx(standard.risk.score / total, abs=1e-4)
        assert {s.relationship for s in standard.sources} <= {"equal", "subset", "superset", "intersect"}
        assert any(s.relationship == "equal" for s in standard.sources)


def test_rating_bands() -> None:
    assert [rating(s) for s in (1, 3, 4, 6, 8, 12, 15, 25)] == [
        "low",
        "low",
        "moderate",
        "moderate",
        "high",
        "high",
        "extreme",
        "extreme",
    ]


def test_output_is_byte_identical_and_ids_stable_across_runs(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    first = run(standards, mappings)
    (mappings / "ids.lock.yaml").write_text(dump_model(first.lock))
    second = run(standards, mappings)
    assert dump_model(first.framework) == dump_model(second.framework)
    assert second.lock == first.lock


def test_ids_survive_a_new_set(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    first = run(standards, mappings)
    (mappings / "ids.lock.yaml").write_text(dump_model(first.lock))
    (standards / "delta.yaml").write_text(
        yaml.safe_dump(
            {
                "id": "delta-2025",
                "name": "Delta",
                "publisher": "Test",
                "version": "1",
                "licence": "Test",
                "requirements": [
                    {"id": "1", "title": "Consent", "text": "Ask people for consent before care."}
                ],
            }
        )
    )
    second = run(standards, mappings)
    before = {s.id: {x.ref for x in s.sources} for s in first.framework.standards}
    after = {s.id: {x.ref for x in s.sources} for s in second.framework.standards}
    # Ids follow members: an id still in use holds some of the refs it held, and most ids are still in use.
    # (A new set can move members: centring and each item's local level read the whole corpus.)
    assert all(after[sid] & before[sid] for sid in set(after) & set(before))
    assert len(set(after) & set(before)) >= len(before) - 2
    # The new requirement is placed exactly once.
    assert sum("delta-2025:1" in refs for refs in after.values()) == 1


def test_assign_ids_is_one_to_one_and_retires_lost_ids() -> None:
    lock = IdsLock(
        standards=(
            LockEntry(id="QS-001", refs=("a:1", "b:1")),
            LockEntry(id="QS-002", refs=("a:2",)),
            LockEntry(id="QS-003", refs=("a:3",)),
        )
    )
    ids, new_lock = assign_ids([["a:1"], ["b:1", "a:2"], ["c:9"]], lock)
    assert ids == ["QS-001", "QS-002", "QS-004"]
    assert new_lock.retired == (LockEntry(id="QS-003", refs=("a:3",)),)
    again, _ = assign_ids([["x:1"]], new_lock)
    assert again == ["QS-005"]


def test_a_retired_id_comes_back_only_for_exactly_its_refs() -> None:
    lock = IdsLock(standards=(LockEntry(id="QS-001", refs=("a:1",)), LockEntry(id="QS-002", refs=("b:1",))))
    # A trial run at a lower threshold merges the two: QS-002 retires with its refs.
    ids, trial = assign_ids([["a:1", "b:1"]], lock)
    assert ids == ["QS-001"] and trial.retired == (LockEntry(id="QS-002", refs=("b:1",)),)
    # Back at the default: the same two clusters, the same two ids.
    ids, back = assign_ids([["a:1"], ["b:1"]], trial)
    assert ids == ["QS-001", "QS-002"] and back.retired == ()
    # A cluster that only overlaps a retired id's refs never gets that id.
    ids, _ = assign_ids([["a:1"], ["b:1", "c:1"]], trial)
    assert ids == ["QS-001", "QS-003"]


def test_a_lock_with_bare_retired_ids_still_reads() -> None:
    lock = IdsLock.model_validate({"standards": [], "retired": ["QS-004"]})
    assert lock.retired == (LockEntry(id="QS-004", refs=()),)
    assert assign_ids([["z:1"]], lock)[0] == ["QS-005"]


def test_overrides_and_exclusions_apply(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    first = run(standards, mappings)
    (mappings / "ids.lock.yaml").write_text(dump_model(first.lock))
    target = next(
        s for s in first.framework.standards if any(x.ref == "gamma-2024:caring/kindness" for x in s.sources)
    )
    (mappings / "overrides.yaml").write_text(
        yaml.safe_dump(
            {
                "exclude": [{"ref": "alpha-2020:4.1", "reason": "Covered by the trust's strategy"}],
                "cannot_link": [{"refs": ["alpha-2020:7.2", "beta-2023:7.2"], "reason": "test"}],
                "standards": [
                    {
                        "id": target.id,
                        "title": "Compassionate care",
                        "domain": "D3",
                        "severity": 5,
                        "likelihood": 4,
                        "qms_component": "assurance",
                    }
                ],
            },
            sort_keys=False,
        )
    )
    framework = run(standards, mappings).framework
    assert [(e.ref, e.reason) for e in framework.excluded] == [
        ("alpha-2020:4.1", "Covered by the trust's strategy")
    ]
    home = {s.ref: st_.id for st_ in framework.standards for s in st_.sources}
    assert "alpha-2020:4.1" not in home
    assert home["alpha-2020:7.2"] != home["beta-2023:7.2"]
    changed = next(s for s in framework.standards if s.id == target.id)
    assert (changed.title, changed.domain, changed.risk.score, changed.qms_component) == (
        "Compassionate care",
        "D3",
        20,
        "assurance",
    )
    check_traceability(framework, _refs(standards))


def test_target_gives_that_many_standards(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    assert len(run(standards, mappings, Settings(target=4)).framework.standards) == 4


_WORDS = [
    "staff",
    "training",
    "infection",
    "risk",
    "policy",
    "audit",
    "records",
    "consent",
    "safety",
    "learning",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3),
                st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6),
            ),
            min_size=1,
            max_size=6,
        ),
        min_size=1,
        max_size=3,
    ),
    st.floats(min_value=0.1, max_value=0.95),
)
def test_traceability_invariant_on_random_inputs(tmp_path_factory, sets, threshold) -> None:
    root = tmp_path_factory.mktemp("random")
    folder = root / "sets"
    folder.mkdir()
    for n, requirements in enumerate(sets):
        (folder / f"s{n}.yaml").write_text(
            yaml.safe_dump(
                {
                    "id": f"set-{n}",
                    "name": f"Set {n}",
                    "publisher": "Test",
                    "version": "1",
                    "licence": "Test",
                    "requirements": [
                        {"id": str(k + 1), "title": " ".join(t), "text": " ".join(x)}
                        for k, (t, x) in enumerate(requirements)
                    ],
                }
            )
        )
    standards, mappings = make_tree(root / "tree", folder)
    framework = run(standards, mappings, Settings(threshold=threshold)).framework
    check_traceability(framework, _refs(standards))
    shutil.rmtree(root)


def _steps(reports: list[tuple[str, int, int]]) -> list[str]:
    return list(dict.fromkeys(name for name, _, _ in reports))


def _check_counts(reports: list[tuple[str, int, int]]) -> None:
    """Within each step the count never goes back or past its total, and every step ends complete."""
    for name in _steps(reports):
        mine = [(done, total) for step, done, total in reports if step == name]
        assert all(0 <= done <= total for done, total in mine), name
        assert [d for d, _ in mine] == sorted(d for d, _ in mine), name
        assert mine[-1][0] == mine[-1][1], name


@pytest.mark.parametrize("exact_pairs_limit", [4000, 2])
def test_consolidation_reports_each_step_with_counts(exact_pairs_limit: int) -> None:
    reports: list[tuple[str, int, int]] = []
    catalogue = load_catalogue(
        [STANDARDS], MAPPINGS, lambda done, total: reports.append(("Reading", done, total))
    )
    assert catalogue.mappings is not None
    result = consolidate(
        catalogue.sets,
        catalogue.mappings,
        Settings(exact_pairs_limit=exact_pairs_limit),
        FakeEmbedder(),
        progress=lambda *report: reports.append(report),
    )
    assert _steps(reports) == [
        "Reading",
        "Embedding",
        "Scoring pairs",
        "Clustering",
        "Matching equals",
        "Building standards",
    ]
    _check_counts(reports)
    totals = {name: total for name, _, total in reports}
    n = sum(len(s.set.requirements) for s in catalogue.sets)
    assert totals["Reading"] == len(list(STANDARDS.glob("*.yaml")))
    # Rows searched: each requirement once, or twice on the scalable path (nearest by text, then by title).
    assert totals["Scoring pairs"] == (n if exact_pairs_limit >= n else 2 * n)
    assert totals["Clustering"] == n - 1  # merges, at most one fewer than the requirements
    assert totals["Building standards"] == len(result.framework.standards)


def test_nearest_neighbour_search_reports_each_block() -> None:
    vectors = np.random.default_rng(0).standard_normal((100, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    reports: list[tuple[int, int]] = []
    _nearest_pairs(vectors, 5, lambda done, total: reports.append((done, total)), block=32)
    assert reports == [(32, 100), (64, 100), (96, 100)]  # the caller reports 100 once all is scored


def test_clustering_reports_merges_and_ends_complete() -> None:
    reports: list[tuple[str, int, int]] = []
    pairs = [(0, 1, 0.9), (1, 2, 0.8), (0, 2, 0.8), (3, 4, 0.7)]
    clusters = cluster_requirements(
        6, pairs, threshold=0.5, progress=lambda done, total: reports.append(("c", done, total))
    )
    assert clusters == [[0, 1, 2], [3, 4], [5]]
    assert reports[0] == ("c", 0, 5) and reports[-1] == ("c", 5, 5)
    _check_counts(reports)


def test_a_must_link_moves_a_requirement_but_does_not_make_it_equal(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    before = run(standards, mappings).framework
    relationship = {s.ref: s.relationship for st_ in before.standards for s in st_.sources}
    home = {s.ref: st_.id for st_ in before.standards for s in st_.sources}
    a, b = "alpha-2020:7.2", "gamma-2024:caring/kindness"
    assert home[a] != home[b]
    (mappings / "overrides.yaml").write_text(f"must_link:\n  - refs: [{a}, {b}]\n")
    after = run(standards, mappings).framework
    joined = next(st_ for st_ in after.standards if {a, b} <= {s.ref for s in st_.sources})
    links = {s.ref: s for s in joined.sources}
    assert links[b].relationship != "equal"  # joined by a person, not matched by the engine
    for ref, link in links.items():
        if ref != b and home[ref] == home[a]:
            assert link.relationship == relationship[ref], ref  # the others keep their labels


def _members(consolidation) -> list[list[str]]:
    return sorted(sorted(s.ref for s in st.sources) for st in consolidation.framework.standards)


def test_an_agreed_framework_holds_within_keep_agreed_of_the_cut(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    agreed = run(standards, mappings, Settings(threshold=0.42))  # staffing joins 7.2 at about 0.425
    assert agreed.lock.cut == "threshold 0.42"
    # A lock that does not say its cut (written before locks did) is agreed at any cut: at a stricter cut,
    # within keep_agreed of the agreed one, the agreed standards hold ...
    (mappings / "ids.lock.yaml").write_text(dump_model(agreed.lock.model_copy(update={"cut": None})))
    kept = run(standards, mappings, Settings(threshold=0.44, keep_agreed=0.03))
    assert _members(kept) == _members(agreed)
    assert kept.agreed is not None and kept.agreed.any()
    # ... while without the lock's weight, or beyond it, some split.
    assert _members(run(standards, mappings, Settings(threshold=0.44, keep_agreed=0.0))) != _members(agreed)
    assert _members(run(standards, mappings, Settings(threshold=0.47, keep_agreed=0.03))) != _members(agreed)


def test_a_lock_written_at_another_cut_does_not_pull_the_next_run(tmp_path: Path) -> None:
    standards, mappings = make_tree(tmp_path)
    fresh = run(standards, mappings)
    (mappings / "ids.lock.yaml").write_text(dump_model(fresh.lock))
    trial = run(standards, mappings, Settings(target=3))  # a trial, written to the lock as it would be
    assert trial.lock.cut == "target 3" and len(trial.framework.standards) == 3
    (mappings / "ids.lock.yaml").write_text(dump_model(trial.lock))
    after = run(standards, mappings)
    assert after.agreed is not None and not after.agreed.any()
    assert _members(after) == _members(fresh)
    assert after.lock.cut == f"threshold {Settings().threshold:g}"


def test_agreed_pairs_are_those_one_locked_standard_holds() -> None:
    from qms_standards.framework import agreed_pairs
    from qms_standards.similarity import Item

    items = [
        Item(ref=r, set_id=r.split(":")[0], req_id=r.split(":")[1], title="t", text="t")
        for r in ("a:1", "a:2", "b:1", "c:1")
    ]
    i, j = np.triu_indices(4, k=1)
    scores = type("S", (), {"i": i, "j": j})()
    lock = IdsLock(
        standards=(LockEntry(id="QS-001", refs=("a:1", "b:1")), LockEntry(id="QS-002", refs=("a:2",)))
    )
    flags = agreed_pairs(items, scores, lock, "threshold 0.4")  # type: ignore[arg-type]
    assert {(int(a), int(b)) for a, b, f in zip(i, j, flags, strict=True) if f} == {(0, 2)}
    at = lock.model_copy(update={"cut": "threshold 0.4"})
    assert agreed_pairs(items, scores, at, "threshold 0.4").any()  # type: ignore[arg-type]
    assert not agreed_pairs(items, scores, at, "target 60").any()  # type: ignore[arg-type]
