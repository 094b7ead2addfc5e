"""Writing outputs: atomic replace, canonical YAML, byte-stable xlsx."""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from .errors import OutputError, QmsError
from .yamlemit import FastWriter, Unsupported

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
    tmp = _write_temp(path, data)
    try:
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except OSError as exc:  # the target is a folder, a rename across devices ...: the user's to fix
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


_DUMP_OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "width": 100_000, "indent": 2}


def dump_yaml(data: Any) -> str:
    """Dump plain data (dicts, lists, scalars) as canonical YAML.

    Keys keep their insertion order (the models' field order), text is UTF-8, lines are not wrapped,
    so the same data always gives the same bytes. The text is `dump_yaml_reference`'s, byte for byte,
    written by `yamlemit.FastWriter` (a 20,000-requirement framework: 1.1 s, not 21 s); data it does not
    reproduce goes to the reference.
    """
    try:
        return FastWriter(_Dumper, **_DUMP_OPTIONS).dump(data)
    except Unsupported:
        return dump_yaml_reference(data)


def dump_yaml_reference(data: Any) -> str:
    """`dump_yaml` through PyYAML's pure-Python emitter: the reference the fast writer is held to."""
    return yaml.dump(data, Dumper=_Dumper, **_DUMP_OPTIONS)


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


# --- Reading inputs -------------------------------------------------------------------------------


def input_problem(path: Path) -> tuple[str, str] | None:
    """Why `path` cannot be read as an input file, as (message, hint); None for a regular file.

    The file is never opened: opening a named pipe for reading waits for a writer for ever. A dangling
    symbolic link, a loop of links, a folder, a pipe or a device is named as such, so an input is never
    skipped as if it were absent.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return (
                f"is a symbolic link to {os.readlink(path)}, which does not exist",
                "Point the link at the real file, or remove the link.",
            )
        return ("no such file", "Check the path.")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ("is a loop of symbolic links", "Point the link at the real file, or remove the link.")
        return (f"cannot read: {exc.strerror}", "Check the path and permissions.")
    if stat.S_ISDIR(mode):
        return ("is a folder, not a file", "Give the path of a file.")
    if not stat.S_ISREG(mode):
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket or device"
        return (f"is {kind}, not a regular file", "Give the path of a saved file.")
    return None


def read_input(path: Path, max_bytes: int) -> bytes:
    """The bytes of an input file, refusing anything but a regular file of at most `max_bytes`.

    The file is opened without blocking and checked again once open, so a pipe swapped in after the
    first check cannot hang the read either.

    Raises:
        QmsError: not a regular file, unreadable, or over the size limit.
    """
    problem = input_problem(path)
    if problem is not None:
        raise QmsError(problem[0], file=path, hint=problem[1])
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise QmsError(
            f"cannot read file: {exc.strerror}", file=path, hint="Check the path and permissions."
        ) from exc
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(fd).st_size
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise QmsError("is not a regular file", file=path, hint="Give the path of a saved file.")
        if size > max_bytes:
            raise QmsError(
                f"file is {size:,} bytes, over the {max_bytes:,}-byte limit",
                file=path,
                hint="Split it into smaller files, or check that this is the file you meant.",
            )
        chunks, total = [], 0
        while chunk := handle.read(1 << 20):
            total += len(chunk)
            if total > max_bytes:  # it grew while being read
                raise QmsError(
                    f"file is over the {max_bytes:,}-byte limit",
                    file=path,
                    hint="Split it into smaller files, or check that this is the file you meant.",
                )
            chunks.append(chunk)
    return b"".join(chunks)


def file_stamp(path: Path) -> tuple[int, int, str] | None:
    """(size, modification time in ns, SHA-256) of a file, or None when it is absent: to notice a change.

    Raises:
        QmsError: the path is there but is not a regular file (it is never opened blocking).
    """
    if not path.exists() and not path.is_symlink():
        return None
    data = read_input(path, 1 << 40)
    return (len(data), os.stat(path).st_mtime_ns, hashlib.sha256(data).hexdigest())


# --- Writing a set of outputs ---------------------------------------------------------------------


def write_set(
    outputs: dict[Path, bytes | str],
    *,
    unchanged: dict[Path, tuple[int, int, str] | None] | None = None,
    before_replace: Callable[[Path, Path], None] | None = None,
) -> None:
    """Write several files so that, after any failure, every one is old or every one is new.

    Each file is first written in full to a temp file beside it (a full disk fails here, before any
    file is touched). The old files are then kept aside (hard links, so this needs no space) and the new
    ones moved in; if a move fails, those already moved are put back.

    Args:
        outputs: Destination path -> content (text is written as UTF-8).
        unchanged: Files read at the start (path -> `file_stamp` then): if one changed since, someone saved
            it while the run worked, and nothing is written rather than their change lost.
        before_replace: Test hook called with (destination, temp path) just before each move.

    Raises:
        OutputError: naming the file that failed and saying which set the folders now hold.
    """
    temps: dict[Path, Path] = {}
    kept: dict[Path, Path | None] = {}
    try:
        try:
            for path, data in outputs.items():
                temps[path] = _write_temp(Path(path), data)
            for path in outputs:
                kept[path] = _keep_aside(path)
            for path, stamp in (unchanged or {}).items():
                if file_stamp(path) != stamp:
                    raise OutputError(
                        "was saved by someone while this run worked",
                        file=path,
                        hint="Close it (in Excel too), then run again: the run reads it afresh and "
                        "carries what was saved.",
                    )
        except OutputError as exc:  # nothing has been replaced yet: say so
            first = exc.problems[0]
            raise OutputError(
                f"{first.message}; nothing was replaced: every output is as it was before the run",
                file=first.file,
                hint=first.hint,
            ) from exc
        done: list[Path] = []
        for path, tmp in temps.items():
            try:
                if before_replace is not None:
                    before_replace(path, tmp)
                os.replace(tmp, path)
            except BaseException as exc:
                mixed = _put_back(done, kept)
                if isinstance(exc, OSError):
                    raise _set_error(path, exc.strerror or str(exc), mixed) from exc
                raise
            done.append(path)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        for backup in kept.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


def _write_temp(path: Path, data: bytes | str) -> Path:
    """`data` in a synced temp file beside `path`, with the mode `path` has (or the umask's); its name."""
    refuse_folder(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(
            f"folder {folder} does not exist", file=path, hint=f"Create it first (mkdir -p {folder})."
        )
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot write in {folder}: {exc.strerror}", file=path, hint="Choose a folder you can write to."
        ) from exc
    tmp = Path(name)
    try:
        # mkstemp makes the file 0600; give it the mode the replaced file had, else the usual umask one.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write {path}: {exc.strerror}",
            file=path,
            hint="Check the free space and the permissions, then run again.",
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _keep_aside(path: Path) -> Path | None:
    """A second name for the current file (None when there is none), to put it back after a failure."""
    if not path.exists():
        return None
    backup = path.with_name(f".{path.name}.{os.getpid()}.old.tmp")
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)
    except OSError:  # a file system without hard links: copy instead
        try:
            shutil.copy2(path, backup)
        except OSError as exc:
            backup.unlink(missing_ok=True)
            raise OutputError(
                f"cannot keep a copy of {path} while replacing it: {exc.strerror}",
                file=path,
                hint="Check the free space and the permissions, then run again.",
            ) from exc
    return backup


def _put_back(done: list[Path], kept: dict[Path, Path | None]) -> list[Path]:
    """Undo the moves already made; return the files that could not be put back."""
    failed = []
    for path in done:
        backup = kept.get(path)
        try:
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
                kept[path] = None
        except OSError:
            failed.append(path)
    return failed


def _set_error(path: Path, reason: str, mixed: list[Path]) -> OutputError:
    if mixed:
        return OutputError(
            f"cannot replace {path}: {reason}; the outputs are mixed: "
            + ", ".join(str(p) for p in mixed)
            + " are new, the others old",
            file=path,
            hint="Fix the cause (free space, permissions), then run again to write the whole set.",
        )
    return OutputError(
        f"cannot replace {path}: {reason}; the files already replaced were put back: every output "
        "is as it was before the run",
        file=path,
        hint="Fix the cause (free space, permissions), then run again.",
    )


# --- One run at a time per folder -----------------------------------------------------------------

RUN_LOCK = ".qms-run.lock"


@contextlib.contextmanager
def run_lock(folders: list[Path], command: str) -> Iterator[None]:
    """Hold an exclusive lock on each folder for the length of a run: a second run is refused.

    The lock is an OS file lock on `<folder>/.qms-run.lock`, released by the OS when the process ends
    (even when it is killed), so a crashed run never leaves a folder locked; a run that ends removes the
    file. Folders that do not exist yet are created.

    Raises:
        OutputError: another run holds one of the folders, or a folder cannot be created.
    """
    held: list[tuple[Path, Any]] = []
    try:
        named = {f.resolve(): f for f in folders}  # one lock per real folder, named as the user gave it
        for real in sorted(named):
            folder = named[real]
            ensure_folder(folder)
            held.append((folder / RUN_LOCK, _acquire(folder / RUN_LOCK, folder, command)))
        yield
    finally:
        for lock_path, handle in reversed(held):
            with contextlib.suppress(OSError):
                lock_path.unlink()  # while still locked: a waiting run then locks a fresh file
            handle.close()  # closing releases the lock


def _acquire(lock_path: Path, folder: Path, command: str) -> Any:
    while True:
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 - held open for the length of the run
        except OSError as exc:
            raise OutputError(
                f"cannot create {lock_path}: {exc.strerror}",
                file=lock_path,
                hint="Choose a folder you can write to.",
            ) from exc
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            handle.close()
            raise OutputError(
                f"another qms run is writing to {folder} ({holder})",
                file=lock_path,
                hint="Wait for it to finish, then run again: two runs at once would mix their outputs.",
            )
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a file the previous holder removed as we opened it
            handle.seek(0)
            handle.truncate()
            handle.write(f"{command}, process {os.getpid()}\n")
            handle.flush()
            return handle
        handle.close()


def _try_lock(handle: Any) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def clean_temp_files(paths: list[Path]) -> list[Path]:
    """Remove the temp files an interrupted run left beside `paths`; return those removed.

    Only names this module makes (`.NAME.<random>.tmp`) are touched; call it while holding `run_lock`.
    """
    removed = []
    for path in paths:
        folder = path.parent
        if not folder.is_dir():
            continue
        for stale in sorted(folder.glob(f".{glob.escape(path.name)}.*.tmp")):
            if stale.is_file() and not stale.is_symlink():
                stale.unlink(missing_ok=True)
                removed.append(stale)
    return removed
