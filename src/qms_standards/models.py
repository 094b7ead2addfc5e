"""Pydantic models at the pipeline's boundaries: standard sets, mappings, settings and the framework.

Every model is strict (`extra="forbid"`) and frozen; field order is the order written to YAML.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .textcheck import ID_FIELDS, id_problem, text_problem

SET_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
REF_SEPARATOR = ":"

SetId = Annotated[str, StringConstraints(pattern=SET_ID_PATTERN, min_length=1, max_length=80)]
ReqId = Annotated[str, StringConstraints(pattern=r"^[^\s:][^\s:]*$", min_length=1, max_length=120)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Level = Annotated[int, Field(ge=1, le=5)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]

QmsComponent = Literal["planning", "control", "improvement", "assurance"]
QMS_COMPONENTS: tuple[str, ...] = ("planning", "control", "improvement", "assurance")
STEEEP: tuple[str, ...] = ("safe", "timely", "effective", "efficient", "equitable", "person-centred")
Relationship = Literal["equal", "subset", "superset", "intersect"]
RiskRating = Literal["low", "moderate", "high", "extreme"]
SeverityBasis = Literal["hints", "topic", "default", "override"]
LikelihoodBasis = Literal["prior", "returns", "override"]


class Model(BaseModel):
    """Base for every qms model: unknown keys are errors and instances are immutable.

    Every text field refuses control characters, and every id field look-alike characters
    (`textcheck`); a number field refuses a YAML boolean (`severity: yes` is not severity 1).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            if bool not in (annotation, *get_args(annotation)) and annotation is not Any:
                raise PydanticCustomError(
                    "boolean_value", "yes/no is not a number: YAML reads yes, no, on and off as true or false"
                )
        return value

    @field_validator("*")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        items = (value,) if isinstance(value, str) else value if isinstance(value, tuple) else ()
        for item in items:
            if not isinstance(item, str):
                continue
            problem = text_problem(item)
            if problem is None and info.field_name in ID_FIELDS:
                problem = id_problem(item)
                if problem is not None:
                    raise PydanticCustomError("confusable_id", problem)
            if problem is not None:
                raise PydanticCustomError("control_character", problem)
        return value


def make_ref(set_id: str, requirement_id: str) -> str:
    """Global reference of a requirement: `<set-id>:<requirement-id>`."""
    return f"{set_id}{REF_SEPARATOR}{requirement_id}"


def split_ref(ref: str) -> tuple[str, str]:
    """Split a global ref into (set id, requirement id); the requirement id may not contain ':'."""
    set_id, _, req_id = ref.partition(REF_SEPARATOR)
    return set_id, req_id


# --- Input: standard sets ------------------------------------------------------------------------


class Requirement(Model):
    """One requirement of a standard set, as the source numbers and titles it."""

    id: ReqId = Field(description="The source's own reference, e.g. '7.1.2' or 'safe/learning-culture'.")
    title: ShortText
    text: Text = Field(description="Verbatim (OGL sources) or a summary in our own words (ISO).")
    section: ShortText | None = Field(default=None, description="Grouping in the source, e.g. '7 Support'.")
    tags: tuple[str, ...] = Field(default=(), description="QMS component, STEEEP dimension, key question ...")
    severity: Level | None = Field(default=None, description="Hint 1-5 for the risk model.")
    verified: bool = Field(default=True, description="False when the title could not be confirmed.")
    url: str | None = None

    @field_validator("tags")
    @classmethod
    def _tags_are_kebab(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        import re

        bad = [t for t in tags if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", t)]
        if bad:
            raise ValueError(f"tags must be lower-case kebab-case words, not {', '.join(map(repr, bad))}")
        return tags


class StandardSet(Model):
    """One external standard (CQC, ISO 9001 ...), with its provenance and licence."""

    id: SetId = Field(description="Unique kebab-case id carrying the edition, e.g. 'iso-9001-2015'.")
    name: ShortText
    publisher: ShortText
    version: ShortText
    licence: ShortText
    text_is: Literal["verbatim", "paraphrase"] = Field(
        default="paraphrase", description="Whether requirement texts quote the source or summarise it."
    )
    attribution: ShortText | None = Field(default=None, description="Attribution the licence asks for.")
    url: str | None = None
    published: str | None = Field(default=None, description="Publication date of this edition.")
    notes: str | None = None
    requirements: tuple[Requirement, ...] = Field(min_length=1)

    def ref(self, requirement: Requirement) -> str:
        """Global ref of one of this set's requirements."""
        return make_ref(self.id, requirement.id)


class SourceRequirement(Model):
    """A requirement flattened with its set, as the engine consumes it."""

    ref: str
    set_id: str
    requirement: Requirement

    @property
    def text(self) -> str:
        """`title. text` as the engine compares it."""
        title = self.requirement.title.strip().rstrip(".")
        return f"{title}. {self.requirement.text.strip()}"


def flatten(sets: list[StandardSet] | tuple[StandardSet, ...]) -> list[SourceRequirement]:
    """All requirements of all sets, in set order then file order."""
    return [SourceRequirement(ref=s.ref(r), set_id=s.id, requirement=r) for s in sets for r in s.requirements]


# --- Input: mappings/ ----------------------------------------------------------------------------


class Domain(Model):
    """A domain of the consolidated framework."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=20)]
    name: ShortText
    description: Text


class DomainsFile(Model):
    """`mappings/domains.yaml`."""

    domains: tuple[Domain, ...] = Field(min_length=1)


class Decision(Model):
    """Who decided what, and why: carried by every human override."""

    reason: ShortText | None = None
    by: ShortText | None = None
    date: str | None = None


class Link(Decision):
    """A must-link or cannot-link between source requirements."""

    refs: tuple[str, ...] = Field(min_length=2)


class Exclusion(Model):
    """A requirement deliberately left out of the framework; the reason is required."""

    ref: str
    reason: ShortText


class StandardOverride(Decision):
    """Human values for one consolidated standard, by its stable id."""

    id: str
    title: ShortText | None = None
    statement: Text | None = None
    domain: str | None = None
    qms_component: QmsComponent | None = None
    severity: Level | None = None
    likelihood: Level | None = None


class Overrides(Model):
    """`mappings/overrides.yaml`: human decisions applied on every run."""

    must_link: tuple[Link, ...] = ()
    cannot_link: tuple[Link, ...] = ()
    exclude: tuple[Exclusion, ...] = ()
    standards: tuple[StandardOverride, ...] = ()


class GoodLooksLikeWords(Model):
    """People's own lines of what good looks like; a part left out stays as drafted."""

    outputs: tuple[Text, ...] | None = None
    behaviours: tuple[Text, ...] | None = None
    outcomes: tuple[Text, ...] | None = None


class ContentWords(Decision):
    """A quality team's words for one standard, by its stable id; each field given replaces the draft."""

    id: str
    title: ShortText | None = None
    statement: Text | None = None
    good_looks_like: GoodLooksLikeWords | None = None
    evidence: tuple[Text, ...] | None = None
    members: tuple[str, ...] | None = Field(
        default=None,
        description="The refs the standard held when these words were agreed: a run reports any change.",
    )


class ContentFile(Model):
    """`mappings/content.yaml`: people's titles, statements and what good looks like, kept as written."""

    standards: tuple[ContentWords, ...] = ()


class LockEntry(Model):
    """One standard id and the source refs it held when last written."""

    id: str
    refs: tuple[str, ...]


class LockTotals(Model):
    """How many standard ids, retired ids and refs an `ids.lock.yaml` holds."""

    standards: int = Field(ge=0)
    retired: int = Field(ge=0)
    refs: int = Field(ge=0)


class IdsLock(Model):
    """`mappings/ids.lock.yaml`: keeps standard ids stable across runs."""

    prefix: str = "QS"
    cut: str | None = Field(
        default=None,
        description="The cut its standards were formed at ('threshold 0.4', 'target 60'): `keep_agreed` "
        "weighs them only in a run at the same cut, so a trial at another cut does not pull the next run.",
    )
    standards: tuple[LockEntry, ...] = ()
    retired: tuple[LockEntry, ...] = Field(
        default=(),
        description="Ids no longer in use, with the refs each last held: one comes back only for a cluster "
        "of exactly those refs (a trial run at another threshold, undone); no other cluster ever gets it.",
    )

    @field_validator("retired", mode="before")
    @classmethod
    def _bare_ids(cls, value: Any) -> Any:
        """Lock files written before retired ids kept their refs list bare ids: read them with no refs."""
        if isinstance(value, list | tuple):
            return [{"id": v, "refs": []} if isinstance(v, str) else v for v in value]
        return value

    totals: LockTotals | None = Field(
        default=None,
        description="Counts of what the lock holds, written last: a lock cut short at any line lacks them "
        "or disagrees with them, so `load` refuses it instead of handing ids out again.",
    )

    @model_validator(mode="after")
    def _count(self) -> IdsLock:
        """A lock built in code gets its totals; one read from a file keeps its own (load checks them)."""
        if self.totals is None:
            object.__setattr__(self, "totals", self.counted())  # frozen: set once, while validating
        return self

    def counted(self) -> LockTotals:
        """What the lock holds, counted."""
        return LockTotals(
            standards=len(self.standards),
            retired=len(self.retired),
            refs=sum(len(e.refs) for e in (*self.standards, *self.retired)),
        )


class Mappings(Model):
    """Everything under `mappings/`."""

    domains: tuple[Domain, ...]
    overrides: Overrides = Overrides()
    lock: IdsLock = IdsLock()
    content: ContentFile = ContentFile()


# --- Settings ------------------------------------------------------------------------------------


class Weights(Model):
    """How the match score (are two requirements the same?) blends its signals; the weights sum to 1."""

    embedding: Unit = Field(default=0.3, description="Embedding cosine of the full texts.")
    title_embedding: Unit = Field(default=0.3, description="Embedding cosine of the titles.")
    fuzzy: Unit = Field(default=0.2, description="rapidfuzz token-set ratio of the normalised texts.")
    title: Unit = Field(default=0.2, description="rapidfuzz token-sort ratio of the normalised titles.")


class Grouping(Model):
    """How the fit of two requirements in one standard is scored (see `similarity`); weights sum to 1."""

    meaning: Unit = Field(default=0.6, description="Cosine of the set-centred text embeddings.")
    title_meaning: Unit = Field(default=0.3, description="Cosine of the set-centred title embeddings.")
    subject: Unit = Field(default=0.1, description="TF-IDF cosine of the subject words.")
    title_words: Unit = Field(default=0.0, description="rapidfuzz token-sort ratio of the titles.")
    other_heading: Unit = Field(
        default=0.2,
        description="Taken off the fit of two requirements of one set that its publisher put under different"
        " headings.",
    )
    neighbours: int = Field(
        default=3, ge=1, le=50, description="Best cross-set matches averaged for each item's local level."
    )
    floor: int = Field(
        default=60,
        ge=0,
        le=100,
        description="No item's local level is below this percentile of all items' levels.",
    )


class Settings(Model):
    """Engine settings, saved with every framework under `engine:` so a run can be reproduced."""

    model: str = "all-MiniLM-L6-v2"
    weights: Weights = Weights()
    match_threshold: Unit = Field(
        default=0.87,
        description="Average score at which requirements are the same (calibrated; `qms evaluate`).",
    )
    threshold: Unit = Field(default=0.4, description="Average score at which requirements share a standard.")
    grouping: Grouping = Grouping()
    keep_agreed: Unit = Field(
        default=0.03,
        description="Added, when cutting only, to the fit of two requirements the id lock holds in one"
        " standard: a small change of wording does not reshuffle an agreed framework (0: off).",
    )
    related_threshold: Unit = Field(
        default=0.55, description="Fit at which a standard also partly covers a requirement homed elsewhere."
    )
    related_per_requirement: int = Field(
        default=3, ge=0, le=20, description="Most related standards listed for one requirement."
    )
    target: int | None = Field(default=None, ge=1, description="Cut to this many standards instead.")
    linkage: Literal["average"] = "average"
    clause_bonus: Unit = Field(
        default=0.1, description="Added when corresponding sets share a clause number."
    )
    mutual_bonus: Unit = Field(default=0.05, description="Added to mutual best matches across two sets.")
    same_set_factor: Unit = Field(
        default=0.8, description="Multiplies the match score of two requirements of one set."
    )
    exact_pairs_limit: int = Field(
        default=4000, ge=2, description="Beyond this many requirements, score nearest neighbours only."
    )
    neighbours: int = Field(default=30, ge=1, description="Neighbours per requirement on the scalable path.")


# --- Output: the framework -----------------------------------------------------------------------


class SourceSet(Model):
    """Provenance of one input set, as recorded in a framework."""

    id: str
    name: str
    version: str
    publisher: str
    licence: str
    requirements: int
    sha256: str


class FrameworkInfo(Model):
    """The framework's header: name, version, engine settings and sources."""

    name: str
    version: str
    generated_by: str
    engine: Settings
    sources: tuple[SourceSet, ...]


class Risk(Model):
    """Risk on the NHS 5x5 matrix: severity (consequence) x likelihood."""

    severity: Level
    likelihood: Level
    score: Annotated[int, Field(ge=1, le=25)]
    rating: RiskRating
    weight: float = Field(ge=0.0, le=1.0, description="score / sum of all scores.")
    recurrence: int | None = Field(
        default=None, ge=1, description="How many source sets repeat the standard; never part of the score."
    )
    severity_basis: SeverityBasis | None = Field(
        default=None,
        description="hints (members' hints, by centrality), topic (a subject's floor), default, override.",
    )
    likelihood_basis: LikelihoodBasis | None = Field(
        default=None, description="prior (documented per subject), returns (measured), override."
    )
    reason: str | None = Field(default=None, description="Why each value is what it is, in one line.")


class SourceLink(Model):
    """A source requirement covered by a standard."""

    ref: str
    title: str
    text: str | None = Field(
        default=None,
        description="The source's own wording, so a diff can show old and new words (none in old files).",
    )
    similarity: float = Field(description="Similarity to the standard's centre, 0-1.")
    relationship: Relationship = Field(description="NIST set-theory relation of the source to the standard.")
    strength: Annotated[int, Field(ge=0, le=10)]
    text_sha: str = Field(description="First 12 hex digits of the SHA-256 of the source's title and text.")


class RelatedLink(Model):
    """A source requirement homed in another standard that this standard also partly covers."""

    ref: str
    title: str
    relationship: Literal["subset", "intersect"] = Field(
        description="NIST set-theory relation of the source to this standard (never its home)."
    )
    strength: Annotated[int, Field(ge=0, le=10)]
    similarity: float = Field(description="Score of the source against this standard's members, 0-1.")


class ContentLine(Model):
    """One line of a standard's content (an ask, an output, a behaviour ...) and the refs it came from."""

    text: str
    refs: tuple[str, ...] = Field(default=(), description="Source requirements the line was drafted from.")


class GoodLooksLike(Model):
    """What a service shows, does and achieves when it meets a standard."""

    outputs: tuple[ContentLine, ...] = Field(default=(), description="Documents, records, plans to show.")
    behaviours: tuple[ContentLine, ...] = Field(default=(), description="What staff and leaders do.")
    outcomes: tuple[ContentLine, ...] = Field(
        default=(), description="What people using the service experience, and how it is measured."
    )


CONTENT_FIELDS: tuple[str, ...] = ("title", "statement", "outputs", "behaviours", "outcomes", "evidence")


class Standard(Model):
    """A consolidated standard, traced back to the source requirements it covers."""

    id: str
    domain: str
    title: str
    statement: str
    asks: tuple[ContentLine, ...] = Field(
        default=(), description="The distinct asks of the members that the statement consolidates."
    )
    qms_component: QmsComponent
    risk: Risk
    sources: tuple[SourceLink, ...] = Field(min_length=1)
    related: tuple[RelatedLink, ...] = Field(
        default=(), description="Requirements homed elsewhere that this standard also partly covers."
    )
    good_looks_like: GoodLooksLike = GoodLooksLike()
    evidence: tuple[ContentLine, ...] = Field(default=(), description="Typical evidence a service uploads.")
    drafted: tuple[str, ...] = Field(
        default=(),
        description="Content qms drafted from the sources that people have not yet agreed (title, statement, "
        "outputs, behaviours, outcomes, evidence); the rest are people's words from mappings/content.yaml.",
    )


class Excluded(Model):
    """A source requirement left out on purpose, with the override's reason."""

    ref: str
    reason: str


class Framework(Model):
    """The consolidated framework: what `qms consolidate` writes and auditors diff."""

    framework: FrameworkInfo
    domains: tuple[Domain, ...]
    standards: tuple[Standard, ...]
    excluded: tuple[Excluded, ...] = ()

    def domain(self, domain_id: str) -> Domain:
        """Look a domain up by id."""
        return next(d for d in self.domains if d.id == domain_id)
