"""`qms export ciso-assistant|oscal`: the framework out to GRC tools."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import QmsError
from ..files import dump_yaml, ensure_folder, refuse_folder, write_atomic
from ..load import load_framework, load_standard_sets
from ._app import console
from .export import FrameworkArg, export_app


def _wrote(path: Path, what: str) -> None:
    console.print(f"[green]wrote[/] {escape(str(path))}: {escape(what)}", highlight=False, soft_wrap=True)


@export_app.command("ciso-assistant")
def export_ciso_assistant(
    framework: FrameworkArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Library file to write (.yaml).")],
    sources_dir: Annotated[
        Path | None,
        typer.Option(
            "--sources-dir",
            help="Folder to write a library for each source set too (CISO Assistant needs them loaded "
            "before the mapping sets).",
        ),
    ] = None,
    standards: Annotated[
        Path, typer.Option("--standards", "-s", help="Folder of the standard set files, for --sources-dir.")
    ] = Path("standards"),
    ref_id: Annotated[
        str | None, typer.Option(help="The library's ref_id. Default: the framework's name in kebab-case.")
    ] = None,
) -> None:
    """Write the framework as a CISO Assistant library, with a mapping set from each source set.

    Example: qms export ciso-assistant framework/framework.yaml -o qms-library.yaml --sources-dir libs
    """
    from ..export.ciso_assistant import build_library, missing_sources, render_set_library

    loaded = load_framework(framework)
    library = build_library(loaded, ref_id)
    text = dump_yaml(library)
    sets = []
    if sources_dir is not None:
        wanted = {s.id for s in loaded.framework.sources}
        sets = [item.set for item in load_standard_sets([standards]) if item.set.id in wanted]
        missing = sorted(wanted - {s.id for s in sets})
        if missing:
            raise QmsError(
                f"source set(s) not found in {standards}: {', '.join(missing)}",
                field="--standards",
                hint="Give the folder the framework was consolidated from (-s).",
            )
        gone = missing_sources(loaded, sets)
        if gone:
            shown = ", ".join(gone[:5]) + (f", ... (+{len(gone) - 5})" if len(gone) > 5 else "")
            raise QmsError(
                f"the framework maps {len(gone)} requirement(s) that {standards} no longer holds: {shown}",
                field="--standards",
                hint="The sets changed since the framework was built: rerun `qms consolidate`, then export.",
            )
        ensure_folder(sources_dir)
    write_atomic(output, text)
    objects = library["objects"]
    mappings = sum(len(m["requirement_mappings"]) for m in objects["requirement_mapping_sets"])
    _wrote(
        output,
        f"{len(loaded.standards)} standards in {len(loaded.domains)} domains, "
        f"{len(objects['requirement_mapping_sets'])} mapping sets ({mappings} mappings)",
    )
    for standard_set in sets:
        path = sources_dir / f"{standard_set.id}.yaml" if sources_dir else Path()
        write_atomic(path, render_set_library(standard_set))
        _wrote(path, f"{standard_set.id}, {len(standard_set.requirements)} requirements")


@export_app.command("oscal")
def export_oscal(
    framework: FrameworkArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Catalog file to write (.json).")],
    last_modified: Annotated[
        str,
        typer.Option(
            help="The catalog's last-modified time, ISO 8601 with a time zone (OSCAL requires one; it is "
            "not read from the clock so the same framework gives the same file).",
        ),
    ] = "2000-01-01T00:00:00Z",
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="Also write the crosswalk (source requirements -> standards) as an OSCAL mapping collection "
            "to this file (.json).",
        ),
    ] = None,
) -> None:
    """Write the framework as an OSCAL catalog: each domain a group, each standard a control.

    Example: qms export oscal framework/framework.yaml -o catalog.json --last-modified 2025-06-30T00:00:00Z
    """
    from datetime import datetime

    from ..export.oscal import render_catalog, render_mapping

    try:
        stamp = datetime.fromisoformat(last_modified.replace("Z", "+00:00"))
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise QmsError(
            f"--last-modified {last_modified}: not a time with a time zone",
            field="--last-modified",
            hint="Write it as 2025-06-30T00:00:00Z (Z for UTC) or 2025-06-30T09:00:00+01:00.",
        )
    loaded = load_framework(framework)
    if mapping is not None:
        refuse_folder(mapping)
    write_atomic(output, render_catalog(loaded, last_modified))
    _wrote(output, f"OSCAL catalog, {len(loaded.standards)} controls in {len(loaded.domains)} groups")
    if mapping is not None:
        # The mapping's target is the catalog just written, named as the mapping file sees it.
        href = os.path.relpath(output.resolve(), mapping.resolve().parent)
        write_atomic(mapping, render_mapping(loaded, last_modified, Path(href).as_posix()))
        links = sum(len(s.sources) + len(s.related) for s in loaded.standards)
        _wrote(mapping, f"OSCAL mapping collection, {len(loaded.framework.sources)} mappings ({links} maps)")
