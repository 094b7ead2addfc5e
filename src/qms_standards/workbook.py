"""Opening a workbook people send back: checked against documented limits before openpyxl reads it.

A workbook is a zip of XML files, and openpyxl trusts it: a 1 MB zip that expands to gigabytes fills the
memory, a broken XML member or a bad style ends in a traceback, an encrypted or oddly compressed member in
another. Here the zip's directory is checked first (sizes, compression, encryption), then every worksheet
is streamed once (well-formed XML, number of cells), and only then is the workbook loaded. Every refusal
says what was found and what the limit is (docs/promises.md lists the limits).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from .errors import QmsError
from .files import read_input

MAX_WORKBOOK_BYTES = 25 * 1024 * 1024  # the file as saved
MAX_MEMBERS = 2_000  # files inside the zip; a tracker has about 30
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024  # all members together, expanded
MAX_RATIO = 200  # expanded / compressed, for a member over 1 MB; sheet XML compresses 10-40 times
MAX_CELLS = 1_000_000  # cells in all sheets, formatted or filled (about 60,000 tracker rows)
MAX_ROWS = 100_000  # rows holding a value, in any one sheet

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # password-protected .xlsx and old .xls files
_READABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def load_checked_workbook(path: Path, error: type[QmsError], hint: str) -> Any:
    """Open a workbook within the limits, or raise `error` naming the file, the member and the limit.

    Raises:
        QmsError (`error`): not a regular file, not an xlsx, over a limit, or unreadable by openpyxl.
    """
    from openpyxl import load_workbook

    try:
        data = read_input(path, MAX_WORKBOOK_BYTES)
    except QmsError as exc:
        first = exc.problems[0]
        raise error(first.message, file=path, hint=f"{first.hint} {hint}") from None
    if data.startswith(_OLE_MAGIC):
        raise error(
            "is password-protected, or an old-style .xls workbook: qms cannot read either",
            file=path,
            hint="Open it in Excel, remove the password (File > Info > Protect Workbook) and save it as "
            "an Excel Workbook (.xlsx).",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise error(f"not an xlsx workbook ({type(exc).__name__})", file=path, hint=hint) from None
    with archive:
        _check_members(archive, path, error, hint)
        _check_sheets(archive, path, error, hint)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return load_workbook(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything on a damaged part; each is bad input
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise error(
            f"cannot be read as a workbook ({type(exc).__name__}{': ' + detail if detail else ''})",
            file=path,
            hint="Open it in Excel or LibreOffice and save it again as .xlsx; if that fails, "
            "use the last good copy. " + hint,
        ) from None


def _check_members(archive: zipfile.ZipFile, path: Path, error: type[QmsError], hint: str) -> None:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise error(
            f"the workbook holds {len(members):,} files inside it, over the {MAX_MEMBERS:,} limit",
            file=path,
            hint=hint,
        )
    total = 0
    for info in members:
        where = f"member {info.filename}"
        if info.flag_bits & 0x1:
            raise error(
                f"{where} is encrypted",
                file=path,
                hint="Save the workbook without a password, as an Excel Workbook (.xlsx).",
            )
        if info.compress_type not in _READABLE:
            raise error(
                f"{where} uses zip compression method {info.compress_type}, which qms does not read",
                file=path,
                hint="Open it in Excel or LibreOffice and save it again as .xlsx.",
            )
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise error(
                f"{where} expands {info.file_size // max(info.compress_size, 1):,} times "
                f"(to {info.file_size:,} bytes), over the {MAX_RATIO}-times limit: not a saved workbook",
                file=path,
                hint=hint,
            )
        total += info.file_size
        if total > MAX_UNCOMPRESSED_BYTES:
            raise error(
                f"the workbook expands to over {MAX_UNCOMPRESSED_BYTES:,} bytes (limit)",
                file=path,
                hint="Split the workbook, or remove sheets qms does not need.",
            )


def _check_sheets(archive: zipfile.ZipFile, path: Path, error: type[QmsError], hint: str) -> None:
    """Stream every worksheet once: well-formed XML, and cells and filled rows within the limits."""
    cells = 0
    for info in archive.infolist():
        name = info.filename
        if not (name.startswith("xl/") and name.endswith(".xml")):
            continue
        try:
            with archive.open(info) as stream:
                if name.startswith("xl/worksheets/"):
                    count, rows = _count_cells(stream, MAX_CELLS - cells)
                else:
                    for _ in ElementTree.iterparse(stream):
                        pass
                    count, rows = 0, 0
        except ElementTree.ParseError as exc:
            line, column = exc.position
            raise error(
                f"member {name} is not well-formed XML (line {line}, column {column + 1})",
                file=path,
                hint="The file is damaged: open it in Excel or LibreOffice and save it again, "
                "or use the last good copy.",
            ) from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise error(
                f"member {name} cannot be read ({type(exc).__name__})", file=path, hint=hint
            ) from None
        cells += count
        if cells > MAX_CELLS:
            raise error(
                f"the sheets hold over {MAX_CELLS:,} cells (limit), {name} alone {count:,}",
                file=path,
                hint="Clear the formatting of unused rows and columns (select them, Clear All), or split "
                "the workbook.",
            )
        if rows > MAX_ROWS:
            raise error(
                f"{name} has {rows:,} rows holding values, over the {MAX_ROWS:,}-row limit",
                file=path,
                hint="Split the workbook.",
            )


def _count_cells(stream: IO[bytes], budget: int) -> tuple[int, int]:
    """(cells, rows holding a value) of one worksheet's XML, streamed so memory stays flat.

    The count stops once it passes `budget` (the cells left under the limit): a refusal costs no more
    than reading that many cells.
    """
    cells = rows = 0
    row_has_value = False
    for _, element in ElementTree.iterparse(stream):
        tag = element.tag.rpartition("}")[2]
        if tag == "c":
            cells += 1
            if cells > budget:
                break
            row_has_value = row_has_value or any(
                child.tag.rpartition("}")[2] in ("v", "is", "f") for child in element
            )
            element.clear()
        elif tag == "row":
            rows += row_has_value
            row_has_value = False
            element.clear()
    return cells, rows


def last_filled_row(sheet: Any) -> int:
    """The last row of a sheet holding a value; formatting alone (a coloured row 1,048,576) is no row."""
    # `_cells` is openpyxl's store of the cells it read: walking it costs the cells that exist, whereas
    # `max_row` counts formatted rows and iterating up to it costs a million empty rows.
    rows = [row for (row, _), cell in sheet._cells.items() if cell.value not in (None, "")]
    return max(rows, default=1)
