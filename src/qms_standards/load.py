"""Stage 1, load: YAML files -> models, with every problem in every file located and reported together."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .content_edits import CONTENT_FILE, check_content
from .errors import DuplicateIdError, FrameworkError, MappingError, Problem, QmsError, StandardSetError
from .files import read_input
from .models import (
    ContentFile,
    DomainsFile,
    Framework,
    IdsLock,
    LockTotals,
    Mappings,
    Overrides,
    StandardSet,
    make_ref,
)
from .progress import Progress, tick
from .services import SERVICES_FILE, read_services
from .yamlsource import MAX_FILE_BYTES, Document, M, read_yaml, validate_document

DOMAINS_FILE = "domains.yaml"
OVERRIDES_FILE = "overrides.yaml"
LOCK_FILE = "ids.lock.yaml"
MAPPING_FILES = (DOMAINS_FILE, OVERRIDES_FILE, LOCK_FILE, SERVICES_FILE, CONTENT_FILE)


@dataclass(frozen=True)
class LoadedSet:
    """A standard set with the file it came from and that file's SHA-256."""

    set: StandardSet
    path: Path
    sha256: str


@dataclass
class Catalogue:
    """Everything loaded: the standard sets (in id order) and the mappings, if any were asked for."""

    sets: list[LoadedSet] = field(default_factory=list)
    mappings: Mappings | None = None

    @property
    def standard_sets(self) -> list[StandardSet]:
        """The sets alone."""
        return [s.set for s in self.sets]

    def refs(self) -> set[str]:
        """Every global requirement ref."""
        return {make_ref(s.set.id, r.id) for s in self.sets for r in s.set.requirements}


def yaml_files(path: Path) -> list[Path]:
    """The YAML files a path stands for: itself, or every *.yaml / *.yml entry in a folder, sorted.

    An entry that is not a readable file (a dangling link, a folder, a pipe) is listed too, so that reading
    it reports it: a set is never skipped as if it were absent.
    """
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
    return [path]


def load_standard_sets(paths: list[Path]) -> list[LoadedSet]:
    """Load standard sets from files or folders.

    Raises:
        QmsError: listing every problem found in every file (syntax, schema, duplicate ids, empty sets).
    """
    problems: list[Problem] = []
    loaded = _load_sets(paths, problems)
    if problems:
        cls = DuplicateIdError if all("duplicate" in p.message for p in problems) else StandardSetError
        raise cls(f"{len(problems)} problem(s) in standard sets", problems=problems)
    return loaded


def _load_sets(
    paths: list[Path], problems: list[Problem], progress: Progress | None = None
) -> list[LoadedSet]:
    loaded: list[tuple[LoadedSet, Document]] = []
    files: list[Path] = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            problems.append(
                Problem(
                    "no such file or folder", path, hint="Check the path (standard sets live in standards/)."
                )
            )
            continue
        found = yaml_files(path)
        if path.is_dir() and not found:
            problems.append(
                Problem("folder holds no .yaml files", path, hint="Add one YAML file per standard set.")
            )
        files.extend(found)
    for done, path in enumerate(files):
        tick(progress, done, len(files))
        doc = read_yaml(path, problems)
        if doc is None:
            continue
        model = validate_document(doc, StandardSet, problems)
        if model is not None:
            _check_set(doc, model, problems)
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            loaded.append((LoadedSet(model, path, sha), doc))
    tick(progress, len(files), len(files))
    seen: dict[str, Path] = {}
    for item, doc in loaded:
        first = seen.setdefault(item.set.id, item.path)
        if first != item.path:
            problems.append(
                Problem(
                    f"duplicate set id '{item.set.id}' (also in {first})",
                    item.path,
                    doc.line_of(("id",)),
                    "id",
                    "Give each standard set a unique id.",
                )
            )
    return sorted((item for item, _ in loaded), key=lambda s: s.set.id)


def _check_set(doc: Document, model: StandardSet, problems: list[Problem]) -> None:
    # Lines are looked up for a duplicate only: a valid set then never needs its node tree composed.
    first: dict[str, int] = {}  # requirement id -> index of its first entry
    for index, requirement in enumerate(model.requirements):
        if requirement.id in first:
            line = doc.line_of(("requirements", first[requirement.id], "id")) or 0
            problems.append(
                Problem(
                    f"duplicate requirement id '{requirement.id}' (first at line {line})",
                    doc.path,
                    doc.line_of(("requirements", index, "id")),
                    f"requirements[{index}].id",
                    "Requirement ids must be unique within a set.",
                )
            )
        else:
            first[requirement.id] = index


def load_mappings(folder: Path, known_refs: set[str] | None = None) -> Mappings:
    """Load `domains.yaml`, `overrides.yaml` and `ids.lock.yaml` from a mappings folder.

    `overrides.yaml` and `ids.lock.yaml` are optional. When `known_refs` is given, every ref an override
    names must be one of them.

    Raises:
        MappingError: listing every problem.
    """
    problems: list[Problem] = []
    mappings = _load_mappings(folder, known_refs, problems)
    if problems or mappings is None:
        raise MappingError(f"{len(problems)} problem(s) in mappings", problems=problems)
    return mappings


def _load_mappings(folder: Path, known_refs: set[str] | None, problems: list[Problem]) -> Mappings | None:
    domains_path = folder / DOMAINS_FILE
    if not folder.is_dir():
        problems.append(
            Problem(
                "mappings folder not found",
                folder,
                hint="Pass --mappings DIR, or create mappings/ with a domains.yaml.",
            )
        )
        return None
    for stray in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        if stray.name not in MAPPING_FILES:
            close = difflib.get_close_matches(stray.name, MAPPING_FILES, n=1, cutoff=0.8)
            problems.append(
                Problem(
                    "not a mappings file: qms reads only " + ", ".join(MAPPING_FILES) + " here",
                    stray,
                    hint=f"Rename it to {close[0]}." if close else "Move it out of the mappings folder.",
                )
            )
    if not _present(domains_path):
        problems.append(
            Problem(
                "domains.yaml is missing",
                domains_path,
                hint="Copy mappings/domains.yaml from the qms-standards repository and edit it.",
            )
        )
        return None
    domains_doc = read_yaml(domains_path, problems)
    domains = validate_document(domains_doc, DomainsFile, problems) if domains_doc else None
    overrides, overrides_doc = _optional(folder / OVERRIDES_FILE, Overrides, problems)
    content, content_doc = _optional(folder / CONTENT_FILE, ContentFile, problems)
    lock, lock_doc = _optional(folder / LOCK_FILE, IdsLock, problems)
    if lock is not None:
        lock = check_lock(folder / LOCK_FILE, lock, lock_doc, problems)
    if (folder / SERVICES_FILE).exists():  # optional: read by the self-assessment commands, checked here too
        read_services(folder / SERVICES_FILE, problems)
    if domains is not None:
        _check_unique([d.id for d in domains.domains], domains_doc, ("domains",), "id", problems)
    if domains is None or overrides is None or lock is None or content is None:
        return None
    if content_doc is not None:
        check_content(content_doc, content, known_refs, lock, overrides, problems)
    if overrides_doc is not None:
        domain_ids = {d.id for d in domains.domains}
        lock_ids = {e.id for e in lock.standards}
        _check_overrides(overrides_doc, overrides, known_refs, domain_ids, lock_ids, problems)
    return Mappings(domains=domains.domains, overrides=overrides, lock=lock, content=content)


def _optional(path: Path, cls: type[M], problems: list[Problem]) -> tuple[M | None, Document | None]:
    """An optional mappings file: absent, empty or only comments means "no entries"."""
    if not _present(path):
        return cls(), None
    try:
        text = read_input(path, MAX_FILE_BYTES).decode("utf-8")
    except (QmsError, UnicodeDecodeError):
        text = "x"  # read_yaml reports it with its line
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        return cls(), None
    doc = read_yaml(path, problems)
    if doc is None:
        return None, None
    if doc.data is None:
        return cls(), doc
    return validate_document(doc, cls, problems), doc


def _present(path: Path) -> bool:
    """Whether a name is there at all: a dangling link is present (and reported), not absent."""
    return path.exists() or path.is_symlink()


LOCK_HINT = (
    "Restore ids.lock.yaml from version control (git checkout mappings/ids.lock.yaml), or from the copy "
    "committed with the last framework; never let ids be handed out again from a damaged lock."
)


def check_lock(path: Path, lock: IdsLock, doc: Document | None, problems: list[Problem]) -> IdsLock | None:
    """Refuse an `ids.lock.yaml` that is damaged, so ids are never handed out again from a partial list.

    A lock cut short at a line still parses: its `totals` (written last) are then missing or disagree with
    what is left. A lock left with its comments alone, an id held twice, or a ref under two live ids would
    renumber standards silently; each is a problem naming the line.

    Returns:
        The lock, or None when it has problems.
    """
    before = len(problems)
    if doc is None:
        if _present(path):  # present, but only comments or blank lines
            problems.append(
                Problem(
                    "ids.lock.yaml holds no ids (only comments or blank lines): it was emptied or cut short",
                    path,
                    1,
                    hint=LOCK_HINT + " To number every standard afresh on purpose, delete the file.",
                )
            )
        return None if len(problems) > before else lock
    counted = lock.counted()
    raw = doc.data if isinstance(doc.data, dict) else {}
    if raw.get("totals") is None:  # absent, or `totals:` with its lines cut off
        problems.append(
            Problem(
                "ids.lock.yaml has no totals: it was cut short, or written by an older qms",
                path,
                doc.line_of(()) if not lock.standards else _last_line(doc),
                "totals",
                LOCK_HINT + " If the file is whole (compare it with git), add at its end: totals: "
                f"{{standards: {counted.standards}, retired: {counted.retired}, refs: {counted.refs}}}",
            )
        )
    elif lock.totals != counted:
        problems.append(
            Problem(
                f"ids.lock.yaml says it holds {_totals(lock.totals)} but holds {_totals(counted)}: "
                "entries were lost or added by hand",
                path,
                doc.line_of(("totals",)),
                "totals",
                LOCK_HINT + " If the entries were edited on purpose, correct the totals to match.",
            )
        )
    seen: dict[str, str] = {}
    owner: dict[str, str] = {}
    for key in ("standards", "retired"):
        for i, entry in enumerate(getattr(lock, key)):
            where = f"{key}[{i}]"
            if entry.id in seen:
                problems.append(
                    Problem(
                        f"id '{entry.id}' appears twice (first as {seen[entry.id]})",
                        path,
                        doc.line_of((key, i, "id")),
                        f"{where}.id",
                        LOCK_HINT,
                    )
                )
            seen.setdefault(entry.id, where)
            if key != "standards":
                continue  # a retired id keeps the refs it last held, which a live id now holds
            for j, ref in enumerate(entry.refs):
                if ref in owner and owner[ref] != entry.id:
                    problems.append(
                        Problem(
                            f"'{ref}' is held by two ids, {owner[ref]} and {entry.id}",
                            path,
                            doc.line_of((key, i, "refs", j)),
                            f"{where}.refs[{j}]",
                            LOCK_HINT,
                        )
                    )
                owner.setdefault(ref, entry.id)
    return None if len(problems) > before else lock


def _totals(totals: LockTotals | None) -> str:
    if totals is None:
        return "nothing"
    return f"{totals.standards} standards, {totals.retired} retired ids and {totals.refs} refs"


def _last_line(doc: Document) -> int | None:
    node = doc.node
    return node.end_mark.line + (0 if node.end_mark.column == 0 else 1) if node is not None else None


def _check_unique(
    ids: list[str], doc: Document | None, loc: tuple[str, ...], key: str, problems: list[Problem]
) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen and doc is not None:
            problems.append(
                Problem(
                    f"duplicate {key} '{value}'",
                    doc.path,
                    doc.line_of((*loc, index, key)),
                    f"{loc[-1]}[{index}].{key}",
                    "Ids must be unique.",
                )
            )
        seen.add(value)


def _check_overrides(
    doc: Document,
    overrides: Overrides,
    known_refs: set[str] | None,
    domain_ids: set[str],
    lock_ids: set[str],
    problems: list[Problem],
) -> None:
    def unknown_ref(ref: str, loc: tuple[str | int, ...]) -> None:
        problems.append(
            Problem(
                f"'{ref}' is not a requirement in the loaded standard sets",
                doc.path,
                doc.line_of(loc),
                field_path(loc),
                "Write refs as <set-id>:<requirement-id>; `qms list` and `qms show` list them.",
            )
        )

    for key in ("must_link", "cannot_link"):
        for i, link in enumerate(getattr(overrides, key)):
            for j, ref in enumerate(link.refs):
                if known_refs is not None and ref not in known_refs:
                    unknown_ref(ref, (key, i, "refs", j))
    for i, exclusion in enumerate(overrides.exclude):
        if known_refs is not None and exclusion.ref not in known_refs:
            unknown_ref(exclusion.ref, ("exclude", i, "ref"))
    _check_once(doc, [e.ref for e in overrides.exclude], ("exclude", "ref"), "excluded", problems)
    if known_refs and overrides.exclude and known_refs <= {e.ref for e in overrides.exclude}:
        problems.append(
            Problem(
                f"every requirement of the loaded standard sets ({len(known_refs)}) is excluded: "
                "nothing is left to consolidate",
                doc.path,
                doc.line_of(("exclude",)),
                "exclude",
                "Remove the exclusions of the requirements the framework should cover.",
            )
        )
    _check_once(doc, [o.id for o in overrides.standards], ("standards", "id"), "given values", problems)
    for i, item in enumerate(overrides.standards):
        if item.domain is not None and item.domain not in domain_ids:
            problems.append(
                Problem(
                    f"domain '{item.domain}' is not in domains.yaml",
                    doc.path,
                    doc.line_of(("standards", i, "domain")),
                    f"standards[{i}].domain",
                    f"Use one of: {', '.join(sorted(domain_ids))}.",
                )
            )
        if item.id not in lock_ids:
            problems.append(
                Problem(
                    f"standard '{item.id}' is not in ids.lock.yaml",
                    doc.path,
                    doc.line_of(("standards", i, "id")),
                    f"standards[{i}].id",
                    "Use an id from the last framework.yaml (run `qms consolidate` first).",
                )
            )
    _check_link_conflicts(doc, overrides, problems)


def _check_once(
    doc: Document, values: list[str], loc: tuple[str, str], what: str, problems: list[Problem]
) -> None:
    """Two entries for one ref or one standard: the last would silently win, so both are named."""
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        line = doc.line_of((loc[0], i, loc[1])) or 0
        if value in first:
            problems.append(
                Problem(
                    f"'{value}' is {what} twice (first at line {first[value]})",
                    doc.path,
                    line,
                    f"{loc[0]}[{i}].{loc[1]}",
                    "Keep one entry and merge what the two say into it.",
                )
            )
        first.setdefault(value, line)


def _check_link_conflicts(doc: Document, overrides: Overrides, problems: list[Problem]) -> None:
    """A cannot-link between two refs that must-links join (directly or through others) is a conflict."""
    parent: dict[str, str] = {}

    def find(ref: str) -> str:
        parent.setdefault(ref, ref)
        while parent[ref] != ref:
            parent[ref] = parent[parent[ref]]
            ref = parent[ref]
        return ref

    for link in overrides.must_link:
        for ref in link.refs[1:]:
            parent[find(ref)] = find(link.refs[0])
    excluded = {e.ref for e in overrides.exclude}
    for i, link in enumerate(overrides.cannot_link):
        refs = link.refs
        for a in range(len(refs)):
            for b in range(a + 1, len(refs)):
                if find(refs[a]) == find(refs[b]):
                    problems.append(
                        Problem(
                            f"cannot-link {refs[a]} / {refs[b]} contradicts must-link entries that join them",
                            doc.path,
                            doc.line_of(("cannot_link", i)),
                            f"cannot_link[{i}]",
                            "Remove the cannot-link, or the must-link that chains the two together.",
                        )
                    )
    for key in ("must_link", "cannot_link"):
        for i, link in enumerate(getattr(overrides, key)):
            for j, ref in enumerate(link.refs):
                if ref in excluded:
                    problems.append(
                        Problem(
                            f"'{ref}' is excluded, so it cannot also be linked",
                            doc.path,
                            doc.line_of((key, i, "refs", j)),
                            f"{key}[{i}].refs[{j}]",
                            "Remove the link or the exclusion.",
                        )
                    )


def field_path(loc: tuple[str | int, ...]) -> str:
    """A location as users read it: `standards[3].sources[0].ref`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_catalogue(
    standards: list[Path], mappings: Path | None, progress: Progress | None = None
) -> Catalogue:
    """Load standard sets and (optionally) a mappings folder, reporting every problem of both at once.

    `progress` is called with (standard set files read, files) as they are read.
    """
    problems: list[Problem] = []
    sets = _load_sets(standards, problems, progress)
    catalogue = Catalogue(sets=sets)
    if mappings is not None:
        refs = catalogue.refs() if not problems else None
        catalogue.mappings = _load_mappings(mappings, refs, problems)
    if problems:
        raise QmsError(f"{len(problems)} problem(s) found", problems=problems)
    return catalogue


def is_mappings_path(path: Path) -> bool:
    """True for a mappings folder (it holds any of the mapping files) or one of the mapping files."""
    if path.is_dir():
        # Any mapping file, not only domains.yaml: a folder lacking it is reported so, not read as sets.
        return any((path / name).exists() for name in MAPPING_FILES)
    return path.name in MAPPING_FILES


def load_framework(path: Path) -> Framework:
    """Read a framework YAML written by `qms consolidate`.

    Raises:
        FrameworkError: the file is missing, not YAML, or not a framework.
    """
    problems: list[Problem] = []
    if not path.exists():
        raise FrameworkError(
            "no such file", file=path, hint="Run `qms consolidate` to write framework/framework.yaml."
        )
    doc = read_yaml(path, problems)
    framework = validate_document(doc, Framework, problems) if doc else None
    if doc is not None and framework is not None:
        for loc, message, hint in framework_problems(framework):
            problems.append(Problem(message, path, doc.line_of(loc), field_path(loc), hint))
    if problems or framework is None:
        raise FrameworkError(f"{len(problems)} problem(s) in framework", problems=problems)
    return framework


FRAMEWORK_HINT = "A framework is written by `qms consolidate`: rerun it rather than editing the file."


def framework_problems(framework: Framework) -> list[tuple[tuple[str | int, ...], str, str]]:
    """What makes a schema-valid framework unusable: (location, message, hint) for each problem.

    An id or source ref held twice, or a standard in a domain the framework does not define: an export or
    a diff of such a file would mislead.
    """
    out: list[tuple[tuple[str | int, ...], str, str]] = []

    def once(seen: set[str], value: str, what: str, loc: tuple[str | int, ...]) -> None:
        if value in seen:
            out.append((loc, f"{what} '{value}' appears more than once", FRAMEWORK_HINT))
        seen.add(value)

    domains: set[str] = set()
    for i, domain in enumerate(framework.domains):
        once(domains, domain.id, "domain", ("domains", i, "id"))
    standards: set[str] = set()
    placed: set[str] = set()
    for i, standard in enumerate(framework.standards):
        once(standards, standard.id, "standard", ("standards", i, "id"))
        if standard.domain not in domains:
            out.append(
                (
                    ("standards", i, "domain"),
                    f"domain '{standard.domain}' is not one of the framework's domains",
                    f"Use one of: {', '.join(sorted(domains))}; or rerun `qms consolidate`.",
                )
            )
        for j, link in enumerate(standard.sources):
            once(placed, link.ref, "source", ("standards", i, "sources", j, "ref"))
    for i, item in enumerate(framework.excluded):
        once(placed, item.ref, "source", ("excluded", i, "ref"))
    return out


def validate_paths(paths: list[Path]) -> Catalogue:
    """Load whatever the paths name (standard sets, a mappings folder or file) and check it all.

    Mapping refs are checked against the standard sets given alongside them.

    Raises:
        QmsError: listing every problem in every file.
    """
    mapping_paths = [p for p in paths if p.exists() and is_mappings_path(p)]
    set_paths = [p for p in paths if p not in mapping_paths]
    folders = sorted({p if p.is_dir() else p.parent for p in mapping_paths})
    problems: list[Problem] = []
    catalogue = Catalogue(sets=_load_sets(set_paths, problems) if set_paths else [])
    refs = catalogue.refs() if set_paths and not problems else None
    for folder in folders:
        catalogue.mappings = _load_mappings(folder, refs, problems)
    if problems:
        raise QmsError(f"{len(problems)} problem(s) found", problems=problems)
    return catalogue
