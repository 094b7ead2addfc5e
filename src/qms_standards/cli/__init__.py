"""The `qms` command line: parse, call the library, render with rich, choose the exit code."""

from __future__ import annotations

from . import consolidate, content, diff, evaluate, export, export_grc, imports, returns, review, sets  # noqa: F401
from ._app import ExitCode, app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["ExitCode", "app", "main"]
