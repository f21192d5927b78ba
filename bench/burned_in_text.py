"""What the burned-in test set writes: the identity in each file's header, how it is spelled in the pixels,
the harmless text beside it, and the fonts.

Burned-in identifiers in real images (ultrasound banners, secondary captures, angiography overlays) spell
the header's values in the vendor's own way: `DOE, JOHN` or `JOHN DOE` for `DOE^JOHN`, dates as
`12/03/1961`, `12-MAR-1961` or `19610312`, IDs with or without a prefix. Each spelling here says which
header attribute it spells, so the benchmark can ask whether a finder's reading was recognised as that
attribute. Text that identifies nobody (parameters, orientation letters, scale numbers) is there too: a
finder that boxes it is right to (it is text), but it is not PHI.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

SURNAMES = ["MUELLER", "NGUYEN", "OKAFOR", "GARCIA", "JOHANSSON", "TANAKA", "SMITH", "DUBOIS", "ROSSI"]
SURNAMES += ["KOWALSKI", "PATEL", "IVANOVA", "MURPHY", "SILVA", "HANSEN", "COHEN", "BAKER", "FISCHER"]
GIVEN = ["ANNA", "BRUNO", "CHIARA", "DAVID", "ELENA", "FARID", "GRETA", "HIRO", "IMANI", "JONAS", "KEIKO"]
GIVEN += ["LUCA", "MARTA", "NOAH", "OLGA", "PETER", "ROSA", "SAMIR"]
INSTITUTIONS = [
    "ST. MARY HOSPITAL",
    "CITY GENERAL",
    "RIVERSIDE CLINIC",
    "NORTH VALLEY MC",
    "UNIV. HOSP. EAST",
]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

# Text that names nobody, per kind of image (orientation letters, acquisition parameters, scale numbers).
HARMLESS = {
    "CT": ["W:400 L:40", "W:1500 L:450", "kV 120", "mAs 250", "Se: 3", "Im: 45", "3.0 mm", "A", "R", "L"],
    "MR": ["TR 4500", "TE 98", "T2 TSE", "Se: 5", "Im: 12", "FOV 220", "H", "F", "L", "R", "3.0T"],
    "CR": ["L", "R", "PA", "AP ERECT", "CHEST", "kVp 110", "mAs 2.5", "PORTABLE"],
    "XA": ["LAO 30", "CRA 20", "FL 15 p/s", "mGy 42.1", "LCA", "RCA", "Fr 12"],
    "US": ["ABD", "C5-1", "TIS 0.4", "MI 1.1", "FR 32Hz", "Gn 55", "DR 65", "D1 2.34 cm", "LIVER", "5 cm"],
}

# Debian fonts-dejavu-core and fonts-liberation (build.py installs them for the bench), by file name.
FONT_FILES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf",
]
PILLOW_TRUETYPE = "pillow-default"  # Pillow's own FreeType font (Aileron), any size
PILLOW_BITMAP = "pillow-bitmap"  # Pillow's fixed 11 px bitmap font: the smallest, crudest text in the set

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def available_fonts() -> list[str]:
    """The font names this machine can render: the Debian files present, then Pillow's two."""
    return [f for f in FONT_FILES if Path(f).exists()] + [PILLOW_TRUETYPE, PILLOW_BITMAP]


def load_font(name: str, size: int) -> Font:
    if name == PILLOW_BITMAP:
        return ImageFont.load_default_imagefont()
    if name == PILLOW_TRUETYPE:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(name, size)


def font_label(name: str) -> str:
    return Path(name).stem if "/" in name else name


@dataclass(frozen=True)
class Identity:
    """One patient's header values (DICOM spellings) that the burned-in text may spell."""

    surname: str
    given: str
    patient_id: str
    accession: str
    birth_date: str  # YYYYMMDD
    study_date: str  # YYYYMMDD
    study_time: str  # HHMMSS
    institution: str

    @property
    def patient_name(self) -> str:
        return f"{self.surname}^{self.given}"


def make_identity(rng: random.Random) -> Identity:
    birth = f"{rng.randint(1935, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    study = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return Identity(
        surname=rng.choice(SURNAMES),
        given=rng.choice(GIVEN),
        patient_id=f"{rng.choice(['', 'MRN', 'H'])}{rng.randint(1000000, 9999999)}",
        accession=f"A{rng.randint(10000000, 99999999)}",
        birth_date=birth,
        study_date=study,
        study_time=f"{rng.randint(7, 19):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}",
        institution=rng.choice(INSTITUTIONS),
    )


def spell_date(date: str, rng: random.Random) -> str:
    y, m, d = date[:4], date[4:6], date[6:]
    return rng.choice([f"{y}-{m}-{d}", f"{d}/{m}/{y}", f"{m}/{d}/{y}", f"{d}-{MONTHS[int(m) - 1]}-{y}", date])


@dataclass(frozen=True)
class Spelling:
    """A string to burn in, whether it is PHI, and the header keyword it spells (None: none)."""

    text: str
    is_phi: bool
    matches: str | None


def phi_spellings(who: Identity, rng: random.Random) -> list[Spelling]:
    """Each identifier once, in one of its common spellings (the order is the caller's to shuffle)."""
    name = rng.choice(
        [
            f"{who.surname}, {who.given}",
            f"{who.given} {who.surname}",
            who.patient_name,
            f"{who.surname} {who.given}",
        ]
    )
    return [
        Spelling(name, True, "PatientName"),
        Spelling(rng.choice(["", "ID: ", "MRN "]) + who.patient_id, True, "PatientID"),
        Spelling(rng.choice(["Acc# ", "ACC ", ""]) + who.accession, True, "AccessionNumber"),
        Spelling(
            rng.choice(["DOB ", "Born ", ""]) + spell_date(who.birth_date, rng), True, "PatientBirthDate"
        ),
        Spelling(spell_date(who.study_date, rng), True, "StudyDate"),
        Spelling(who.institution, True, "InstitutionName"),
    ]


def clock(who: Identity, seconds: float) -> str:
    """The study time plus `seconds`, as a cine stamp HH:MM:SS.ss (PHI: a time of day, PS3.15 E.1-1)."""
    t = int(who.study_time[:2]) * 3600 + int(who.study_time[2:4]) * 60 + int(who.study_time[4:]) + seconds
    h, rest = divmod(t, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h) % 24:02d}:{int(m):02d}:{s:05.2f}"
