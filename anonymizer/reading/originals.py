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

__all__ = ["CHARSET", "PIXEL_TAGS", "Originals", "charset_unchanged", "remember", "restore_kept"]

_ATTR = "_pacsbin_originals"
CHARSET: Final = 0x00080005
# The three Pixel Data elements (float, double float, integer). Setting or removing one resets pydicom's
# cached pixel array (Dataset.__setitem__ and __delitem__, PIXEL_KEYWORDS).
PIXEL_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})

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
    if not isinstance(raw, RawDataElement):
        return False
    # The element dict's own key (the reader stored the element under raw.tag): found by identity, without
    # pydicom's Tag() and BaseTag.__eq__, Python code that costs more than the rest under Pyodide.
    stored = ds._dict
    if stored.get(raw.tag) is not elem or elem.value is not value or elem.VR != raw.VR:
        return False
    if tag & 0x10000 or tag in PIXEL_TAGS:
        ds[tag] = raw  # Dataset.__setitem__'s bookkeeping: the private creator, the cached pixel array
    else:
        stored[raw.tag] = raw  # all that Dataset.__setitem__ does for a public element
    return True
