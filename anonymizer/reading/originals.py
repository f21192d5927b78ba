"""The bytes each element was read as, so that what the plan keeps is written as it came.

The fail-closed read converts every element (reader.py: bad values raise there). pydicom's writer then
encodes every converted value again, element by element, which costs as much as the reading did and can
change the bytes of a value nobody touched (trailing spaces, a number's spelling). For each element it
converts, the reader remembers the RawDataElement it came from, with the element and value it became;
`restore_kept` puts the raw element back for an element the plan keeps, and pydicom writes a raw element's
bytes as they are.

A raw element goes back only if nothing changed it since: the element in the data set is the very object
the reader made, with the very value (a redacted Pixel Data, a replaced value or VR is a new object), and
the data set is written in the encoding and character set it was read in (PS3.5 6.1.2.5: text bytes mean
what the Specific Character Set says). Elements read as UN, sequences and implicit VR elements (no VR
in the bytes) are not remembered: their bytes are not what an element of their VR is written as.
"""

from __future__ import annotations

from typing import Any, Final, TypeAlias

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

__all__ = ["CHARSET", "Originals", "charset_unchanged", "remember", "restore_kept"]

_ATTR = "_pacsbin_originals"
CHARSET: Final = 0x00080005

# tag -> (the element as read, the element it became, its value); (0008,0005) is converted by pydicom as
# it reads, so its entry holds the converted element twice.
Originals: TypeAlias = dict[int, tuple[RawDataElement | DataElement, DataElement, Any]]


def remember(ds: Dataset) -> Originals:
    """The (empty, then filled by the reader) table of `ds`'s elements as read."""
    table: Originals = {}
    object.__setattr__(ds, _ATTR, table)
    return table


def _originals(ds: Dataset) -> Originals | None:
    table = getattr(ds, _ATTR, None)
    return table if isinstance(table, dict) else None


def charset_unchanged(top: Dataset) -> bool:
    """Whether the top-level Specific Character Set is the element the reader made (or absent then and
    now): only then may kept text go out as the bytes it came in."""
    table = _originals(top)
    if table is None:
        return False
    now = top.get_item(CHARSET)
    was = table.get(CHARSET)
    if was is None:
        return now is None
    return now is was[1] and now.value is was[2]


def restore_kept(ds: Dataset, tag: int) -> bool:
    """Put back the raw element of a kept element `tag` of `ds` if it is unchanged since it was read."""
    table = _originals(ds)
    if table is None:
        return False
    entry = table.get(tag)
    if entry is None:
        return False
    raw, elem, value = entry
    now = ds.get_item(tag)
    if not isinstance(raw, RawDataElement) or now is not elem or elem.value is not value or elem.VR != raw.VR:
        return False
    ds[tag] = raw
    return True
