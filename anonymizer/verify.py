"""The re-check on arrival (the server's last line of defence): is this file de-identified by the rules?

    verdict = check_deidentified(data, Policy())
    verdict.ok, verdict.problems, verdict.options

The file is planned again by the same engine with the options its De-identification Method Code Sequence
claims (PS3.15 E.1.1; CID 7050). A de-identified file is a fixed point of the profile's removals: any
element the plan would remove (X, and what the safety nets remove), or empty (Z) while it holds a value, is
identity left behind. Replaced values (D, U, shifted dates, pseudonyms) cannot be told from originals
without the uploader's key, so they are not judged here; what is judged is written in `CHECKS`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from redaction.errors import RedactionError
from redaction.high_bits import clean_pixel_data

from .config import BASIC, PACSBIN, Config
from .engine import make_plan
from .errors import DeidentificationError
from .keys import SecretKey
from .last_scrub import LAST_SCRUB
from .options import Option, check_options
from .plan import Step
from .reader import MAX_INFLATED, read_dataset

BASIC_PROFILE_CODE = "113100"
# Every check, in the order applied; each refusal names the check and the element.
CHECKS = (
    "readable: the whole file parses (fail-closed reader: truncation, bad lengths, DICOMDIR refused)",
    "marked: Patient Identity Removed (0012,0062) is YES",
    "profile: the De-identification Method Code Sequence (0012,0064) holds 113100 (Basic Profile)",
    "options: every claimed option is one the server's policy accepts, and the set is consistent",
    "legacy profile: the Pacsbin script's marks are accepted only when the policy allows it",
    "no private elements, at any depth",
    "no element the profile removes (X, overlays, curves, unknown free text...), at any depth",
    "no value in an element the profile empties (Z)",
    "no kept text holds one of the file's own identifiers (the last scrub would blank it)",
    "pixels: Burned In Annotation (0028,0301) is not YES",
    "pixels: no bit set outside Bits Stored in uncompressed Pixel Data (an embedded overlay; PS3.5 8.1.1)",
)


@dataclass(frozen=True)
class Policy:
    """What the server accepts."""

    options: frozenset[Option] = frozenset(Option)  # options an upload may claim
    allow_legacy_pacsbin: bool = False


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    options: frozenset[Option] = frozenset()
    profile: str = BASIC
    sop_instance_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    sop_class_uid: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _private_elements(ds: Dataset, path: str = "") -> list[str]:
    found = []
    for elem in ds:
        where = f"{path}({elem.tag.group:04X},{elem.tag.element:04X})"
        if elem.tag.is_private:
            found.append(where)
        elif elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                found.extend(_private_elements(item, f"{where}[{i}]>"))
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


# What the legacy Pacsbin script writes in De-identification Method (0012,0063): "Pacsbin: <profile>: <date>"
# (ours writes "Pacsbin Uploader <version>: ...").
LEGACY_METHOD_PREFIX = "Pacsbin: "


def _claimed(ds: Dataset) -> tuple[set[str], list[str]]:
    codes = {str(item.get("CodeValue", "")) for item in ds.get("DeidentificationMethodCodeSequence") or []}
    method = ds.get("DeidentificationMethod")
    values = [] if method is None else [method] if isinstance(method, str) else [str(v) for v in method]
    return codes, values


def check_deidentified(data: bytes, policy: Policy, *, max_inflated: int = MAX_INFLATED) -> Verdict:
    """`max_inflated`: the reader's bound on a deflated data set (the server passes its token's limit)."""
    verdict = Verdict()
    try:
        ds = read_dataset(data, max_inflated=max_inflated)
    except DeidentificationError as exc:
        verdict.problems.append(f"unreadable: {exc.reason}")
        return verdict
    verdict.sop_instance_uid = str(ds.get("SOPInstanceUID", ""))
    verdict.study_instance_uid = str(ds.get("StudyInstanceUID", ""))
    verdict.series_instance_uid = str(ds.get("SeriesInstanceUID", ""))
    verdict.sop_class_uid = str(ds.get("SOPClassUID", ""))
    if str(ds.get("PatientIdentityRemoved", "")).strip().upper() != "YES":
        verdict.problems.append("Patient Identity Removed (0012,0062) is not YES")
    codes, method = _claimed(ds)
    if BASIC_PROFILE_CODE not in codes:
        verdict.problems.append("no 113100 (Basic Application Confidentiality Profile) in (0012,0064)")
    options = frozenset(o for o in Option if o.code.value in codes)
    verdict.options = options
    refused = sorted(o.value for o in options - policy.options)
    if refused:
        verdict.problems.append(f"option(s) not accepted by this server: {', '.join(refused)}")
    try:
        check_options(options)
    except ValueError as exc:
        verdict.problems.append(f"claimed options are inconsistent: {exc}")
    if any(v.startswith(LEGACY_METHOD_PREFIX) for v in method):
        verdict.profile = PACSBIN
        if not policy.allow_legacy_pacsbin:
            verdict.problems.append("the legacy Pacsbin profile is not accepted by this server")
    verdict.problems += [f"private element {where} present" for where in _private_elements(ds)]
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        verdict.problems.append("Burned In Annotation (0028,0301) is YES: the pixels hold text")
    if verdict.problems and not verdict.sop_instance_uid:
        return verdict
    script = None
    if verdict.profile == PACSBIN:
        from .ctp_script import load_builtin_pacsbin

        script = load_builtin_pacsbin()
    # Any key will do: only which elements would be removed or emptied is looked at, not new values.
    config = Config(
        key=SecretKey(secrets.token_bytes(32)),
        options=options,
        profile=verdict.profile,
        script=script,
        pixels_cleaned=Option.CLEAN_PIXEL_DATA in options,
    )
    try:
        plan = make_plan(ds, config)
    except DeidentificationError as exc:
        verdict.problems.append(f"cannot be checked: {exc.reason}")
        return verdict
    for step in plan.dataset:
        for s in step.walk():
            problem = _left_behind(s)
            if problem:
                verdict.problems.append(problem)
    verdict.problems += _hidden_bits(ds)
    return verdict


def _hidden_bits(ds: Dataset) -> list[str]:
    """Our engine clears every bit outside Bits Stored (redaction/high_bits.py): one set is an embedded
    overlay (text, marks) a viewer that ignores High Bit shows."""
    try:
        cleaned = clean_pixel_data(ds)
    except RedactionError as exc:  # the plan above refuses the same layout first; fail closed all the same
        return [f"(7FE0,0010) Pixel Data cannot be checked for bits outside Bits Stored: {exc.reason}"]
    if cleaned is None or not cleaned.values:
        return []
    return [
        f"(7FE0,0010) Pixel Data: {cleaned.values} pixel values have bits set outside Bits Stored "
        "(an embedded overlay?); our engine clears them (PS3.5 8.1.1)"
    ]
