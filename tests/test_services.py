"""mappings/services.yaml: the shipped example loads; every problem is named with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MAPPINGS
from qms_standards.errors import MappingError, QmsError
from qms_standards.load import load_mappings
from qms_standards.services import load_services, slug, split_services


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_services_file_loads_with_its_directorates() -> None:
    services = load_services(MAPPINGS / "services.yaml")
    assert len(services.services) == 12
    assert services.directorates() == (
        "Critical Care and Surgery",
        "Medicine",
        "Specialist Services",
        "Community and Mental Health",
    )
    assert "Ward 5, Paediatrics" in services.names()  # a comma is part of the name, not a separator
    assert services.directorate_of("Ward 5, Paediatrics") == "Medicine"
    assert services.services[0].groups == {"site": "Main hospital"}


def test_a_mappings_folder_with_services_yaml_is_valid() -> None:
    load_mappings(MAPPINGS)  # services.yaml is a known mappings file, not a stray one


def test_a_bad_services_file_in_the_mappings_folder_is_reported_by_load_mappings(tmp_path: Path) -> None:
    (tmp_path / "domains.yaml").write_bytes((MAPPINGS / "domains.yaml").read_bytes())
    (tmp_path / "services.yaml").write_text("organisation: X\nservices:\n  - name: A\n", encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mappings(tmp_path)
    [problem] = caught.value.problems
    assert (
        problem.render()
        == f"{tmp_path / 'services.yaml'}:3: services[0].directorate: required field 'directorate' is missing"
    )


def test_a_misspelt_key_is_named_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "organisation: Trust\n"
        "services:\n"
        "  - name: Ward A\n"
        "    directorate: Medicine\n"
        "  - name: Ward C\n"
        "    directorat: Surgery\n",
    )
    with pytest.raises(MappingError) as caught:
        load_services(path)
    assert [p.render() for p in caught.value.problems] == [
        f"{path}:5: services[1].directorate: required field 'directorate' is missing",
        f"{path}:6: services[1].directorat: unknown key 'directorat'",
    ]


def test_duplicates_and_file_name_clashes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "organisation: Trust\n"
        "services:\n"
        "  - name: Ward A\n"
        "    directorate: Medicine\n"
        "  - name: ward  a\n"
        "    directorate: Surgery\n"
        "  - name: Ward-B\n"
        "    directorate: Surgery\n"
        "  - name: Ward B!\n"
        "    directorate: Surgery\n",
    )
    with pytest.raises(MappingError) as caught:
        load_services(path)
    assert [p.render() for p in caught.value.problems] == [
        f"{path}:5: services[1].name: service 'ward  a' is listed twice (first as services[0])",
        f"{path}:9: services[3].name: "
        "service 'Ward B!' would share the tracker file ward-b.xlsx with 'Ward-B'",
    ]
    assert all(p.hint for p in caught.value.problems)


def test_a_missing_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        load_services(tmp_path / "services.yaml")
    assert caught.value.problems[0].message == "no such file"
    assert "mappings/services.yaml" in (caught.value.hint or "")


def test_no_services_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "organisation: Trust\nservices: []\n")
    with pytest.raises(MappingError) as caught:
        load_services(path)
    assert caught.value.problems[0].line == 2


@given(st.text(min_size=1, max_size=40))
def test_slug_is_always_a_safe_file_name(name: str) -> None:
    value = slug(name)
    assert value and all(c.isascii() and (c.isalnum() or c == "-") for c in value)
    assert not value.startswith("-") and not value.endswith("-")


def test_split_services_refuses_to_cut_a_known_name_with_a_comma() -> None:
    assert split_services("Ward A,Clinic B") == ["Ward A", "Clinic B"]
    assert split_services("Ward A,Clinic B", ("Ward 5, Paediatrics",)) == ["Ward A", "Clinic B"]
    with pytest.raises(QmsError) as caught:
        split_services("Ward 5, Paediatrics,Cardiology", ("Cardiology", "Ward 5, Paediatrics"))
    assert caught.value.field == "--services"
    assert "--services-file" in (caught.value.hint or "")


def test_cli_services_with_a_shipped_comma_name_is_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from conftest import DATA, ROOT
    from qms_standards.cli import app

    monkeypatch.chdir(ROOT)  # mappings/services.yaml names "Ward 5, Paediatrics"
    result = CliRunner().invoke(
        app,
        ["export", "tracker", str(DATA / "framework-small.yaml"), "-o", "unused.xlsx"]
        + ["--services", "Ward 5, Paediatrics,Cardiology"],
    )
    assert result.exit_code == 2
    assert "'Ward 5, Paediatrics' holds a comma" in result.output
    assert not (ROOT / "unused.xlsx").exists()


_NAME = (
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda s: bool(s) and slug(s) != "service")
)


@given(st.lists(st.tuples(_NAME, _NAME), min_size=1, max_size=8))
def test_any_services_file_written_loads_back_the_same(
    tmp_path_factory: pytest.TempPathFactory, pairs
) -> None:
    from qms_standards.files import dump_yaml

    names: dict[str, str] = {}
    for name, directorate in pairs:
        if all(" ".join(name.split()).casefold() != " ".join(n.split()).casefold() for n in names) and all(
            slug(name) != slug(n) for n in names
        ):
            names[name] = directorate
    if any(" ".join(n.split()) != n for n in names):
        return  # names with doubled inner spaces are allowed but not what this checks
    path = tmp_path_factory.mktemp("s") / "services.yaml"
    data = {"organisation": "Trust", "services": [{"name": n, "directorate": d} for n, d in names.items()]}
    path.write_text(dump_yaml(data), encoding="utf-8")
    try:
        loaded = load_services(path)
    except MappingError as exc:
        # only the models' own text checks may refuse a name (look-alike or invisible characters)
        assert all("character" in p.message for p in exc.problems), exc
        return
    assert loaded.names() == tuple(names)
    assert [s.directorate for s in loaded.services] == list(names.values())
