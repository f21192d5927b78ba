"""One upload as the re-check sees it: the data set, what it claims (codes, method, options), who marked it,
and the engine's plan for it. Read once; every check (anonymizer.verification.verify.CHECKS) looks at this."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pydicom.dataset import FileDataset

from ..planning.plan import Plan
from ..rules.options import Option
from .verify_policy import Policy

# Our engine's De-identification Method (0012,0063) starts "Pacsbin Uploader <version>: " (marking.py);
# the legacy Pacsbin script writes "Pacsbin: <profile>: <date>". (tests/test_verify_upload.py holds both.)
OUR_METHOD = re.compile(r"Pacsbin Uploader [^\s:]+: ")
LEGACY_METHOD_PREFIX = "Pacsbin: "


class Family(Enum):
    """Who marked the file de-identified, by its De-identification Method (0012,0063)."""

    OURS = "this product's engine"  # its shapes are checked (anonymizer.verification.verify_shapes)
    LEGACY = "the legacy Pacsbin script"  # removal checks only, with --allow-legacy-pacsbin
    OTHER = "another de-identifier"  # removal checks only, with --accept-other-deidentifiers


def family_of(method: tuple[str, ...]) -> Family:
    head = method[0] if method else ""
    if OUR_METHOD.match(head):
        return Family.OURS
    if head.startswith(LEGACY_METHOD_PREFIX):
        return Family.LEGACY
    return Family.OTHER


@dataclass(frozen=True)
class Upload:
    ds: FileDataset
    policy: Policy
    codes: frozenset[str]  # CodeValues of the De-identification Method Code Sequence (0012,0064)
    method: tuple[str, ...]  # De-identification Method (0012,0063), each value
    options: frozenset[Option]  # the options those codes claim
    family: Family
    plan: Plan | None = None  # the engine's plan with the claimed options (None: it could not be made)

    @classmethod
    def read(cls, ds: FileDataset, policy: Policy) -> Upload:
        items = ds.get("DeidentificationMethodCodeSequence") or []
        codes = frozenset(str(item.get("CodeValue", "")).strip() for item in items)
        value = ds.get("DeidentificationMethod")
        method = () if value is None else (str(value),) if isinstance(value, str) else tuple(map(str, value))
        options = frozenset(o for o in Option if o.code.value in codes)
        return cls(ds, policy, codes, method, options, family_of(method))
