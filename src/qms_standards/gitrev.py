"""A framework as git holds it at a revision (`HEAD:framework/framework.yaml`), read byte for byte.

`qms diff` takes such a spec for its old side, so no shell has to write the old version to a file: in
PowerShell, `git show ... > before.yaml` re-encodes git's output in the console's code page and garbles
curly quotes and dashes.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
from pathlib import Path

from .errors import FrameworkError, QmsError
from .load import load_framework
from .models import Framework

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")  # C:\... is a Windows path, not a revision
_HOW = (
    "Give a revision and a path from the repository's top folder, as `git show` takes them, e.g. "
    "HEAD:framework/framework.yaml (the last commit) or main:framework/framework.yaml (the main branch)."
)


def is_revision(spec: str) -> bool:
    """True for `REV:PATH` as git show takes it: no file of that name and the colon is no drive letter."""
    return ":" in spec and not _DRIVE.match(spec) and not Path(spec).exists()


def read_revision(spec: str, cwd: Path | None = None) -> bytes:
    """The bytes git holds for `REV:PATH`, run from `cwd` (default: the current folder).

    Raises:
        QmsError: git is missing, the folder is not in a git repository, or the revision or path is not
            in it; each with what to do instead.
    """
    revision, _, path = spec.partition(":")
    if not revision or not path:
        raise QmsError(f"'{spec}' names no revision or no path", field="OLD", hint=_HOW)
    try:
        done = subprocess.run(
            ["git", "show", spec],
            cwd=cwd,
            capture_output=True,
            check=False,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise QmsError(
            f"cannot read '{spec}': git is not installed, or not on PATH",
            field="OLD",
            hint="Install git (https://git-scm.com), or give the old framework as a file.",
        ) from None
    except subprocess.TimeoutExpired:
        raise QmsError(
            f"git show '{spec}' took over 2 minutes", field="OLD", hint="Give the old framework as a file."
        ) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = said[0].removeprefix("fatal: ") if said else f"git exited with code {done.returncode}"
        if "not a git repository" in first:
            raise QmsError(
                f"cannot read '{spec}': this folder is not in a git repository",
                field="OLD",
                hint="Run qms diff from the folder you cloned, or give the old framework as a file.",
            )
        raise QmsError(
            f"git has no '{spec}': {first}",
            field="OLD",
            hint=_HOW + " `git log --oneline` lists the revisions; check the path's spelling.",
        )
    return done.stdout


def load_framework_at(spec: str, cwd: Path | None = None) -> Framework:
    """Load the framework git holds at `REV:PATH`; a problem in it is reported against that spec.

    Raises:
        QmsError: as `read_revision`.
        FrameworkError: the file at that revision is not a framework.
    """
    data = read_revision(spec, cwd)
    with tempfile.TemporaryDirectory(prefix="qms-diff-") as folder:
        copy = Path(folder) / Path(spec.partition(":")[2]).name
        copy.write_bytes(data)
        try:
            return load_framework(copy)
        except FrameworkError as exc:  # name the revision, not a temporary file that is gone
            problems = [
                dataclasses.replace(p, file=Path(spec)) if p.file == copy else p for p in exc.problems
            ]
            raise FrameworkError(str(exc), problems=problems) from None
