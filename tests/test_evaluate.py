import json
from pathlib import Path

import pytest
import yaml

from conftest import SHARED_EVAL
from qms_standards.errors import GoldError
from qms_standards.evaluate import evaluate_clusters, load_gold

GOLD = {
    "name": "tiny",
    "requirements": [
        {"id": f"{s}:{n}", "set": s, "ref_id": str(n), "text": f"Requirement {s} {n}"}
        for s in ("a", "b")
        for n in (1, 2, 3)
    ],
    "gold_pairs": [["a:1", "b:1", "equal"], ["a:2", "b:2", "subset"], ["a:3", "b:3", "intersect"]],
}


@pytest.fixture
def tiny(tmp_path: Path):
    path = tmp_path / "gold.yaml"
    path.write_text(yaml.safe_dump(GOLD, sort_keys=False))
    return load_gold(path)


def test_perfect_strict_clustering(tiny) -> None:
    result = evaluate_clusters(tiny, [["a:1", "b:1"], ["a:2"], ["b:2"], ["a:3"], ["b:3"]], 0.5)
    assert result.pairwise["strict"].f1 == 1.0
    assert result.pairwise["lenient"].precision == 1.0 and result.pairwise["lenient"].recall == 0.5
    assert result.bcubed["strict"].f1 == 1.0


def test_same_set_pairs_are_not_scored(tiny) -> None:
    result = evaluate_clusters(tiny, [["a:1", "a:2", "b:1"], ["b:2"], ["a:3"], ["b:3"]], None)
    # predicted cross-set pairs: (a:1, b:1) hit, (a:2, b:1) miss; (a:1, a:2) is same-set and ignored.
    assert result.pairwise["strict"].precision == 0.5
    assert result.pairwise["strict"].recall == 1.0


def test_everything_in_one_cluster_has_full_recall_low_precision(tiny) -> None:
    result = evaluate_clusters(tiny, [[r["id"] for r in GOLD["requirements"]]], None)
    assert result.pairwise["any"].recall == 1.0
    assert result.pairwise["any"].precision == pytest.approx(3 / 9, abs=1e-4)
    assert result.bcubed["any"].recall == 1.0


def test_bad_gold_file_names_line(tmp_path: Path) -> None:
    bad = dict(GOLD, gold_pairs=[["a:1", "b:9", "equal"]])
    path = tmp_path / "gold.yaml"
    path.write_text(yaml.safe_dump(bad, sort_keys=False))
    with pytest.raises(GoldError) as err:
        load_gold(path)
    assert err.value.problems[0].field == "gold_pairs[0]"
    assert "b:9" in err.value.problems[0].message
    assert err.value.problems[0].line == path.read_text().splitlines().index("- - a:1") + 1


@pytest.mark.slow
def test_calibrated_defaults_beat_the_baselines_on_the_gold_crosswalk(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from qms_standards.cli import app

    gold = SHARED_EVAL / "iso27001-2013-vs-2022.yaml"
    if not gold.exists():
        pytest.skip(f"gold crosswalk not found at {gold}")
    clusters = tmp_path / "clusters.json"
    result = CliRunner().invoke(
        app, ["evaluate", str(gold), "--json", "--clusters-out", str(clusters)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["crosswalks"][0]
    # Baselines (shared/eval/README.md): identical titles 0.77, tuned MiniLM + average linkage 0.85.
    assert report["equal"]["pairwise"]["strict"]["f1"] >= 0.92
    assert set(report["recall_at"]) == {"1", "5", "10"} and report["recall_at"]["5"] >= 0.9
    assert sorted(r for c in json.loads(clusters.read_text()) for r in c) == sorted(
        r["id"] for r in yaml.safe_load(gold.read_text())["requirements"]
    )


def _report(name: str, f1_by_cut: dict[float, float], default: float):  # type: ignore[no-untyped-def]
    from qms_standards.evaluate import CrosswalkReport, Evaluation, Scores

    def grouping(cut: float, f1: float) -> Evaluation:
        s = Scores(precision=f1, recall=f1, f1=f1)
        return Evaluation(
            gold=name, requirements=10, clusters=5, threshold=cut, pairwise={"any": s}, bcubed={"any": s}
        )

    return CrosswalkReport(
        gold=name,
        requirements=10,
        standards=grouping(default, f1_by_cut[default]),
        equal=grouping(0.87, 0.0),
        links={},
        related=0,
        recall_at={},
        sweep=tuple(grouping(c, f) for c, f in f1_by_cut.items()),
    )


def test_leave_one_out_takes_the_coarsest_cut_near_the_others_best() -> None:
    from qms_standards.evaluate import leave_one_out

    a = _report("a", {0.4: 0.50, 0.45: 0.59, 0.5: 0.60}, 0.45)
    b = _report("b", {0.4: 0.30, 0.45: 0.20, 0.5: 0.10}, 0.45)
    held = {h.gold: h for h in leave_one_out([a, b])}
    assert (held["b"].threshold, held["b"].f1, held["b"].default_f1) == (
        0.45,
        0.20,
        0.20,
    )  # 0.59 is near 0.60
    assert (held["a"].threshold, held["a"].f1) == (0.4, 0.50)
    assert leave_one_out([a]) == []  # nothing to choose on


def test_evaluate_takes_a_folder_and_refuses_an_empty_one(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from qms_standards.cli import app

    result = CliRunner().invoke(app, ["evaluate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no gold crosswalk (*.yaml) in this folder" in result.output


def test_a_run_scores_both_groupings_links_and_recall_at_k(tiny) -> None:
    from conftest import FakeEmbedder
    from qms_standards.evaluate import run_evaluation
    from qms_standards.models import Settings

    result = run_evaluation(tiny, Settings(), FakeEmbedder(), thresholds=(0.3, 0.6))
    ids = sorted(r.id for r in tiny.requirements)
    for grouping in (result.standards, result.equal):
        assert sorted(ref for c in grouping for ref in c) == ids  # every requirement once
    report = result.report
    assert report.standards.clusters == len(result.standards) and report.equal.clusters == len(result.equal)
    assert [e.threshold for e in report.sweep] == [0.3, 0.6]
    recall = [report.recall_at[k] for k in ("1", "5", "10")]
    assert (
        recall == sorted(recall) and recall[-1] == 1.0
    )  # with 3 candidates per set, k=5 finds every partner
    assert set(report.links) == {"strict", "lenient", "any"}
