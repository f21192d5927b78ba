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

from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from .actions import ACTIONS, Where
from .ctp import (
    CtpAction,
    ctp_contents,
    ctp_hashdate_shift_days,
    ctp_hashuid,
    ctp_value_for_absent,
    evaluate_operation,
)
from .plan import Step
from .pseudonyms import is_well_known_uid
from .walker import Context

DEIDENTIFICATION_METHOD = 0x00120063
# Marks are set by marking.py (CTP's `always` for Patient Identity Removed gives the same value).
MARKED = {0x00120062, 0x00120063, 0x00120064, 0x00280303}


def _raw_text(elem: DataElement) -> str:
    value = elem.value
    if value is None:
        return ""
    if isinstance(value, (list, tuple, MultiValue)):
        return "\\".join(str(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def configure(ctx: Context, ds: Dataset) -> None:
    script = ctx.config.script
    assert script is not None
    variables = script.variables
    clock = ctx.config.clock()

    def lookup(tag: int) -> str | None:
        elem = ds.get(tag)
        if elem is None:
            return None
        return ctp_contents(_raw_text(elem), elem.VR)

    root = variables.get("UIDROOT", "")

    def map_uid(uid: str) -> str:
        uid = uid.strip().rstrip("\x00")
        return uid if is_well_known_uid(uid) else ctp_hashuid(root, uid)

    ctx.map_uid = map_uid
    patient_id = lookup(0x00100020)
    if ctx.shift_days is not None and patient_id is not None:
        ctx.shift_days = ctp_hashdate_shift_days(patient_id)

    def override(ctx: Context, elem: DataElement, where: Where) -> Step | None:
        tag = int(elem.tag)
        rule = script.rules.get(tag)
        if len(where.tags) != 1 or rule is None or not rule.enabled or tag in MARKED:
            return None
        outcome = evaluate_operation(rule.operation, tag, variables, lookup, clock)
        label = f"Pacsbin script {tag:08X} {rule.name}: {rule.operation.name}"
        if outcome is CtpAction.REMOVE:
            return ACTIONS["X"](ctx, elem, Where(where.path, where.tags, label, where.mode))
        if elem.VR == "SQ":
            return None  # CTP would copy it verbatim: clean it with the Basic Profile instead
        if outcome is CtpAction.KEEP:
            return ACTIONS["K"](ctx, elem, Where(where.path, where.tags, label, where.mode))
        if outcome is CtpAction.EMPTY:
            return Step(
                path=where.path,
                tag=tag,
                keyword=elem.keyword or "",
                vr=elem.VR,
                action="Z",
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
            action=f"ctp:{rule.operation.name}",
            rule=label,
            old=elem.value,
            new=values[0] if len(values) == 1 else values,
        )

    ctx.override = override

    for tag, rule in sorted(script.rules.items()):
        if not rule.enabled or tag in ds or tag in MARKED:
            continue
        value = ctp_value_for_absent(rule.operation, variables, clock)
        if value is not None:
            from pydicom.datadict import dictionary_VR

            op = rule.operation.name
            label = f"Pacsbin script {tag:08X} {rule.name}: {op}"
            ctx.created.append(
                Step.setting(tag, rule.name, dictionary_VR(tag), value, label, action=f"ctp:{op}")
            )

    method = script.rules.get(DEIDENTIFICATION_METHOD)
    if method is not None and method.enabled:
        outcome = evaluate_operation(method.operation, DEIDENTIFICATION_METHOD, variables, lookup, clock)
        if isinstance(outcome, str):
            ctx.method = [v[:64] for v in outcome.split("\\")]
