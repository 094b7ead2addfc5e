"""The typer app, the consoles and the one place where `QmsError` becomes exit code 2."""

from __future__ import annotations

import enum
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from ..errors import QmsError
from ..models import Settings
from . import helptext

helptext.install()


class ExitCode(enum.IntEnum):
    """Exit codes are part of the interface."""

    OK = 0
    CHANGES = 1  # `qms diff` found a change matching --fail-on
    BAD_INPUT = 2


console = Console()
err_console = Console(stderr=True)


def render_error(error: QmsError, target: Console | None = None) -> None:
    """Print every problem as `path:line: field: message` with its hint, escaping rich markup."""
    target = target or err_console
    for problem in error.problems:
        target.print(f"[bold red]error[/]: {escape(problem.render())}", soft_wrap=True, highlight=False)
        if problem.hint:
            target.print(f"  [dim]hint:[/] {escape(problem.hint)}", soft_wrap=True, highlight=False)
    if len(error.problems) > 1:
        target.print(f"{len(error.problems)} problems found.", highlight=False)


class QmsGroup(TyperGroup):
    """Command group that renders `QmsError` once and exits 2; any other exception is a bug and shows."""

    def invoke(self, ctx: Any) -> Any:  # click.Context, or typer._click.core.Context in typer >= 0.29
        """Run the subcommand, mapping user errors to exit code 2."""
        try:
            return super().invoke(ctx)
        except QmsError as error:
            render_error(error)
            raise typer.Exit(code=ExitCode.BAD_INPUT) from None


app = typer.Typer(
    cls=QmsGroup,
    name="qms",
    help="Consolidate overlapping healthcare quality standards into one risk-weighted framework.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)


OPTION_HINTS = {
    "threshold": "Give an average score between 0 and 1; the engine's default is 0.40.",
    "match_threshold": "Give an average score between 0 and 1; the calibrated default is 0.87.",
    "target": "Give a number of standards, 1 or more, or leave --target out to cut at the threshold.",
    "related_threshold": "Give a fit between 0 and 1; the calibrated default is 0.55.",
}


def engine_settings(options: dict[str, tuple[str, Any]]) -> Settings:
    """Engine settings from command-line values, `{field: (option, value)}`; None leaves the default.

    Raises:
        QmsError: a value the engine cannot take, naming the option and what it accepts.
    """
    from pydantic import ValidationError

    given = {field: value for field, (_, value) in options.items() if value is not None}
    try:
        return Settings.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0])
        option, value = options[field]
        raise QmsError(
            f"{option} {value}: {first['msg'][0].lower()}{first['msg'][1:]}",
            field=option,
            hint=OPTION_HINTS.get(field),
        ) from None
