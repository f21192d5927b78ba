"""The legacy Pacsbin profile: the CTP script's enabled rules at the top level, the Basic Profile elsewhere.

Every attribute an enabled rule covers gets exactly the value CTP computes (ctp.py), so uploads match data
Pacsbin already holds. Measured on real CTP the script alone leaks (only the top level is processed,
unscripted sequences are copied verbatim, remove.curves removes nothing, hundreds of table attributes have
no rule), so everything else falls back to the Basic Profile engine: every depth, curves, overlays, file
meta, the VR safety net. Disabled rules and the keepGroup options keep nothing the Basic Profile removes.
For consistency of references and intervals, the fallback uses the script's own derivations: UIDs anywhere
map with CTP's hashuid under the script's UID root (a reference inside a sequence still points at the
hashed SOP Instance UID), and dates anywhere shift by the script's hashdate shift of the Patient ID.
Deviation from CTP: a sequence covered by a keep rule is cleaned item by item, not copied verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from ..config import Config, ProfileName
from ..planning.context import FileContext, Where
from ..planning.plan import Action, Step
from ..rules.actions import keep, remove
from ..rules.pseudonyms import is_well_known_uid
from .ctp import (
    CtpAction,
    ctp_contents,
    ctp_hashdate_shift_days,
    ctp_hashuid,
    ctp_value_for_absent,
    evaluate_operation,
)
from .ctp_script import CtpScript

DEIDENTIFICATION_METHOD = 0x00120063
# Marks are set by marking.py (CTP's `always` for Patient Identity Removed gives the same value).
MARKED = {0x00120062, 0x00120063, 0x00120064, 0x00280303}


def _raw_text(elem: DataElement) -> str:
    value = elem.value
    if value is None:
        return ""
    if isinstance(value, (list, tuple, MultiValue)):
        return "\\".join(str(v) for v in value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("latin-1")
    return str(value)


@dataclass(frozen=True)
class _Original:
    """CTP's view of the ORIGINAL data set: an element's contents as CTP reads them (ctp.Lookup)."""

    ds: Dataset

    def __call__(self, tag: int) -> str | None:
        elem = self.ds.get(tag)
        if elem is None:
            return None
        return ctp_contents(_raw_text(elem), elem.VR)


@dataclass(frozen=True)
class PacsbinProfile:
    """The script bound to one file. `now` is the clock read once for the file (CTP's date and time)."""

    script: CtpScript
    lookup: _Original
    now: datetime
    shift_days: int | None
    created_steps: tuple[Step, ...]
    method_text: list[str] | None

    @property
    def name(self) -> ProfileName:
        return ProfileName.PACSBIN

    def map_uid(self, uid: str) -> str:
        uid = uid.strip().rstrip("\x00")
        return uid if is_well_known_uid(uid) else ctp_hashuid(self.script.variables.get("UIDROOT", ""), uid)

    def created(self) -> tuple[Step, ...]:
        return self.created_steps

    def method(self) -> list[str] | None:
        return self.method_text

    def override(self, ctx: FileContext, elem: DataElement, where: Where) -> Step | None:
        """An enabled rule of the script decides a top-level element; anything else is the Basic Profile's."""
        tag = int(elem.tag)
        rule = self.script.rules.get(tag)
        if len(where.tags) != 1 or rule is None or not rule.enabled or tag in MARKED:
            return None
        outcome = evaluate_operation(rule.operation, tag, self.script.variables, self.lookup, self.now)
        label = f"Pacsbin script {tag:08X} {rule.name}: {rule.operation.name}"
        if outcome is CtpAction.REMOVE:
            return remove(ctx, elem, Where(where.path, where.tags, label, where.mode))
        if elem.VR == "SQ":
            return None  # CTP would copy it verbatim: clean it with the Basic Profile instead
        if outcome is CtpAction.KEEP:
            return keep(ctx, elem, Where(where.path, where.tags, label, where.mode))
        if outcome is CtpAction.EMPTY:
            return Step(
                path=where.path,
                tag=tag,
                keyword=elem.keyword or "",
                vr=elem.VR,
                action=Action.ZERO,
                rule=label,
                old=elem.value,
                new=None,
            )
        values: Any = outcome.split("\\")
        return Step(
            path=where.path,
            tag=tag,
            keyword=elem.keyword or "",
            vr=elem.VR,
            action=Action.ctp(rule.operation.name),
            rule=label,
            old=elem.value,
            new=values[0] if len(values) == 1 else values,
        )


def pacsbin_profile(ds: Dataset, config: Config, shift_days: int | None) -> PacsbinProfile:
    """The script's profile for one file. `shift_days`: the Basic Profile's shift for the file (None when
    dates are not shifted); when dates move, they move by the script's hashdate shift of the Patient ID."""
    script = config.script
    assert script is not None
    variables = script.variables
    now = config.clock()
    lookup = _Original(ds)
    patient_id = lookup(0x00100020)
    shift = shift_days
    if shift is not None and patient_id is not None:
        shift = ctp_hashdate_shift_days(patient_id)
    created = []
    for tag, rule in sorted(script.rules.items()):
        if not rule.enabled or tag in ds or tag in MARKED:
            continue
        value = ctp_value_for_absent(rule.operation, variables, now)
        if value is not None:
            op = rule.operation.name
            label = f"Pacsbin script {tag:08X} {rule.name}: {op}"
            vr = dictionary_VR(tag)
            created.append(Step.setting(tag, rule.name, vr, value, label, action=Action.ctp(op)))
    method_text = None
    method = script.rules.get(DEIDENTIFICATION_METHOD)
    if method is not None and method.enabled:
        outcome = evaluate_operation(method.operation, DEIDENTIFICATION_METHOD, variables, lookup, now)
        if isinstance(outcome, str):
            method_text = [v[:64] for v in outcome.split("\\")]
    return PacsbinProfile(script, lookup, now, shift, tuple(created), method_text)
