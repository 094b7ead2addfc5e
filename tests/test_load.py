"""Stage 1, load: standard sets and mappings from YAML, every problem located and reported together."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qms_standards.errors import MappingError, Problem, QmsError, StandardSetError
from qms_standards.files import dump_yaml
from qms_standards.load import (
    load_catalogue,
    load_mappings,
    load_standard_sets,
    validate_paths,
    yaml_files,
)
from qms_standards.models import Requirement, StandardSet
from qms_standards.textcheck import id_problem, text_problem
from qms_standards.yamlsource import read_yaml

TESTS = Path(__file__).resolve().parent
MINI_A = TESTS / "data" / "mini-a.yaml"
MAPPINGS = TESTS.parent / "mappings"
STANDARDS = TESTS.parent / "standards"

_HEAD = 'name: Set {id}\npublisher: Test\nversion: "1"\nlicence: Test data\nrequirements:\n'


def _write_set(path: Path, set_id: str, *req_ids: str) -> Path:
    body = "".join(
        f'  - id: "{r}"\n    title: Title {r}\n    text: Text of {r}.\n' for r in req_ids or ("1",)
    )
    path.write_text(f"id: {set_id}\n" + _HEAD.format(id=set_id) + body, encoding="utf-8")
    return path


def _mappings(tmp_path: Path, overrides: str | None = None, lock: str | None = None) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copy(MAPPINGS / "domains.yaml", folder / "domains.yaml")
    if overrides is not None:
        (folder / "overrides.yaml").write_text(overrides, encoding="utf-8")
    if lock is not None:
        (folder / "ids.lock.yaml").write_text(lock, encoding="utf-8")
    return folder


# --- Standard sets -------------------------------------------------------------------------------


def test_load_the_mini_fixture() -> None:
    [loaded] = load_standard_sets([MINI_A])
    assert loaded.path == MINI_A
    assert loaded.sha256 == hashlib.sha256(MINI_A.read_bytes()).hexdigest()
    s = loaded.set
    assert (s.id, s.name, s.publisher, s.version, s.licence) == (
        "mini-a",
        "Mini standard A",
        "Test",
        "1",
        "Test data",
    )
    assert s.text_is == "paraphrase"  # the default
    assert [r.id for r in s.requirements] == ["1", "2", "3"]
    first = s.requirements[0]
    assert first == Requirement(
        id="1",
        title="Learning from incidents",
        text="Incidents are reported, investigated and lessons are shared.",
        tags=("improvement",),
        severity=4,
    )
    assert s.requirements[1].severity is None and s.requirements[1].tags == ()
    assert s.ref(first) == "mini-a:1"


def test_a_folder_of_sets_loads_sorted_by_id_not_by_file_name(tmp_path: Path) -> None:
    _write_set(tmp_path / "a.yaml", "zeta-2020")
    _write_set(tmp_path / "b.yml", "alpha-2015")
    _write_set(tmp_path / "c.yaml", "mid-2018")
    (tmp_path / "README.txt").write_text("not a set", encoding="utf-8")
    (tmp_path / "nested").mkdir()
    _write_set(tmp_path / "nested" / "d.yaml", "nested-set")  # folders are not searched recursively
    loaded = load_standard_sets([tmp_path])
    assert [item.set.id for item in loaded] == ["alpha-2015", "mid-2018", "zeta-2020"]
    assert [item.path.name for item in loaded] == ["b.yml", "c.yaml", "a.yaml"]


def test_yaml_files_of_a_folder_are_sorted_and_a_file_stands_for_itself(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", "c.txt", "d.yaml.bak"):
        (tmp_path / name).write_text("x: 1\n", encoding="utf-8")
    assert [p.name for p in yaml_files(tmp_path)] == ["a.yml", "b.yaml"]
    assert yaml_files(tmp_path / "c.txt") == [tmp_path / "c.txt"]


def test_files_and_folders_mix_and_the_same_set_twice_is_a_duplicate(tmp_path: Path) -> None:
    _write_set(tmp_path / "one.yaml", "one")
    loaded = load_standard_sets([MINI_A, tmp_path])
    assert [item.set.id for item in loaded] == ["mini-a", "one"]
    copy = tmp_path / "copy.yaml"
    copy.write_bytes(MINI_A.read_bytes())
    with pytest.raises(QmsError) as info:
        load_standard_sets([MINI_A, copy])
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.field) == (copy, 1, "id")
    assert problem.message == f"duplicate set id 'mini-a' (also in {MINI_A})"


def test_every_problem_in_every_file_is_reported_together_and_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(
        "id: b-set\nname: B\npublisher: Test\nversion: 2\nlicence: Test data\n"
        "requirements:\n  - id: x\n    title: T\n    text: X\n    colour: red\n",
        encoding="utf-8",
    )
    (tmp_path / "a.yaml").write_text("id: a-set\nname: A\n  publisher: Test\n", encoding="utf-8")
    _write_set(tmp_path / "c.yaml", "c-set", "1", "1")
    _write_set(tmp_path / "d.yaml", "b-set")  # clashes with b.yaml, which fails validation: not compared
    with pytest.raises(StandardSetError) as info:
        load_standard_sets([tmp_path])
    error = info.value
    found = [(p.file.name, p.line, p.field) for p in error.problems]
    assert found == [
        ("a.yaml", 3, None),
        ("b.yaml", 4, "version"),
        ("b.yaml", 10, "requirements[0].colour"),
        ("c.yaml", 10, "requirements[1].id"),
    ]
    assert error.problems[0].message.startswith("invalid YAML: mapping values are not allowed here")
    assert error.problems[3].message == "duplicate requirement id '1' (first at line 7)"
    assert str(error).splitlines()[0].startswith(f"{tmp_path / 'a.yaml'}:3: invalid YAML")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINI_A.read_bytes())
    [loaded] = load_standard_sets([path])
    assert loaded.set == load_standard_sets([MINI_A])[0].set


def test_anchors_and_aliases_that_do_not_recurse_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "alias.yaml"
    path.write_text(
        "id: alias\nname: A\npublisher: T\nversion: '1'\nlicence: L\nrequirements:\n"
        "  - id: '1'\n    title: T\n    text: X\n    tags: &t [safe, timely]\n"
        "  - id: '2'\n    title: T\n    text: Y\n    tags: *t\n",
        encoding="utf-8",
    )
    [loaded] = load_standard_sets([path])
    assert [r.tags for r in loaded.set.requirements] == [("safe", "timely"), ("safe", "timely")]


def test_a_duplicate_key_inside_an_aliased_mapping_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("a: &m {x: 1, x: 2}\nb: *m\nc: *m\n", encoding="utf-8")
    problems: list[Problem] = []
    assert read_yaml(path, problems) is not None
    assert [(p.line, p.field, p.message) for p in problems] == [
        (1, "x", "duplicate key 'x' (first at line 1)")
    ]


def test_line_of_finds_the_deepest_existing_node() -> None:
    problems: list[Problem] = []
    doc = read_yaml(MINI_A, problems)
    assert doc is not None and problems == []
    assert doc.line_of(()) == 1
    assert doc.line_of(("version",)) == 4
    assert doc.line_of(("requirements", 1, "text")) == 14
    assert doc.line_of(("requirements", 0, "tags", 0)) == 10
    assert doc.line_of(("requirements", 2, "no-such-key")) == 15  # falls back to the item
    assert doc.line_of(("requirements", 9, "id")) == 7  # and to the list, which starts at its first item


# --- Mappings and the catalogue ------------------------------------------------------------------


def test_load_catalogue_with_the_repository_domains(tmp_path: Path) -> None:
    catalogue = load_catalogue([MINI_A], _mappings(tmp_path))
    assert [s.id for s in catalogue.standard_sets] == ["mini-a"]
    assert catalogue.refs() == {"mini-a:1", "mini-a:2", "mini-a:3"}
    assert catalogue.mappings is not None
    assert [d.id for d in catalogue.mappings.domains] == [f"D{i}" for i in range(1, 8)]
    assert catalogue.mappings.overrides.must_link == () and catalogue.mappings.lock.standards == ()
    assert load_catalogue([MINI_A], None).mappings is None


def test_the_repository_standards_and_mappings_load_together() -> None:
    catalogue = load_catalogue([STANDARDS], MAPPINGS)  # override refs checked against the shipped sets
    ids = [s.id for s in catalogue.standard_sets]
    assert ids == sorted(ids) and len(ids) >= 1
    assert catalogue.mappings is not None and len(catalogue.mappings.domains) == 7


def test_override_refs_are_checked_against_the_loaded_sets(tmp_path: Path) -> None:
    overrides = (
        "must_link:\n  - refs: [mini-a:1, mini-a:2]\n"
        "cannot_link:\n  - refs: [mini-a:1, mini-a:3]\n"
        "exclude:\n  - ref: mini-b:1\n    reason: Not ours.\n"
    )
    folder = _mappings(tmp_path, overrides)
    with pytest.raises(QmsError) as info:
        load_catalogue([MINI_A], folder)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.field) == (folder / "overrides.yaml", 6, "exclude[0].ref")
    assert problem.message == "'mini-b:1' is not a requirement in the loaded standard sets"
    other = _write_set(tmp_path / "mini-b.yaml", "mini-b", "1")
    catalogue = load_catalogue([MINI_A, other], folder)
    assert catalogue.mappings is not None
    assert catalogue.mappings.overrides.must_link[0].refs == ("mini-a:1", "mini-a:2")
    assert [e.ref for e in catalogue.mappings.overrides.exclude] == ["mini-b:1"]


def test_refs_are_not_checked_when_the_sets_themselves_are_broken(tmp_path: Path) -> None:
    """A broken set would make every ref to it look unknown; report the set only."""
    folder = _mappings(tmp_path, "must_link:\n  - refs: [mini-a:1, nowhere:9]\n")
    with pytest.raises(QmsError) as info:
        load_catalogue([MINI_A, tmp_path / "missing.yaml"], folder)
    assert [p.message for p in info.value.problems] == ["no such file or folder"]


def test_load_mappings_reports_every_problem_in_every_mapping_file(tmp_path: Path) -> None:
    folder = _mappings(
        tmp_path,
        overrides="standards:\n  - id: QS-001\n    domain: D8\n  - id: QS-002\n    colour: red\n",
        lock="standards:\n  - id: QS-001\n    refs: [mini-a:1]\n  - id: QS-003\n",
    )
    with pytest.raises(MappingError) as info:
        load_mappings(folder)
    found = [(p.file.name, p.line, p.field, p.message) for p in info.value.problems]
    assert found == [
        ("ids.lock.yaml", 4, "standards[1].refs", "required field 'refs' is missing"),
        ("overrides.yaml", 5, "standards[1].colour", "unknown key 'colour'"),
    ]


def test_load_mappings_checks_domains_and_lock_once_the_files_are_valid(tmp_path: Path) -> None:
    folder = _mappings(
        tmp_path,
        overrides="standards:\n  - id: QS-001\n    domain: D8\n  - id: QS-002\n    severity: 4\n",
        lock="standards:\n  - id: QS-001\n    refs: [mini-a:1]\n"
        "totals: {standards: 1, retired: 0, refs: 1}\n",
    )
    with pytest.raises(MappingError) as info:
        load_mappings(folder, known_refs=None)
    found = [(p.line, p.field, p.message) for p in info.value.problems]
    assert found == [
        (3, "standards[0].domain", "domain 'D8' is not in domains.yaml"),
        (4, "standards[1].id", "standard 'QS-002' is not in ids.lock.yaml"),
    ]
    assert info.value.problems[0].hint == "Use one of: D1, D2, D3, D4, D5, D6, D7."


def test_load_mappings_without_a_folder_or_domains(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path / "nope")
    assert [(p.file, p.message) for p in info.value.problems] == [
        (tmp_path / "nope", "mappings folder not found")
    ]
    (tmp_path / "overrides.yaml").write_text("must_link: []\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mappings(tmp_path)
    assert [p.file for p in info.value.problems] == [tmp_path / "domains.yaml"]


def test_optional_mapping_files_default_to_empty(tmp_path: Path) -> None:
    mappings = load_mappings(_mappings(tmp_path, overrides="~\n"))
    assert (
        mappings.overrides.must_link == () and mappings.lock.prefix == "QS" and mappings.lock.standards == ()
    )


def test_validate_paths_sorts_sets_from_mappings_and_checks_refs(tmp_path: Path) -> None:
    folder = _mappings(tmp_path, "must_link:\n  - refs: [mini-a:1, mini-a:2]\n    reason: Same duty.\n")
    catalogue = validate_paths([folder, MINI_A])
    assert [s.id for s in catalogue.standard_sets] == ["mini-a"]
    assert catalogue.mappings is not None and len(catalogue.mappings.overrides.must_link) == 1
    # A mapping file stands for its folder.
    assert validate_paths([MINI_A, folder / "overrides.yaml"]).mappings == catalogue.mappings
    # Without sets alongside, refs cannot be checked, so they are not.
    (folder / "overrides.yaml").write_text("must_link:\n  - refs: [x:1, y:2]\n", encoding="utf-8")
    assert validate_paths([folder]).sets == []
    with pytest.raises(QmsError) as info:
        validate_paths([MINI_A, folder])
    assert [(p.line, p.field) for p in info.value.problems] == [
        (2, "must_link[0].refs[0]"),
        (2, "must_link[0].refs[1]"),
    ]


def test_validate_paths_with_the_repository_mappings() -> None:
    catalogue = validate_paths([STANDARDS, MAPPINGS])
    assert catalogue.mappings == load_catalogue([STANDARDS], MAPPINGS).mappings
    assert len(catalogue.refs()) == sum(len(s.requirements) for s in catalogue.standard_sets)
    assert validate_paths([MINI_A]).mappings is None


def test_a_folder_holding_only_overrides_is_read_as_mappings(tmp_path: Path) -> None:
    (tmp_path / "overrides.yaml").write_text("must_link: []\n", encoding="utf-8")
    with pytest.raises(QmsError) as info:
        validate_paths([MINI_A, tmp_path])
    assert [(p.file, p.message) for p in info.value.problems] == [
        (tmp_path / "domains.yaml", "domains.yaml is missing")
    ]


# --- Round trip: load(dump(set)) == set ----------------------------------------------------------

_TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "true",
    "False",
    "null",
    "~",
    "NULL",
    "1.0",
    "1e3",
    "0x1F",
    "0o17",
    "012",
    ".inf",
    "-.nan",
    "2015",
    "2024-01-31",
    "12:30:00",
    "- item",
    "key: value",
    "a: b: c",
    "# not a comment",
    "text # comment",
    " leading space",
    "trailing space ",
    "  ",
    "'single'",
    '"double"',
    "it's",
    "\\backslash",
    "|",
    ">",
    "[list]",
    "{map: 1}",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "?",
    ":",
    "-",
    "---",
    "...",
    "<<",
    "=",
    "line one\nline two",
    "\nleading newline",
    "trailing newline\n",
    "a\n\n\nb",
    "  indented\nfirst line",
    "tab\tinside",
    "crlf\r\nline",
    "é ü 中文 😀",
    "zero\u200bwidth",
    "nbsp\u00a0here",
    "bell\x07",
    "nel\x85line",
    "ls\u2028ps\u2029",
    "bom\ufeff",
    "x" * 300,
]

# Text people can give qms: control characters are refused (tests/test_bad_inputs.py), so not drawn here.
_text = st.one_of(st.sampled_from(_TRICKY), st.text(min_size=1, max_size=60)).filter(
    lambda s: text_problem(s) is None
)
_short = _text.filter(lambda s: len(s) <= 500)
_kebab = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
_req_id = st.one_of(
    st.sampled_from(
        ["1", "7.1.2", "yes", "null", "1.0", "~", "0x1F", "safe/learning-culture", "#1", "-", "'q'"]
    ),
    st.from_regex(r"[^\s:]{1,20}", fullmatch=True),
).filter(lambda s: text_problem(s) is None and id_problem(s) is None)


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    return Requirement(
        id=draw(_req_id),
        title=draw(_short),
        text=draw(_text),
        section=draw(st.none() | _short),
        tags=tuple(draw(st.lists(_kebab, max_size=3))),
        severity=draw(st.none() | st.integers(1, 5)),
        verified=draw(st.booleans()),
        url=draw(st.none() | _text),
    )


@st.composite
def standard_sets(draw: st.DrawFn) -> StandardSet:
    return StandardSet(
        id=draw(_kebab),
        name=draw(_short),
        publisher=draw(_short),
        version=draw(_short),
        licence=draw(_short),
        text_is=draw(st.sampled_from(["verbatim", "paraphrase"])),
        attribution=draw(st.none() | _short),
        url=draw(st.none() | _text),
        published=draw(st.none() | _text),
        notes=draw(st.none() | _text),
        requirements=tuple(draw(st.lists(requirements(), min_size=1, max_size=4, unique_by=lambda r: r.id))),
    )


def _dump(model: StandardSet, exclude_defaults: bool) -> str:
    return dump_yaml(model.model_dump(mode="json", exclude_defaults=exclude_defaults))


@pytest.mark.parametrize("exclude_defaults", [True, False], ids=["minimal", "full"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(standard_set=standard_sets())
def test_load_after_dump_is_the_identity(standard_set: StandardSet, exclude_defaults: bool) -> None:
    text = _dump(standard_set, exclude_defaults)
    assert text == _dump(standard_set, exclude_defaults)  # the same model always gives the same bytes
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "set.yaml"
        path.write_bytes(text.encode("utf-8"))
        [loaded] = load_standard_sets([path])
    assert loaded.set == standard_set, text
    assert _dump(loaded.set, exclude_defaults) == text  # a second round trip changes no byte


def test_dump_leaves_defaults_out_and_keeps_the_field_order() -> None:
    [loaded] = load_standard_sets([MINI_A])
    assert _dump(loaded.set, exclude_defaults=True) == (
        "id: mini-a\nname: Mini standard A\npublisher: Test\nversion: '1'\nlicence: Test data\n"
        "requirements:\n"
        "  - id: '1'\n    title: Learning from incidents\n"
        "    text: Incidents are reported, investigated and lessons are shared.\n"
        "    tags:\n      - improvement\n    severity: 4\n"
        "  - id: '2'\n    title: Staffing\n"
        "    text: Enough qualified staff are deployed to provide safe care.\n"
        "  - id: '3'\n    title: Infection control\n"
        "    text: The risk of infection is assessed and controlled.\n"
    )
    assert "text: |-\n  line one\n  line two\n" in dump_yaml({"text": "line one\nline two"})


def test_a_large_file_without_aliases_is_not_an_alias_bomb(tmp_path: Path, monkeypatch) -> None:
    from qms_standards import yamlsource

    monkeypatch.setattr(yamlsource, "MAX_EXPANDED_VALUES", 10)
    plain = tmp_path / "plain.yaml"
    plain.write_text("items:\n" + "".join(f"  - value {k}\n" for k in range(50)))  # 52 values, no alias
    problems: list[Problem] = []
    assert yamlsource.read_yaml(plain, problems) is not None and problems == []
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"
    )  # aliases nested three deep
    assert yamlsource.read_yaml(bomb, problems) is None
    assert "more than 10 beyond the" in problems[0].message
