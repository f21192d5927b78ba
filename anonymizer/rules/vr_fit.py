"""Values whose VR does not fit their attribute: refused before anything is written, in one plain line.

A Patient ID encoded as US (or a Study Date as UL) cannot be handled by its attribute's rule: the keyed
pseudonym is text that a US cannot hold (pydicom fails on writing, with a traceback), and the date shift
sees a number, not a date, so the date would be kept. Such a file is broken at its source; it is refused
with the attribute named, not half-handled. Only a change of *kind* counts (text, number, sequence):
text written as other text (a Patient ID as SH, as some devices do) takes its rule as usual. Attributes
Table E.1-1 does not list are left to the safety net by VR; removed or emptied values are fine as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from functools import lru_cache
from typing import Final

from pydicom.datadict import dictionary_description, dictionary_VR

from ..errors import UnsupportedError
from ..planning.plan import Action, Step
from .table import load_table

__all__ = ["ValueKind", "check_value_types", "vr_kind"]


class ValueKind(Enum):
    """What a VR holds, in the words a message uses."""

    TEXT = "text"
    NUMBER = "a number"
    BYTES = "binary data"
    SEQUENCE = "a sequence"


_KINDS: Final = {
    **dict.fromkeys("AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT".split(), ValueKind.TEXT),  # noqa: SIM905
    **dict.fromkeys("AT FD FL SL SS SV UL US UV".split(), ValueKind.NUMBER),  # noqa: SIM905
    **dict.fromkeys("OB OD OF OL OV OW".split(), ValueKind.BYTES),  # noqa: SIM905
    "SQ": ValueKind.SEQUENCE,
}
_HARMLESS: Final = frozenset({Action.REMOVE, Action.ZERO})  # the value goes, whatever it was


def vr_kind(vr: str) -> ValueKind | None:
    """The kind of value a VR holds; None for UN or an unknown VR."""
    return _KINDS.get(vr)


@lru_cache(maxsize=4096)  # the same few hundred tags in every file
def _dictionary_kinds(tag: int) -> tuple[str, frozenset[ValueKind]] | None:
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return None
    kinds = {vr_kind(v.strip()) for v in vr.split(" or ")}
    return vr, frozenset(k for k in kinds if k is not None)


def check_value_types(steps: Sequence[Step]) -> None:
    """Raise UnsupportedError for the first listed attribute whose value is of another kind than its VR."""
    table = load_table()
    for top in steps:
        for step in top.walk():
            if step.created or step.action in _HARMLESS or step.tag >> 16 & 1:
                continue
            kind = vr_kind(step.vr)
            expected = _dictionary_kinds(step.tag)
            if kind is None or expected is None or kind in expected[1]:
                continue
            if table.lookup(step.tag) is None:
                continue
            name = dictionary_description(step.tag)
            want = " or ".join(sorted(k.value for k in expected[1]))
            raise UnsupportedError(
                "a value has the wrong type for its attribute, so its rule cannot be applied safely "
                f"(fix the file where it was made): {name} {step.path} is {kind.value} "
                f"(VR {step.vr}) where DICOM says {want} (VR {expected[0]})"
            )
