"""Writing outputs: atomic replace, canonical YAML, byte-stable xlsx."""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .errors import OutputError

# A fixed stamp for xlsx zip members and document properties, so two exports are byte-identical.
_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_FIXED_ISO_TIME = "2000-01-01T00:00:00Z"


def refuse_folder(path: Path) -> None:
    """An output path naming an existing folder is a user's slip: say so before anything is read.

    Raises:
        OutputError: `path` is a folder.
    """
    if path.is_dir():
        raise OutputError(
            "is a folder, not a file", file=path, hint=f"Give a file name inside it, e.g. {path / 'NAME'}."
        )


def write_atomic(
    path: Path, data: bytes | str, *, before_replace: Callable[[Path], None] | None = None
) -> None:
    """Write `data` to `path` via a temp file in the same folder and `os.replace`.

    A failure at any point leaves the old file (if any) untouched and no temp file behind.

    Args:
        path: Destination file.
        data: Bytes, or text written as UTF-8.
        before_replace: Test hook called with the temp path just before the rename.

    Raises:
        OutputError: The folder is missing or not writable, or the file cannot be written.
    """
    path = Path(path)
    refuse_folder(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(
            f"folder {folder} does not exist", file=path, hint=f"Create it first (mkdir -p {folder})."
        )
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot write in {folder}: {exc.strerror}", file=path, hint="Choose a folder you can write to."
        ) from exc
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file 0600; give it the mode the replaced file had, else the usual umask one.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except OSError as exc:  # disk full, the target is a folder ...: the user's to fix, not a bug
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write {path}: {exc.strerror}",
            file=path,
            hint="Check the path, the free space and the permissions.",
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def ensure_folder(folder: Path) -> None:
    """Create an output folder (and its parents) if needed.

    Raises:
        OutputError: it cannot be created (a file stands in the way, no permission).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create folder {folder}: {exc.strerror}",
            file=folder,
            hint="Choose an output folder you can write to (--out).",
        ) from exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents lists under their key and writes multi-line strings as blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: D102
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    if any(c in value for c in "\x85\u2028\u2029"):
        # YAML reads these as line breaks; written raw (allow_unicode) they come back folded to spaces.
        # Only double quotes escape them (\N, \L, \P).
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """Dump plain data (dicts, lists, scalars) as canonical YAML.

    Keys keep their insertion order (the models' field order), text is UTF-8, lines are not wrapped,
    so the same data always gives the same bytes.
    """
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000, indent=2)


def canonical_xlsx(data: bytes) -> bytes:
    """Rewrite an xlsx (zip) so it no longer carries save times.

    openpyxl stamps `dcterms:created/modified` with the current time and every zip member with the save
    time; both are fixed here, and members are written in their original order with fixed compression.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    lambda m: m.group(1) + _FIXED_ISO_TIME.encode() + m.group(3),
                    body,
                )
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, body)
    return out.getvalue()


def dump_model(model: Any, header: str = "") -> str:
    """Canonical YAML of a pydantic model (fields in declared order), after an optional comment header."""
    body = dump_yaml(model.model_dump(mode="json"))
    return (header if header.endswith("\n") or not header else header + "\n") + body
