"""Keyed, deterministic derivations: UIDs, the patient's identity, date shifts and pseudonyms.

All come from one SecretKey, each through its own sub-key (keys.py), so the same input maps the same way in
every file, run and machine that has the key, and nothing can be reversed without it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from pydicom._uid_dict import UID_dictionary  # the registry (PS3.6 Annex A); pydicom.uid uses it
from pydicom.dataset import Dataset

from ..keys import SecretKey

# PS3.5 9.1: UIDs under the DICOM root (SOP Classes, Transfer Syntaxes, coding schemes, ...) are defined
# by the standard and identify nobody: never replaced. Only REGISTERED ones (PS3.6 Annex A): a writer may
# put anything under the root ("1.2.840.10008.5.1.4.1.1.2.<MRN>"), and such a value is an instance UID.
DICOM_UID_ROOT = "1.2.840.10008."
# PS3.6 Table A-3: Context Group UIDs, 1.2.840.10008.6.1.<n> (about 1,500 of them; pydicom's registry
# does not carry this table, so the form is checked instead).
_CONTEXT_GROUP_UID = re.compile(r"1\.2\.840\.10008\.6\.1\.[1-9]\d{0,4}")

# Shift range (days, into the past): at least one year, at most ten, so the true dates cannot be guessed
# from the shifted ones and ages at examination stay plausible (PS3.15 E.3.6).
MIN_SHIFT_DAYS = 366
MAX_SHIFT_DAYS = 3652


def is_well_known_uid(uid: str) -> bool:
    """A UID the standard registers (PS3.6 Annex A), which identifies nobody and is never replaced."""
    uid = uid.strip().rstrip("\x00")
    if uid in {"", "1.2.840.10008"}:
        return True
    if not uid.startswith(DICOM_UID_ROOT):
        return False
    return uid in UID_dictionary or _CONTEXT_GROUP_UID.fullmatch(uid) is not None


@dataclass
class Derivations:
    """The keyed derivations of one configuration; caches the sub-keys and every UID it has mapped."""

    key: SecretKey
    _uids: dict[str, str] = field(default_factory=dict, repr=False)
    _seen: dict[str, str] = field(default_factory=dict, repr=False)

    def uid(self, original: str) -> str:
        """`2.25.<decimal>` from a UUID (RFC 9562 version 8) built from HMAC-SHA256 of the original UID.

        PS3.5 B.2: 2.25 UIDs are the decimal form of a UUID. 122 keyed bits make a collision between two
        different input UIDs practically impossible (p < 1e-18 for a billion UIDs); a collision seen in
        this process is still detected and raised rather than silently merging two objects.
        """
        uid = original.strip().rstrip("\x00")
        if is_well_known_uid(uid):
            return uid
        mapped = self._uids.get(uid)
        if mapped is not None:
            return mapped
        raw = bytearray(self.key.digest("uid", uid)[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80  # version 8
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 variant
        mapped = "2.25." + str(int.from_bytes(raw, "big"))
        other = self._seen.get(mapped)
        if other is not None and other != uid:
            raise RuntimeError(f"UID collision between two inputs mapping to {mapped}")
        self._uids[uid] = mapped
        self._seen[mapped] = uid
        return mapped

    def token(self, purpose: str, message: str, length: int = 16) -> str:
        """An upper-case base32 token (A-Z, 2-7) of the keyed hash: valid in LO, SH, CS and PN."""
        return base64.b32encode(self.key.digest(purpose, message)).decode("ascii")[:length]

    def date_shift_days(self, patient: str) -> int:
        """One shift per patient, in whole days, always into the past."""
        n = int.from_bytes(self.key.digest("date-shift", patient)[:8], "big")
        return -(MIN_SHIFT_DAYS + n % (MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1))

    def patient_id(self, patient: str) -> str:
        return "PB" + self.token("patient-id", patient, 14)

    def patient_name(self, patient: str) -> str:
        return "Anonymous^" + self.token("patient-id", patient, 14)

    def ae_title(self, original: str) -> str:
        """A consistent replacement AE title (device identity kept as a pseudonym, PS3.15 E.3.8 'C')."""
        return "AE" + self.token("ae", original.strip(), 14)


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip().upper()


def patient_identity(ds: Dataset) -> str:
    """What identifies the patient of this file, for per-patient pseudonyms and date shifts.

    Patient ID (with its issuer) when present. Files without one must not all collapse into one patient:
    then name + birth date + sex, and when those are empty too, the study (each study its own patient, so
    no two unknown patients share a date shift), and at last the instance itself.
    """
    pid = _text(ds, "PatientID")
    if pid:
        return f"id:{_text(ds, 'IssuerOfPatientID')}|{pid}"
    name, birth = _text(ds, "PatientName"), _text(ds, "PatientBirthDate")
    if name or birth:
        return f"name:{name}|{birth}|{_text(ds, 'PatientSex')}"
    study = _text(ds, "StudyInstanceUID")
    if study:
        return f"study:{study}"
    return f"instance:{_text(ds, 'SOPInstanceUID')}"
