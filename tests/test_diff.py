"""qms diff: properties on random frameworks, known edits, golden reports, CLI exit codes, no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import DATA, ROOT, check_golden
from qms_standards.cli import app
from qms_standards.diff import (
    ANY,
    KINDS,
    MIRROR_KINDS,
    Change,
    Changes,
    diff_frameworks,
    parse_fail_on,
)
from qms_standards.diff_render import (
    KIND_DESCRIPTIONS,
    render_changes_json,
    render_changes_markdown,
    word_diff,
)
from qms_standards.errors import FrameworkError, QmsError
from qms_standards.load import load_framework
from qms_standards.models import (
    QMS_COMPONENTS,
    Domain,
    Excluded,
    Framework,
    FrameworkInfo,
    RelatedLink,
    Risk,
    Settings,
    SourceLink,
    SourceSet,
    Standard,
    Weights,
)

V1 = DATA / "framework-v1.yaml"
V2 = DATA / "framework-v2.yaml"

# --- Oracle checks the lead can call on any pair of frameworks (e.g. built from the shipped sets) -----


def check_diff_scenario(old: Framework, new: Framework) -> Changes:
    """Check every invariant of `diff_frameworks` on one pair of frameworks and return the changes.

    - each framework diffed with itself is empty;
    - the changes are sorted, and `diff(new, old)` mirrors `diff(old, new)`;
    - `source-lost` names exactly the refs in OLD (held or excluded) that NEW has nowhere, and they
      come first; `source-gained` names exactly the refs NEW has that OLD had nowhere;
    - `added` / `removed` name exactly the standard ids only one side has;
    - both renderings are deterministic, the JSON parses and counts every change, and the Markdown
      names every lost ref in its caution block.
    """
    assert diff_frameworks(old, old).changes == ()
    assert diff_frameworks(new, new).changes == ()
    changes = diff_frameworks(old, new)
    assert list(changes.changes) == sorted(changes.changes, key=Change.sort_key)
    _assert_mirrors(old, changes, diff_frameworks(new, old))

    refs_old, refs_new = _refs(old), _refs(new)
    lost = [c.ref for c in changes.of_kind("source-lost")]
    assert sorted(lost) == sorted(refs_old - refs_new)
    assert list(changes.changes[: len(lost)]) == list(changes.of_kind("source-lost"))
    assert sorted(c.ref for c in changes.of_kind("source-gained")) == sorted(refs_new - refs_old)
    ids_old, ids_new = {s.id for s in old.standards}, {s.id for s in new.standards}
    assert sorted(c.standard for c in changes.of_kind("removed")) == sorted(ids_old - ids_new)
    related_old, related_new = _related(old), _related(new)
    assert {(c.standard, c.ref) for c in changes.of_kind("related-removed")} == related_old - related_new
    assert {(c.standard, c.ref) for c in changes.of_kind("related-added")} == related_new - related_old
    assert sorted(c.standard for c in changes.of_kind("added")) == sorted(ids_new - ids_old)

    text = render_changes_json(changes)
    assert text == render_changes_json(diff_frameworks(old, new))
    data = json.loads(text)
    assert data["total"] == len(data["changes"]) == sum(data["counts"].values()) == len(changes.changes)
    markdown = render_changes_markdown(changes)
    assert markdown == render_changes_markdown(diff_frameworks(old, new))
    if lost:
        caution = markdown.split("\n\n")[1]
        assert caution.startswith("> [!CAUTION]")
        assert all(f"`{ref}`" in caution for ref in lost)
    return changes


def _refs(framework: Framework) -> set[str]:
    return {link.ref for s in framework.standards for link in s.sources} | {e.ref for e in framework.excluded}


def _related(framework: Framework) -> set[tuple[str | None, str | None]]:
    return {(s.id, link.ref) for s in framework.standards for link in s.related}


def _holders(framework: Framework) -> dict[str, str]:
    return {link.ref: s.id for s in framework.standards for link in s.sources}


def _mirror(change: Change, old: Framework) -> Change:
    """The change `diff(new, old)` reports for `change` in `diff(old, new)`."""
    standard = change.standard
    if change.kind == "source-moved":
        standard = str(change.old)
    elif change.kind in ("source-text-changed", "relationship-changed"):
        standard = _holders(old)[str(change.ref)]  # "its standard in NEW" of the reversed diff
    kind = MIRROR_KINDS.get(change.kind, change.kind)
    return change.model_copy(
        update={"kind": kind, "standard": standard, "old": change.new, "new": change.old}
    )


def _assert_mirrors(old: Framework, forward: Changes, backward: Changes) -> None:
    mirrored = sorted((_mirror(c, old) for c in forward.changes), key=Change.sort_key)
    assert mirrored == list(backward.changes)


# --- Random frameworks ---------------------------------------------------------------------------

SET_IDS = ("set-a", "set-b")
REFS = tuple(f"{s}:{i}" for s in SET_IDS for i in range(1, 6))
STANDARD_IDS = tuple(f"QS-{i}" for i in range(1, 7))  # unpadded, so natural order is exercised
DOMAIN_IDS = ("D1", "D2", "D3")
WORDS = ("Safety", "Learning", "Governance")


def _rating(score: int) -> str:
    return "low" if score <= 3 else "moderate" if score <= 6 else "high" if score <= 12 else "extreme"


def _risk(severity: int, likelihood: int, weight: float = 0.1) -> Risk:
    score = severity * likelihood
    return Risk(severity=severity, likelihood=likelihood, score=score, rating=_rating(score), weight=weight)


risks = st.builds(_risk, st.integers(1, 5), st.integers(1, 5), st.sampled_from([0.0, 0.1, 0.5]))


def links(ref: str) -> st.SearchStrategy[SourceLink]:
    return st.builds(
        SourceLink,
        ref=st.just(ref),
        title=st.sampled_from(WORDS),
        similarity=st.sampled_from([0.5, 0.9]),
        relationship=st.sampled_from(["equal", "subset", "superset", "intersect"]),
        strength=st.integers(0, 10),
        text_sha=st.sampled_from(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]),
    )


def partly(ref: str) -> st.SearchStrategy[RelatedLink]:
    return st.builds(
        RelatedLink,
        ref=st.just(ref),
        title=st.sampled_from(WORDS),
        relationship=st.sampled_from(["subset", "intersect"]),
        strength=st.integers(0, 10),
        similarity=st.sampled_from([0.5, 0.6]),
    )


@st.composite
def frameworks(draw: st.DrawFn) -> Framework:
    """A valid framework: a few domains, standards with unique ids, each ref in one place at most."""
    words = st.sampled_from(WORDS)
    domains = draw(
        st.lists(
            st.builds(Domain, id=st.sampled_from(DOMAIN_IDS), name=words, description=words),
            min_size=1,
            max_size=3,
            unique_by=lambda d: d.id,
        )
    )
    ids = draw(st.lists(st.sampled_from(STANDARD_IDS), min_size=1, max_size=len(STANDARD_IDS), unique=True))
    refs = draw(st.permutations(REFS))
    placed = draw(st.integers(len(ids), len(REFS)))
    owners = list(range(len(ids))) + [draw(st.integers(0, len(ids) - 1)) for _ in range(placed - len(ids))]
    held: list[list[SourceLink]] = [[] for _ in ids]
    for ref, owner in zip(refs, owners, strict=False):
        held[owner].append(draw(links(ref)))
    reasons = st.sampled_from(["Not applicable", "Out of scope"])
    excluded = [Excluded(ref=ref, reason=draw(reasons)) for ref in refs[placed:] if draw(st.booleans())]
    standards = [
        Standard(
            id=sid,
            domain=draw(st.sampled_from([d.id for d in domains])),
            title=draw(words),
            statement=draw(words),
            qms_component=draw(st.sampled_from(QMS_COMPONENTS)),
            risk=draw(risks),
            sources=tuple(held[i]),
            related=tuple(
                draw(partly(link.ref))
                for link in draw(
                    st.lists(
                        st.sampled_from([x for j, h in enumerate(held) if j != i for x in h] or [None]),
                        max_size=2,
                        unique_by=lambda x: x.ref if x else "",
                    )
                )
                if link is not None
            ),
        )
        for i, sid in enumerate(ids)
    ]
    sets = st.builds(
        SourceSet,
        id=st.sampled_from((*SET_IDS, "set-c")),
        name=st.just("A set"),
        version=st.sampled_from(["1", "2"]),
        publisher=st.just("P"),
        licence=st.just("L"),
        requirements=st.just(5),
        sha256=st.sampled_from(["0" * 64, "1" * 64]),
    )
    engine = Settings(
        threshold=draw(st.sampled_from([0.5, 0.6])),
        weights=Weights(embedding=draw(st.sampled_from([0.7, 0.6]))),
    )
    info = FrameworkInfo(
        name="Test framework",
        version=draw(st.sampled_from(["1", "2"])),
        generated_by="tests",
        engine=engine,
        sources=tuple(draw(st.lists(sets, max_size=3, unique_by=lambda s: s.id))),
    )
    return Framework(
        framework=info, domains=tuple(domains), standards=tuple(standards), excluded=tuple(excluded)
    )


def _replace(
    framework: Framework, *standards: Standard, excluded: tuple[Excluded, ...] | None = None
) -> Framework:
    """`framework` with the given standards swapped in by id (and the exclusions, if given)."""
    new = {s.id: s for s in standards}
    update: dict[str, object] = {"standards": tuple(new.get(s.id, s) for s in framework.standards)}
    if excluded is not None:
        update["excluded"] = excluded
    return framework.model_copy(update=update)


def _with_two_sources(framework: Framework) -> list[Standard]:
    return [s for s in framework.standards if len(s.sources) >= 2]


# --- Properties ----------------------------------------------------------------------------------


@settings(deadline=None)
@given(frameworks())
def test_diff_with_itself_is_empty(framework: Framework) -> None:
    changes = diff_frameworks(framework, framework)
    assert changes.changes == ()
    assert not changes.matches({ANY})


@settings(deadline=None)
@given(frameworks(), frameworks())
def test_diff_mirrors_and_never_misses_a_lost_ref(a: Framework, b: Framework) -> None:
    check_diff_scenario(a, b)


@settings(deadline=None)
@given(frameworks(), st.data())
def test_renaming_a_title_is_exactly_one_change(framework: Framework, data: st.DataObject) -> None:
    standard = data.draw(st.sampled_from(framework.standards))
    renamed = _replace(framework, standard.model_copy(update={"title": "A new title"}))
    expected = Change(kind="title-changed", standard=standard.id, old=standard.title, new="A new title")
    assert diff_frameworks(framework, renamed).changes == (expected,)


@settings(deadline=None)
@given(frameworks(), st.data())
def test_moving_a_ref_is_a_move_not_a_loss(framework: Framework, data: st.DataObject) -> None:
    donors = _with_two_sources(framework)
    assume(donors and len(framework.standards) >= 2)
    donor = data.draw(st.sampled_from(donors))
    target = data.draw(st.sampled_from([s for s in framework.standards if s.id != donor.id]))
    link = data.draw(st.sampled_from(donor.sources))
    edited = _replace(
        framework,
        donor.model_copy(update={"sources": tuple(x for x in donor.sources if x is not link)}),
        target.model_copy(update={"sources": (*target.sources, link)}),
    )
    expected = Change(kind="source-moved", standard=target.id, ref=link.ref, old=donor.id, new=target.id)
    assert diff_frameworks(framework, edited).changes == (expected,)


@settings(deadline=None)
@given(frameworks(), st.data())
def test_dropping_a_ref_is_source_lost(framework: Framework, data: st.DataObject) -> None:
    donors = _with_two_sources(framework)
    assume(donors)
    donor = data.draw(st.sampled_from(donors))
    link = data.draw(st.sampled_from(donor.sources))
    edited = _replace(
        framework, donor.model_copy(update={"sources": tuple(x for x in donor.sources if x is not link)})
    )
    expected = Change(kind="source-lost", standard=donor.id, ref=link.ref, old=donor.id)
    changes = diff_frameworks(framework, edited)
    assert changes.changes == (expected,)
    assert changes.matches({"source-lost"}) and not changes.matches({"removed", "risk-up"})


@settings(deadline=None)
@given(frameworks(), st.data())
def test_excluding_a_ref_is_its_own_kind(framework: Framework, data: st.DataObject) -> None:
    donors = _with_two_sources(framework)
    assume(donors)
    donor = data.draw(st.sampled_from(donors))
    link = data.draw(st.sampled_from(donor.sources))
    edited = _replace(
        framework,
        donor.model_copy(update={"sources": tuple(x for x in donor.sources if x is not link)}),
        excluded=(*framework.excluded, Excluded(ref=link.ref, reason="Duplicate")),
    )
    expected = Change(
        kind="source-excluded", standard=donor.id, ref=link.ref, old=donor.id, new="excluded: Duplicate"
    )
    assert diff_frameworks(framework, edited).changes == (expected,)


@settings(deadline=None)
@given(frameworks(), st.data())
def test_bumping_a_risk_is_risk_up_and_weight_is_ignored(framework: Framework, data: st.DataObject) -> None:
    standard = data.draw(st.sampled_from(framework.standards))
    old = standard.risk
    assume(old.severity < 5)
    bumped = _risk(old.severity + 1, old.likelihood, weight=0.99)
    changes = diff_frameworks(framework, _replace(framework, standard.model_copy(update={"risk": bumped})))
    values = [
        {"severity": r.severity, "likelihood": r.likelihood, "score": r.score, "rating": r.rating}
        for r in (old, bumped)
    ]
    assert changes.changes == (Change(kind="risk-up", standard=standard.id, old=values[0], new=values[1]),)


@settings(deadline=None)
@given(frameworks(), st.data())
def test_a_related_link_gained_or_lost_is_its_own_kind(framework: Framework, data: st.DataObject) -> None:
    assume(len(framework.standards) >= 2)
    standard = data.draw(st.sampled_from(framework.standards))
    homed = [x for s in framework.standards if s.id != standard.id for x in s.sources]
    covered = {x.ref for x in standard.related}
    link = data.draw(st.sampled_from([x for x in homed if x.ref not in covered] or [None]))
    assume(link is not None)
    assert link is not None
    extra = RelatedLink(ref=link.ref, title=link.title, relationship="intersect", strength=4, similarity=0.5)
    edited = _replace(framework, standard.model_copy(update={"related": (*standard.related, extra)}))
    value = {"relationship": "intersect", "strength": 4}
    added = Change(kind="related-added", standard=standard.id, ref=link.ref, new=value)
    changes = diff_frameworks(framework, edited)
    assert changes.changes == (added,)
    assert changes.matches({"related-added"}) and not changes.matches({"related-removed", "source-lost"})
    assert changes.titles.sources == {link.ref: link.title}
    removed = added.model_copy(update={"kind": "related-removed", "old": value, "new": None})
    assert diff_frameworks(edited, framework).changes == (removed,)
    # Strength and similarity drift with every run, like a home link's: not a change.
    drifted = extra.model_copy(update={"strength": 7, "similarity": 0.6})
    again = _replace(framework, standard.model_copy(update={"related": (*standard.related, drifted)}))
    assert diff_frameworks(edited, again).changes == ()


# --- Golden files and fixtures -------------------------------------------------------------------


def test_golden_markdown_and_json(regen_golden: bool) -> None:
    changes = diff_frameworks(load_framework(V1), load_framework(V2))
    check_golden("diff.md", render_changes_markdown(changes), regen_golden)
    check_golden("diff.json", render_changes_json(changes), regen_golden)


def test_fixture_shows_every_kind_and_passes_the_oracle() -> None:
    changes = check_diff_scenario(load_framework(V1), load_framework(V2))
    assert set(changes.counts()) == set(KINDS)
    assert changes.counts()["source-lost"] == 3


def test_a_ref_held_twice_is_refused() -> None:
    framework = load_framework(V1)
    doubled = framework.model_copy(update={"standards": (*framework.standards, framework.standards[0])})
    with pytest.raises(FrameworkError) as caught:
        diff_frameworks(framework, doubled)
    rendered = str(caught.value).splitlines()
    assert "new: standards[6].id: standard 'QS-001' appears more than once" in rendered
    assert (
        "new: standards[6].sources[0].ref: source 'cqc-saf-2024:well-led/governance' appears more than once"
        in rendered
    )


def test_parse_fail_on() -> None:
    assert parse_fail_on("") == frozenset()
    assert parse_fail_on(" removed, risk-up ,,source-lost") == {"removed", "risk-up", "source-lost"}
    assert parse_fail_on("any") == {ANY}
    with pytest.raises(QmsError) as caught:
        parse_fail_on("removed,lost")
    assert str(caught.value) == "--fail-on: unknown change kind 'lost'"
    assert caught.value.hint == f"Use a comma list of: any, {', '.join(KINDS)}."


def test_every_kind_is_described_and_mirrors_pair_up() -> None:
    assert list(KIND_DESCRIPTIONS) == list(KINDS)
    assert all(MIRROR_KINDS[MIRROR_KINDS[k]] == k for k in MIRROR_KINDS)
    docs = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")  # the README links the kinds table
    assert all(f"| `{kind}` |" in docs for kind in KINDS)


def test_no_changes_markdown() -> None:
    framework = load_framework(V1)
    text = render_changes_markdown(diff_frameworks(framework, framework))
    assert text == "## qms diff: Healthcare QMS framework 1.0 → 1.0\n\nNo changes.\n"


# --- CLI -----------------------------------------------------------------------------------------

runner = CliRunner()


def _diff(*args: str, catch: bool = True):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["diff", *args], catch_exceptions=catch)


def test_cli_exit_0_without_fail_on_and_1_when_a_kind_matches(tmp_path: Path) -> None:
    result = _diff(str(V1), str(V2), catch=False)
    assert result.exit_code == 0, result.output
    assert "3 source requirement(s) lost" in result.stdout
    result = _diff(str(V1), str(V2), "--fail-on", "removed,source-lost", catch=False)
    assert result.exit_code == 1, result.output
    assert "fail: 4 change(s) match --fail-on: source-lost, removed" in result.stdout
    result = _diff(str(V1), str(V1), "--fail-on", "any", catch=False)
    assert result.exit_code == 0, result.output
    assert "No changes" in result.stdout


def test_cli_exit_2_on_bad_input(tmp_path: Path) -> None:
    result = _diff(str(V1), str(V2), "--fail-on", "removed,bogus")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: --fail-on: unknown change kind 'bogus'"
    assert "hint: Use a comma list of: any, source-lost," in result.stderr
    result = _diff(str(V1), str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {tmp_path / 'missing.yaml'}: no such file"
    bad = tmp_path / "bad.yaml"
    bad.write_text("framework: {}\n", encoding="utf-8")
    assert _diff(str(bad), str(V2)).exit_code == 2


def test_cli_json_on_stdout_and_markdown_file(tmp_path: Path, regen_golden: bool) -> None:
    report = tmp_path / "diff.md"
    result = _diff(str(V1), str(V2), "--json", "--markdown", str(report), "--fail-on", "risk-up", catch=False)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["counts"]["source-lost"] == 3
    assert result.stdout == render_changes_json(diff_frameworks(load_framework(V1), load_framework(V2)))
    assert f"wrote {report}" in result.stderr
    assert "fail: 1 change(s) match --fail-on: risk-up" in result.stderr
    check_golden("diff-fail-on.md", report.read_text(encoding="utf-8"), regen_golden)


def test_markdown_names_the_kinds_that_tripped_the_gate_on_its_first_line() -> None:
    changes = diff_frameworks(load_framework(V1), load_framework(V2))
    lines = render_changes_markdown(changes, frozenset({"removed", "risk-up", "source-lost"})).splitlines()
    assert lines[2] == (
        "**Gate failed:** 5 change(s) match `--fail-on source-lost,removed,risk-up`: "
        "source-lost (3), removed (1), risk-up (1)."
    )
    same = diff_frameworks(load_framework(V1), load_framework(V1))
    lines = render_changes_markdown(same, frozenset({"any"})).splitlines()
    assert lines[2] == "**Gate passed:** no change matches `--fail-on any`."
    # Without --fail-on there is no gate line: the report starts with what changed.
    assert "Gate" not in render_changes_markdown(changes)


def test_a_changed_source_text_shows_old_and_new_words_not_hashes() -> None:
    changes = diff_frameworks(load_framework(V1), load_framework(V2))
    (change,) = changes.of_kind("source-text-changed")
    assert isinstance(change.old, dict) and isinstance(change.new, dict)
    assert change.old["text"] == (
        "We have clear responsibilities, roles, systems of accountability and good governance."
    )
    markdown = render_changes_markdown(changes)
    assert "good ~~governance.~~ |" in markdown
    assert "good **governance to manage and deliver good quality, sustainable care.** |" in markdown
    assert "a1a1a1a1a1a1" not in markdown
    result = _diff(str(V1), str(V2), catch=False)
    assert "a1a1a1a1a1a1" not in result.stdout


def test_a_framework_without_recorded_texts_still_reports_the_hashes() -> None:
    old, new = load_framework(V1), load_framework(V2)
    bare = [
        framework.model_copy(
            update={
                "standards": tuple(
                    s.model_copy(
                        update={"sources": tuple(x.model_copy(update={"text": None}) for x in s.sources)}
                    )
                    for s in framework.standards
                )
            }
        )
        for framework in (old, new)
    ]
    (change,) = diff_frameworks(*bare).of_kind("source-text-changed")
    assert (change.old, change.new) == ("a1a1a1a1a1a1", "a6a6a6a6a6a6")
    assert "| `a1a1a1a1a1a1` | `a6a6a6a6a6a6` |" in render_changes_markdown(diff_frameworks(*bare))


def test_word_diff_marks_only_the_words_that_differ() -> None:
    old, new = word_diff("Ensure staff are competent.", "Ensure all staff are competent and trained.")
    assert old == [(False, "Ensure"), (False, "staff are"), (True, "competent.")]
    assert new == [(False, "Ensure"), (True, "all"), (False, "staff are"), (True, "competent and trained.")]
    assert word_diff("same words", "same words") == ([(False, "same words")], [(False, "same words")])


def test_a_mistyped_fail_on_kind_gets_a_suggestion() -> None:
    result = _diff(str(V1), str(V2), "--fail-on", "removd,source-los")
    assert result.exit_code == 2
    assert (
        result.stderr.splitlines()[0]
        == "error: --fail-on: unknown change kind 'removd'; did you mean 'removed'?"
    )
    assert "unknown change kind 'source-los'; did you mean 'source-lost'?" in result.stderr


def test_cli_diff_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from qms_standards.cli import app\n"
        f"result = CliRunner().invoke(app, ['diff', {str(V1)!r}, {str(V2)!r}, '--json'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'openpyxl') if m in sys.modules]\n"
        "ours = sorted(m for m in sys.modules if m.startswith('qms_standards'))\n"
        "print(','.join(heavy) or 'clean')\n"
        "print('qms modules loaded:', ' '.join(ours))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    heavy, loaded = done.stdout.splitlines()
    # Every module `qms_standards.cli` imports at start-up runs for `qms diff` too: import heavy
    # libraries inside the commands that need them.
    assert heavy == "clean", loaded
