import numpy as np

from qms_standards.models import Settings
from qms_standards.similarity import Item, corresponding_sets, normalise, score_pairs


def _item(ref: str, title: str, text: str) -> Item:
    set_id, _, req = ref.partition(":")
    return Item(ref=ref, set_id=set_id, req_id=req, title=title, text=f"{title}. {text}")


def test_normalise_folds_case_punctuation_accents_and_british_spelling() -> None:
    assert (
        normalise("Clock  Synchronisation — Organisation's café!")
        == "clock synchronization organization s cafe"
    )
    assert normalise("Organized") == normalise("organised")


def test_corresponding_sets_need_alike_titles_on_shared_numbers() -> None:
    items = [
        _item("a:4.1", "Context of the organization", ""),
        _item("b:4.1", "Context of the organization", ""),
        _item("a:5.2", "Quality policy", ""),
        _item("b:5.2", "Healthcare quality policy", ""),
        _item("a:7.2", "Competence", ""),
        _item("b:7.2", "Competence", ""),
        _item("c:4.1", "Integrated", ""),
        _item("c:5.2", "Leadership and commitment", ""),
        _item("c:7.2", "Risk criteria", ""),
    ]
    assert corresponding_sets(items) == {("a", "b")}


def test_score_blends_signals_and_same_clause_bonus_applies_only_to_corresponding_sets(fake_embedder) -> None:
    items = [
        _item("a:4.1", "Context of the organization", "Issues."),
        _item("b:4.1", "Context of the organization", "Issues."),
        _item("a:5.2", "Quality policy", "Policy."),
        _item("b:5.2", "Healthcare quality policy", "Policy."),
        _item("a:7.2", "Competence", "Skills."),
        _item("b:7.2", "Competence", "Skills."),
    ]
    vectors = fake_embedder.encode([i.text for i in items])
    titles = fake_embedder.encode([i.title for i in items])
    plain = Settings(clause_bonus=0.0, mutual_bonus=0.0)
    scored = score_pairs(items, vectors, titles, plain)
    bonus = score_pairs(items, vectors, titles, Settings(clause_bonus=0.1, mutual_bonus=0.0))
    pair = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(scored.i, scored.j, strict=True))}
    k = pair[(2, 3)]  # a:5.2 ~ b:5.2: same number in corresponding sets
    assert bonus.structure[k] == 0.1
    assert np.isclose(bonus.score[k], min(1.0, scored.score[k] + 0.1))
    same_set = pair[(0, 2)]
    assert bonus.structure[same_set] == 0.0


def test_same_set_pairs_are_damped(fake_embedder) -> None:
    items = [
        _item("a:1", "Competence", "Skills."),
        _item("a:2", "Competence", "Skills."),
        _item("b:1", "Competence", "Skills."),
    ]
    vectors = fake_embedder.encode([i.text for i in items])
    titles = fake_embedder.encode([i.title for i in items])
    scores = score_pairs(items, vectors, titles, Settings(mutual_bonus=0.0, same_set_factor=0.5))
    match = dict(
        zip(zip(scores.i.tolist(), scores.j.tolist(), strict=True), scores.match.tolist(), strict=True)
    )
    assert match[(0, 1)] < match[(0, 2)]


def test_nearest_neighbour_path_scores_the_same_pairs_the_same(fake_embedder) -> None:
    words = ["staff", "training", "infection", "risk", "policy", "audit", "records", "consent", "safety"]
    rng = np.random.default_rng(7)
    items = [
        _item(f"{'ab'[k % 2]}:{k}", " ".join(rng.choice(words, 2)), " ".join(rng.choice(words, 5)))
        for k in range(40)
    ]
    vectors = fake_embedder.encode([i.text for i in items])
    titles = fake_embedder.encode([i.title for i in items])
    full = score_pairs(items, vectors, titles, Settings(mutual_bonus=0.0))
    knn = score_pairs(items, vectors, titles, Settings(mutual_bonus=0.0, exact_pairs_limit=2, neighbours=5))
    assert not knn.exact and len(knn.i) < len(full.i)
    # Every part of a pair is the same on both paths; only each item's local level reads its candidates.
    for part in ("match", "blend", "meaning", "subject"):
        exact = dict(
            zip(zip(full.i.tolist(), full.j.tolist(), strict=True), getattr(full, part).tolist(), strict=True)
        )
        for a, b, value in zip(knn.i.tolist(), knn.j.tolist(), getattr(knn, part).tolist(), strict=True):
            assert np.isclose(value, exact[(a, b)], atol=1e-5), part


def test_one_sets_requirements_under_different_headings_lose_the_heading_penalty(fake_embedder) -> None:
    def item(ref: str, section: str | None = None) -> Item:
        set_id, _, req = ref.partition(":")
        return Item(
            ref=ref,
            set_id=set_id,
            req_id=req,
            title="Control",
            text="Control. Keep control.",
            section=section,
        )

    items = [
        item("iso:8.4.2", "8 Operation"),  # 0: supplier control
        item("iso:8.4.3", "8 Operation"),  # 1: its sibling
        item("iso:8.5.6", "8 Operation"),  # 2: another heading (8.5)
        item("iso:8.5", "8 Operation"),  # 3: the parent of 8.5.6
        item("cqc:safe/medicines", "Safe"),  # 4
        item("cqc:safe/infection", "Safe"),  # 5: same heading (safe)
        item("cqc:caring/choice", "Caring"),  # 6: another key question
        item("adobe:AM-01"),  # 7: no heading known
        item("adobe:BC-01"),  # 8
        item("other:1.1", "1 Scope"),  # 9: another set altogether
    ]
    vectors = fake_embedder.encode([i.text for i in items])
    titles = fake_embedder.encode([i.title for i in items])
    plain = score_pairs(items, vectors, titles, Settings())
    off = Settings().model_copy(
        update={"grouping": Settings().grouping.model_copy(update={"other_heading": 0.0})}
    )
    without = score_pairs(items, vectors, titles, off)
    apart = {
        (a, b) for a, b, x in zip(plain.i.tolist(), plain.j.tolist(), plain.apart.tolist(), strict=True) if x
    }
    assert apart == {(0, 2), (0, 3), (1, 2), (1, 3), (4, 6), (5, 6)}
    k = {(a, b): n for n, (a, b) in enumerate(zip(plain.i.tolist(), plain.j.tolist(), strict=True))}
    penalty = Settings().grouping.other_heading
    assert penalty > 0
    for pair, n in k.items():
        expected = without.blend[n] - (penalty if pair in apart else 0.0)
        assert np.isclose(plain.blend[n], expected), pair
