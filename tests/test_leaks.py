"""No planted identity survives: every Table E.1-1 row, nested sequences, private tags, overlays, curves,
file meta, preamble, SR content, presentation-state text and JPEG segments (tests/synthetic/).

Also: what must be kept is kept, dates keep their intervals, UIDs keep their relationships across files.
"""

from __future__ import annotations

import io
import re
from datetime import date
from functools import cache

import pydicom
import pytest
from conftest import TEST_KEY
from pydicom.dataset import Dataset
from synthetic.all_table_rows import all_table_rows_file
from synthetic.jpeg import jpeg_file
from synthetic.planted import PlantedFile, get_path
from synthetic.presentation_state import presentation_state_file
from synthetic.sr import sr_file
from synthetic.study import study_of_files

from anonymizer.config import PACSBIN, Config
from anonymizer.engine import deidentify
from anonymizer.legacy.ctp_script import load_builtin_pacsbin
from anonymizer.rules.options import DEFAULT_OPTIONS, Option
from anonymizer.rules.table import load_table

GENERATORS = {
    "all_rows_ct": lambda seed: all_table_rows_file(seed),
    "all_rows_sc": lambda seed: all_table_rows_file(seed, sop_class="1.2.840.10008.5.1.4.1.1.7"),
    "all_rows_unknown_iod": lambda seed: all_table_rows_file(seed, sop_class="1.2.826.0.1.3680043.10.999.9"),
    "sr": sr_file,
    "presentation_state": presentation_state_file,
    "jpeg": jpeg_file,
}
CONFIGS = {
    "basic": Config(key=TEST_KEY, options=frozenset()),
    "default": Config(key=TEST_KEY),
    "clean-descriptors": Config(key=TEST_KEY, options=DEFAULT_OPTIONS | {Option.CLEAN_DESCRIPTORS}),
    "clean-structured-content": Config(
        key=TEST_KEY, options=DEFAULT_OPTIONS | {Option.CLEAN_STRUCTURED_CONTENT, Option.CLEAN_GRAPHICS}
    ),
    "pacsbin": Config(key=TEST_KEY, profile=PACSBIN, script=load_builtin_pacsbin()),
}


@cache
def planted(generator: str, seed: int) -> PlantedFile:
    return GENERATORS[generator](seed)


def _script_keeps(where: str) -> bool:
    """Places the Pacsbin script keeps on purpose (its enabled keep rules, top level only)."""
    script = load_builtin_pacsbin()
    kept = {
        f"({t >> 16:04X},{t & 0xFFFF:04X})"
        for t, r in script.rules.items()
        if r.enabled and r.operation.name in ("keep", "require")
    }
    return where.split(" ")[0] in kept and ">" not in where and "[" not in where.split(" ")[1]


def _cleaned_by_option(where: str, config: str) -> bool:
    """Free text the chosen Clean option keeps after scrubbing the file's identifiers from it (C): a
    random token that appears nowhere else in the file cannot be recognised, by design."""
    if not config.startswith("clean-"):
        return False
    # The innermost listed attribute decides (an unlisted one inside a C sequence is cleaned with it).
    tags = [int(g + e, 16) for g, e in re.findall(r"\(([0-9A-F]{4}),([0-9A-F]{4})\)", where)]
    rows = [r for r in (load_table().lookup(t) for t in reversed(tags)) if r is not None]
    code = rows[0].action(CONFIGS[config].options)[0] if rows else ""
    return code == "C" and "PersonName" not in where and "Date" not in where and "UID" not in where


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("generator", list(GENERATORS))
def test_no_planted_value_survives(generator: str, config: str, seed: int) -> None:
    source = planted(generator, seed)
    out = deidentify(source.data, CONFIGS[config]).data
    dates_changed = config == "basic"  # with Modified Dates, times of day are kept and dates shifted
    leaks = source.leaks(out, temporal=dates_changed)
    if config == "pacsbin":
        leaks = [leak for leak in leaks if not _script_keeps(leak.split("<- planted at ", 1)[1])]
    leaks = [leak for leak in leaks if not _cleaned_by_option(leak.split("<- planted at ", 1)[1], config)]
    assert not leaks, "\n".join(leaks)
    assert out[:128] == b"\x00" * 128


@pytest.mark.parametrize("config", ["basic", "default"])
@pytest.mark.parametrize("generator", list(GENERATORS))
def test_kept_values_survive(generator: str, config: str) -> None:
    source = planted(generator, 1)
    out = pydicom.dcmread(io.BytesIO(deidentify(source.data, CONFIGS[config]).data))
    original = source.dataset()
    for path, value in source.kept.items():
        if path.startswith("#"):
            continue
        assert get_path(out, path) == value, path
    if "PixelData" in original and not original.file_meta.TransferSyntaxUID.is_compressed:
        assert out.PixelData == original.PixelData


def _da(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def test_dates_keep_their_intervals() -> None:
    source = planted("all_rows_ct", 1)
    out = pydicom.dcmread(io.BytesIO(deidentify(source.data, CONFIGS["default"]).data))
    keys = [k for k in source.temporal if k in out]
    assert {"StudyDate", "ContentDate"} <= set(keys)
    shifts = {(_da(str(out[k].value)) - _da(source.temporal[k])).days for k in keys}
    assert len(shifts) == 1 and next(iter(shifts)) < 0
    assert (
        str(out.AcquisitionDateTime)[8:] == source.temporal["AcquisitionDateTime"][8:]
    )  # time and offset kept
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"


@cache
def study() -> tuple[list[PlantedFile], list[Dataset], list[Dataset]]:
    files = study_of_files(1)
    outs = [pydicom.dcmread(io.BytesIO(deidentify(f.data, CONFIGS["default"]).data)) for f in files]
    return files, [f.dataset() for f in files], outs


def test_uid_relationships_survive_across_files() -> None:
    files, originals, outs = study()
    new_sop = {o.SOPInstanceUID: n.SOPInstanceUID for o, n in zip(originals, outs, strict=True)}
    for original, out in zip(originals, outs, strict=True):
        for seq in ("ReferencedImageSequence", "SourceImageSequence"):
            for item_in, item_out in zip(original.get(seq, []), out.get(seq, []), strict=True):
                if item_in.ReferencedSOPInstanceUID in new_sop:
                    assert item_out.ReferencedSOPInstanceUID == new_sop[item_in.ReferencedSOPInstanceUID]
    by_study: dict[str, set[str]] = {}
    for original, out in zip(originals, outs, strict=True):
        by_study.setdefault(original.StudyInstanceUID, set()).add(out.StudyInstanceUID)
        assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert all(len(v) == 1 for v in by_study.values())
    assert len({next(iter(v)) for v in by_study.values()}) == len(by_study)
    series = {(o.SeriesInstanceUID, n.SeriesInstanceUID) for o, n in zip(originals, outs, strict=True)}
    assert len({a for a, _ in series}) == len({b for _, b in series}) == len(series)


def test_patients_without_id_do_not_collapse() -> None:
    files, originals, outs = study()
    by_patient: dict[str, set[tuple[str, str]]] = {}
    for f, out in zip(files, outs, strict=True):
        by_patient.setdefault(f.labels["patient"], set()).add((str(out.PatientID), str(out.PatientName)))
    assert all(len(v) == 1 for v in by_patient.values()), by_patient
    assert len({next(iter(v)) for v in by_patient.values()}) == len(by_patient) == 3


def test_intervals_across_files_of_one_patient() -> None:
    files, originals, outs = study()
    pairs = [(o, n) for f, o, n in zip(files, originals, outs, strict=True) if f.labels["patient"] == "A"]
    shifts = {(_da(n.SeriesDate) - _da(o.SeriesDate)).days for o, n in pairs}
    shifts |= {(_da(n.StudyDate) - _da(o.StudyDate)).days for o, n in pairs}
    assert len(shifts) == 1


def test_every_table_row_was_planted() -> None:
    source = planted("all_rows_ct", 1)
    assert len(source.table_rows) >= 653
