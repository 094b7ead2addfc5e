"""Did-you-mean suggestions for mistyped choices."""

from __future__ import annotations

from qms_standards.diff import ANY, KINDS
from qms_standards.suggest import closest, did_you_mean


def test_a_typo_finds_the_choice_it_was_meant_to_be() -> None:
    assert closest("removd", KINDS) == "removed"
    assert closest("Source-Lost", KINDS) == "source-lost"
    assert closest("risk-upp", KINDS) == "risk-up"
    assert closest("engine", KINDS) == "engine-changed"


def test_nothing_close_gives_no_suggestion() -> None:
    assert closest("banana", KINDS) is None
    assert closest("xy", KINDS) is None
    assert did_you_mean("banana", (ANY, *KINDS)) == ""


def test_did_you_mean_reads_as_the_end_of_an_error_message() -> None:
    assert did_you_mean("removd", KINDS) == "; did you mean 'removed'?"
