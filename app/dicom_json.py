"""The DICOM JSON model (PS3.18 F.2) of our answers: elements, and the items of the STOW-RS response's
Referenced SOP Sequence (0008,1199) and Failed SOP Sequence (0008,1198) (PS3.18 10.5.3)."""

from __future__ import annotations

import json
from typing import Any

DICOM_JSON = "application/dicom+json"
# Failure Reason (0008,1197) values, PS3.4 Annex GG.4 / PS3.18 Table 10.5.3-2.
PROCESSING_FAILURE = 0x0110
NOT_AUTHORIZED = 0x0124  # refused by policy: not de-identified
DUPLICATE_CONFLICT = 0x0111  # duplicate SOP Instance (different content)
OUT_OF_RESOURCES = 0xA700  # a part not read: the request went over a limit
CANNOT_UNDERSTAND = 0xC000
STUDY_MISMATCH = 0xA900


def element(vr: str, *values: Any) -> dict[str, Any]:
    return {"vr": vr, "Value": list(values)} if values else {"vr": vr}


def failure(reason: int, text: str, sop_class: str = "", sop: str = "") -> str:
    """A Failed SOP Sequence item, as JSON text (a request's answer holds up to its part cap of them)."""
    item = {"00081197": element("US", reason), "00000902": element("LO", text[:1024])}
    if sop_class:
        item["00081150"] = element("UI", sop_class)
    if sop:
        item["00081155"] = element("UI", sop)
    return json.dumps(item)


def referenced(sop_class: str, sop: str, study: str, series: str) -> str:
    """A Referenced SOP Sequence item, as JSON text."""
    return json.dumps(
        {
            "00081150": element("UI", sop_class),
            "00081155": element("UI", sop),
            "00081190": element("UR", f"/dicomweb/studies/{study}/series/{series}/instances/{sop}"),
        }
    )


def sequences(stored: list[str], failed: list[str]) -> str:
    """The members of a STOW-RS answer, `"00081199": ..., "00081198": ...` (each only when not empty),
    joined from items already in JSON."""
    members = []
    for tag, items in (("00081199", stored), ("00081198", failed)):
        if items:
            members.append(f'"{tag}": {{"vr": "SQ", "Value": [{", ".join(items)}]}}')
    return ", ".join(members)
