"""The re-check on arrival (the server's last line of defence): is this a file our engine would write?

    verdict = check_deidentified(data, Policy())
    verdict.ok, verdict.problems, verdict.options, verdict.stored

The whole file is read by the fail-closed reader, and what the server would store is made of it
(stored_form.py: a zeroed preamble and a file meta of the server's own, the data set's bytes unchanged).
The file is then planned again by the same engine with the options its De-identification Method Code
Sequence claims (PS3.15 E.1.1; CID 7050). A de-identified file is a fixed point of the profile's removals:
any element the plan would remove (X, and what the safety nets remove), or empty (Z) while it holds a value,
is identity left behind. Replaced values cannot be traced to originals without the uploader's key, but a
file that claims this product's method must have their form (verify_shapes.py). Pixels: verify_pixels.py.
What the server accepts: verify_policy.py. Every check is a row of `CHECKS`, applied in order; each problem
says what was found and where (path and tag).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..config import BASIC, PACSBIN, ProfileName, build_config
from ..errors import DeidentificationError
from ..keys import SecretKey
from ..planning.plan import Step
from ..planning.planner import make_plan
from ..reading.reader import MAX_INFLATED, read_dataset
from ..rules.last_scrub import LAST_SCRUB
from ..rules.options import BASIC_PROFILE_CODE, Option, check_options
from . import verify_pixels as pixels
from . import verify_shapes as shapes
from .stored_form import stored_form_of
from .verify_policy import (
    ACCEPT_OTHERS_FLAG,
    IDENTITY_OPTIONS,
    LEGACY_FLAG,
    PAGE_OPTIONS,
    Policy,
    refused_option,
)
from .verify_upload import LEGACY_METHOD_PREFIX, Family, Upload

__all__ = [
    "CHECKS",
    "IDENTITY_OPTIONS",
    "LEGACY_METHOD_PREFIX",
    "PAGE_OPTIONS",
    "Check",
    "Family",
    "Policy",
    "Verdict",
    "check_deidentified",
]

ALL_FAMILIES = frozenset(Family)
OURS = frozenset({Family.OURS})


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: Callable[[Upload], list[str]]
    families: frozenset[Family] = ALL_FAMILIES  # whose files it applies to (our shapes: ours only)


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    options: frozenset[Option] = frozenset()
    profile: ProfileName = BASIC
    family: Family | None = None
    sop_instance_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_class_uid: str = ""
    stored: bytes = field(default=b"", repr=False)  # what the server stores (stored_form.py); b"" if refused

    @property
    def ok(self) -> bool:
        return not self.problems


def _marked(upload: Upload) -> list[str]:
    if str(upload.ds.get("PatientIdentityRemoved", "")).strip().upper() == "YES":
        return []
    return ["(0012,0062) Patient Identity Removed is not YES: the file is not marked as de-identified"]


def _profile(upload: Upload) -> list[str]:
    if BASIC_PROFILE_CODE in upload.codes:
        return []
    return [
        f"(0012,0064) De-identification Method Code Sequence has no {BASIC_PROFILE_CODE} (Basic Application "
        "Confidentiality Profile): the file does not claim the profile"
    ]


def _options(upload: Upload) -> list[str]:
    refused = sorted(upload.options - upload.policy.options, key=lambda o: o.value)
    problems = [refused_option(o) for o in refused]
    try:
        check_options(upload.options)
    except ValueError as exc:
        problems.append(f"(0012,0064) the claimed options are inconsistent: {exc}")
    return problems


def _method(upload: Upload) -> list[str]:
    if upload.family is Family.LEGACY and not upload.policy.allow_legacy_pacsbin:
        return [
            "(0012,0063) De-identification Method names the legacy Pacsbin script, whose profile this server "
            f"does not accept (start it with {LEGACY_FLAG} to accept it)"
        ]
    if upload.family is Family.OTHER and not upload.policy.accept_other_deidentifiers:
        return [
            "(0012,0063) De-identification Method does not name this product's uploader ('Pacsbin Uploader "
            "<version>: ...'): the file was de-identified by another tool, or not at all; this server "
            f"accepts only its uploader's files (start it with {ACCEPT_OTHERS_FLAG} to accept others' "
            "files, with the removal checks only)"
        ]
    return []


def _private_elements(upload: Upload) -> list[str]:
    return [f"private element {where} present" for where in _private_paths(upload.ds)]


def _private_paths(ds: object, path: str = "") -> list[str]:
    found = []
    for elem in ds:  # type: ignore[attr-defined]
        where = f"{path}({elem.tag.group:04X},{elem.tag.element:04X})"
        if elem.tag.is_private:
            found.append(where)
        elif elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                found.extend(_private_paths(item, f"{where}[{i}]>"))
    return found


def _left_behind(step: Step) -> str | None:
    if step.created or step.action in ("K", "mark"):
        return None
    if step.removed:
        return f"{step.path} {step.keyword or ''} is present; the profile removes it ({step.rule})"
    if LAST_SCRUB in step.rule:
        return f"{step.path} {step.keyword or ''} holds one of the file's own identifiers ({LAST_SCRUB})"
    if step.action == "Z" and step.old not in (None, "", b"") and step.new in (None, "", b""):
        return f"{step.path} {step.keyword or ''} holds a value; the profile empties it ({step.rule})"
    return None


def _removed(upload: Upload) -> list[str]:
    if upload.plan is None:
        return []
    return [p for top in upload.plan.dataset for s in top.walk() if (p := _left_behind(s))]


# Every check, in the order applied. Before them the whole file must read (fail-closed reader: truncation,
# bad lengths, DICOMDIR refused) and be given the server's own file meta (stored_form.py).
CHECKS: tuple[Check, ...] = (
    Check("marked", "Patient Identity Removed (0012,0062) is YES", _marked),
    Check("profile", "the De-identification Method Code Sequence (0012,0064) holds 113100", _profile),
    Check(
        "options",
        "every claimed option is accepted by the policy (those that keep identity only with --accept-option "
        "NAME) and the set is consistent",
        _options,
    ),
    Check(
        "method",
        "De-identification Method (0012,0063) names this product's uploader; the legacy Pacsbin script only "
        "with --allow-legacy-pacsbin, other tools only with --accept-other-deidentifiers",
        _method,
    ),
    Check("private", "no private elements, at any depth", _private_elements),
    Check(
        "removed",
        "no element the profile removes (X, overlays, curves, unknown free text...) at any depth, no value "
        "in one it empties (Z), no kept text holding one of the file's own identifiers (the last scrub)",
        _removed,
    ),
    Check(
        "names", "ours: every PN at any depth is our pseudonym, the dummy or empty", shapes.person_names, OURS
    ),
    Check(
        "uids",
        "ours: every UID the standard does not register is a 2.25 UID (unless Retain UIDs is accepted and "
        "claimed)",
        shapes.uids,
        OURS,
    ),
    Check(
        "dummies", "ours: every element the profile replaces by a dummy (D) holds it", shapes.dummies, OURS
    ),
    Check("burned in", "Burned In Annotation (0028,0301) is not YES", pixels.burned_in),
    Check(
        "reviewed",
        "an image the engine's review rule marks at risk claims 113101 and Burned In Annotation NO",
        pixels.reviewed,
    ),
    Check(
        "codestream text",
        "no text in the compressed image (JPEG COM/APPn, J2K comments)",
        pixels.codestream_text,
    ),
    Check(
        "hidden bits",
        "no bit set outside Bits Stored in uncompressed Pixel Data (an embedded overlay; PS3.5 8.1.1)",
        pixels.hidden_bits,
    ),
    Check(
        "documents", "no encapsulated document (PDF, CDA, STL...) unless --accept-documents", pixels.documents
    ),
)


def _planned(upload: Upload) -> tuple[Upload, str | None]:
    """The upload with the engine's plan for the options it claims, or the reason there is none."""
    # Any key will do: what is looked at (removals, dummies, codestream text) does not depend on it.
    config = build_config(
        SecretKey(secrets.token_bytes(32)),
        upload.options,
        PACSBIN if upload.family is Family.LEGACY else BASIC,
        pixels_cleaned=Option.CLEAN_PIXEL_DATA in upload.options,
    )
    try:
        return replace(upload, plan=make_plan(upload.ds, config)), None
    except DeidentificationError as exc:
        return upload, f"cannot be checked: the engine cannot plan this file: {exc.reason}"


def check_deidentified(data: bytes, policy: Policy, *, max_inflated: int = MAX_INFLATED) -> Verdict:
    """`max_inflated`: the reader's bound on a deflated data set (the server passes its token's limit)."""
    verdict = Verdict()
    try:
        data = bytes(data)
        ds = read_dataset(data, max_inflated=max_inflated)
        verdict.sop_instance_uid = str(ds.get("SOPInstanceUID", ""))
        verdict.study_instance_uid = str(ds.get("StudyInstanceUID", ""))
        verdict.series_instance_uid = str(ds.get("SeriesInstanceUID", ""))
        verdict.sop_class_uid = str(ds.get("SOPClassUID", ""))
        stored = stored_form_of(data, ds)
    except DeidentificationError as exc:
        verdict.problems.append(f"unreadable: {exc.reason}")
        return verdict
    upload, unplanned = _planned(Upload.read(ds, policy))
    verdict.options, verdict.family = upload.options, upload.family
    verdict.profile = PACSBIN if upload.family is Family.LEGACY else BASIC
    if unplanned:
        verdict.problems.append(unplanned)
    for check in CHECKS:
        if upload.family in check.families:
            verdict.problems += check.run(upload)
    verdict.stored = b"" if verdict.problems else stored
    return verdict
