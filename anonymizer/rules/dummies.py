"""Dummy values for the D action: non-empty, valid for the VR and for the attribute's VM (PS3.5 6.2)."""

from __future__ import annotations

from typing import Any

from pydicom.datadict import dictionary_VM
from pydicom.multival import MultiValue

# One value per VR. Strings stay within each VR's maximum length and character repertoire.
DUMMY: dict[str, Any] = {
    "AE": "ANONYMOUS",
    "AS": "000D",
    "AT": 0,
    "CS": "ANONYMIZED",
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "FD": 0.0,
    "FL": 0.0,
    "IS": "0",
    "LO": "ANONYMIZED",
    "LT": "ANONYMIZED",
    "PN": "ANONYMIZED",
    "SH": "ANONYMIZED",
    "SL": 0,
    "SS": 0,
    "ST": "ANONYMIZED",
    "SV": 0,
    "TM": "000000",
    "UC": "ANONYMIZED",
    "UL": 0,
    "UR": "urn:anonymized",
    "US": 0,
    "UT": "ANONYMIZED",
    "UV": 0,
}
# Binary VRs: zeros of the element's unit size.
_BINARY_UNIT = {"OB": 2, "OD": 8, "OF": 4, "OL": 4, "OV": 8, "OW": 2, "UN": 2}


def _min_vm(tag: int) -> int:
    try:
        vm = dictionary_VM(tag)
    except KeyError:
        return 1
    head = vm.split("-")[0].replace("n", "1")
    try:
        return max(1, int(head))
    except ValueError:
        return 1


def dummy_value(vr: str, tag: int, old: Any) -> Any:
    """The dummy for one element; keeps the number of values when the VM is fixed above 1 (e.g. 2 or 3)."""
    unit = _BINARY_UNIT.get(vr)
    if unit is not None:
        return b"\x00" * unit
    if vr not in DUMMY:
        raise KeyError(vr)
    count = _min_vm(tag)
    if count == 1 and isinstance(old, (list, tuple, MultiValue)) and vr not in {"LT", "ST", "UT", "UR"}:
        # A VM like "2-2n" or "3" keeps its shape; a free "1-n" needs only one value.
        count = len(old) if _min_vm(tag) > 1 else 1
    value = DUMMY[vr]
    return value if count == 1 else [value] * count
