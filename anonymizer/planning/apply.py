"""Applying a plan: the only place that changes a data set."""

from __future__ import annotations

from collections.abc import Iterable

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from .plan import Action, Step


def apply_steps(ds: Dataset, steps: Iterable[Step]) -> None:
    for step in steps:
        if step.created:
            ds.add_new(step.tag, step.vr, step.new)
            continue
        if step.removed:
            del ds[step.tag]
            continue
        if step.items is not None:
            seq = ds[step.tag].value
            for item, item_steps in zip(seq, step.items, strict=True):
                apply_steps(item, item_steps)
            continue
        if step.action == Action.KEEP:
            continue
        elem = ds[step.tag]
        elem.value = Sequence(step.new) if step.vr == "SQ" else step.new
