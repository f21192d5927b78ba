"""Applying a plan: the only place that changes a data set.

A kept element goes back to the bytes it was read as when nothing changed it (reading/originals.py), so
that the writer copies it instead of encoding its value again; `restore` says the character set allows it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from ..reading.originals import PIXEL_TAGS, restore_kept
from .plan import Action, Step


def apply_steps(ds: Dataset, steps: Iterable[Step], *, restore: bool = False) -> None:
    stored = ds._dict
    removed: set[int] = set()
    for step in steps:
        if step.created:
            ds.add_new(step.tag, step.vr, step.new)
            continue
        if step.removed:
            # A file's private elements are most of its elements and all removed: taken out of the
            # element dict as Dataset.__delitem__ does, its private block cache reset once below.
            if step.tag in PIXEL_TAGS:
                del ds[step.tag]  # Dataset.__delitem__ also drops the cached pixel array
            else:
                removed.add(step.tag)
            continue
        if step.items is not None:
            seq = ds[step.tag].value
            for item, item_steps in zip(seq, step.items, strict=True):
                apply_steps(item, item_steps, restore=restore)
            continue
        if step.action == Action.KEEP:
            if restore:
                restore_kept(ds, step.tag)
            continue
        elem = ds[step.tag]
        elem.value = Sequence(step.new) if step.vr == "SQ" else step.new
    if removed:
        # One pass over the element dict, not a deletion each: deleting by a new BaseTag compares it with
        # the stored key through BaseTag.__eq__, Python code, for each of the ~180 private elements of a
        # CT slice (the keys stay the reader's objects; the dict stays the same object).
        kept = [(k, v) for k, v in stored.items() if int(k) not in removed]
        stored.clear()
        stored.update(kept)
        if ds._private_blocks:
            ds._private_blocks = {}
