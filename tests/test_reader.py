"""anonymizer.reading.reader: every public test file reads or is refused with a reason; damage never gets
through."""

from __future__ import annotations

import contextlib
import importlib.metadata
import random
import struct
import warnings
from pathlib import Path

import pytest
from reader_helpers import PYDICOM_DIR, _file

from anonymizer.errors import (
    CANNOT_READ,
    DAMAGED,
    INCOMPLETE,
    DeidentificationError,
    DicomDirError,
    MalformedDicomError,
    NotDicomError,
)
from anonymizer.reading.reader import read_dataset


def _pydicom_data_dir() -> Path | None:
    """pydicom-data's files, found on disk (never get_testdata_files(): it tries to download and hangs)."""
    try:
        dist = importlib.metadata.distribution("pydicom-data")
    except importlib.metadata.PackageNotFoundError:
        return None
    root = Path(str(dist.locate_file("data_store/data")))
    return root if root.is_dir() else None


def _corpus() -> list[tuple[str, Path]]:
    out = [
        (f"pydicom/{p.relative_to(PYDICOM_DIR).as_posix()}", p) for p in PYDICOM_DIR.rglob("*") if p.is_file()
    ]
    data_dir = _pydicom_data_dir()
    if data_dir is not None:
        out += [
            (f"pydicom-data/{p.relative_to(data_dir).as_posix()}", p)
            for p in data_dir.rglob("*")
            if p.is_file()
        ]
    return sorted(out)


CORPUS = _corpus()
_DICOMDIR = (DicomDirError, "DICOMDIR: holds patient names in its records; never copied")
_NOT_DICOM = (NotDicomError, "not a DICOM file: no 'DICM' marker and no data set found")

# Files that must be refused, with the error type and a part of the reason.
REJECTED: dict[str, tuple[type[DeidentificationError], str]] = {
    # cut short: pixel data / a sequence value runs past the end of the file
    "pydicom/MR_truncated.dcm": (
        MalformedDicomError,
        f"{INCOMPLETE}: element (7FE0,0010) declares 8192 bytes",
    ),
    "pydicom/rtplan_truncated.dcm": (
        MalformedDicomError,
        f"{INCOMPLETE}: element (300A,00B0) declares 976 bytes",
    ),
    "pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm": (
        MalformedDicomError,
        "encapsulated value (7FE0,0010) at offset 2340 has no sequence delimiter",
    ),
    # a stray 0x20 byte before (0008,0005): no recognisable data set at the start
    "pydicom/no_meta.dcm": _NOT_DICOM,
    # not DICOM at all
    "pydicom/README.txt": _NOT_DICOM,
    "pydicom/crayons.icc": _NOT_DICOM,
    "pydicom/rtplan.dump": _NOT_DICOM,
    "pydicom/rtstruct.dump": _NOT_DICOM,
    "pydicom/test1.json": _NOT_DICOM,
    "pydicom/test_PN.json": _NOT_DICOM,
    "pydicom/zipMR.gz": _NOT_DICOM,
    "pydicom/dicomdirtests/README.txt": _NOT_DICOM,
    "pydicom/dicomdirtests/TINY_ALPHA/README": _NOT_DICOM,
    # DICOMDIRs
    "pydicom/dicomdirtests/DICOMDIR": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-bigEnd": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-empty.dcm": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-implicit": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-nooffset": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-nopatient": _DICOMDIR,
    "pydicom/dicomdirtests/DICOMDIR-reordered": _DICOMDIR,
    "pydicom/dicomdirtests/TINY_ALPHA/DICOMDIR": _DICOMDIR,
}


@pytest.mark.parametrize(("key", "path"), CORPUS, ids=[k for k, _ in CORPUS])
def test_public_file(key: str, path: Path) -> None:
    expected = REJECTED.get(key)
    if expected is None:
        ds = read_dataset(path.read_bytes(), path=key)
        assert len(ds) > 0
        return
    kind, reason = expected
    with pytest.raises(kind) as info:
        read_dataset(path.read_bytes(), path=key)
    assert type(info.value) is kind
    assert reason in info.value.reason
    assert info.value.path == key and key in str(info.value)


_LEADS = (INCOMPLETE, DAMAGED, CANNOT_READ, "not a DICOM file", "DICOMDIR")


@pytest.mark.parametrize(
    ("data", "lead"),
    [
        (_file("CT_small.dcm")[:-1000], INCOMPLETE),
        (_file("CT_small.dcm").replace(b"\x10\x00\x10\x00PN", b"\x10\x00\x10\x00Q!", 1), DAMAGED),
        (
            _file("CT_small.dcm").replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.10008.1.2.9\x00", 1),
            CANNOT_READ,
        ),
    ],
    ids=["cut", "bad-vr", "unknown-syntax"],
)
def test_every_refusal_says_what_it_means_first(data: bytes, lead: str) -> None:
    with pytest.raises(DeidentificationError) as info:
        read_dataset(data, path="x.dcm")
    assert info.value.reason.startswith(f"{lead}: "), info.value.reason
    assert len(info.value.reason) > len(lead) + 10  # the detail follows
    for key, path in CORPUS:
        if key in REJECTED:
            with pytest.raises(DeidentificationError) as corpus_info:
                read_dataset(path.read_bytes())
            assert corpus_info.value.reason.startswith(_LEADS), corpus_info.value.reason


def test_rejection_list_is_current() -> None:
    keys = {k for k, _ in CORPUS}
    assert [k for k in REJECTED if k.startswith("pydicom/") and k not in keys] == []
    assert {"pydicom/CT_small.dcm", "pydicom/MR_small_padded.dcm", "pydicom/meta_missing_tsyntax.dcm"} <= keys


# --- warnings and paths ----------------------------------------------------------------------------


def test_content_warnings_do_not_reject_and_do_not_escape() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = read_dataset(_file("badVR.dcm"))  # invalid IS and UI values: content, not structure
    assert len(ds) > 0


def test_errors_carry_the_path() -> None:
    with pytest.raises(MalformedDicomError) as info:
        read_dataset(_file("MR_truncated.dcm"), path="dir/MR_truncated.dcm")
    assert info.value.path == "dir/MR_truncated.dcm"
    assert str(info.value).startswith(f"dir/MR_truncated.dcm: {INCOMPLETE}")
    with pytest.raises(NotDicomError) as not_dicom:
        read_dataset(b"")
    assert not_dicom.value.path is None


def test_random_damage_gives_typed_errors_only() -> None:
    """Byte flips in the headers: the result is a data set or a typed error, never anything else."""
    rnd = random.Random(1234)
    names = [
        "CT_small.dcm",
        "MR_small_implicit.dcm",
        "JPEG2000.dcm",
        "test-SR.dcm",
        "rtplan.dcm",
        "image_dfl.dcm",
    ]
    originals = {name: _file(name) for name in names}
    for _ in range(300):
        data = bytearray(originals[rnd.choice(names)])
        for _ in range(rnd.randint(1, 3)):
            data[rnd.randrange(min(len(data), 2500))] = rnd.choice(
                [0x00, 0xFF, 0xFE, 0xE0, 0xDD, rnd.randrange(256)]
            )
        try:
            read_dataset(bytes(data))
        except DeidentificationError as exc:
            assert exc.reason


@pytest.mark.parametrize("data", [_file("CT_small.dcm"), _file("CT_small.dcm")[:-1000]], ids=["ok", "cut"])
def test_validation_mode_left_as_it_was(data: bytes) -> None:
    """The read skips pydicom's content validation while it converts, and leaves the process-wide mode
    as it found it, whether the file reads or not."""
    import pydicom.config

    before = pydicom.config.settings.reading_validation_mode
    with contextlib.suppress(DeidentificationError):
        read_dataset(data)
    assert pydicom.config.settings.reading_validation_mode == before


# -- a large Pixel Data is a view of the input, not a copy (issue 15: peak memory) ------------------------
def _image(side: int, trailing: bytes = b"") -> bytes:
    from reader_helpers import base_body, el, part10

    us = struct.Struct("<H").pack
    body = base_body(CT) + el(0x28, 2, b"US", us(1)) + el(0x28, 4, b"CS", b"MONOCHROME2 ")
    body += el(0x28, 0x10, b"US", us(side)) + el(0x28, 0x11, b"US", us(side))
    body += el(0x28, 0x100, b"US", us(16)) + el(0x28, 0x101, b"US", us(12)) + el(0x28, 0x102, b"US", us(11))
    body += el(0x28, 0x103, b"US", us(0)) + el(0x7FE0, 0x10, b"OW", _PIXELS * (side * side // 1024))
    return part10(body + trailing, sop=CT)


CT = "1.2.840.10008.5.1.4.1.1.2"
_PIXELS = struct.pack("<1024H", *range(0, 4096, 4))  # 12 bits stored: nothing outside them to clear


def test_large_pixel_data_is_a_view_of_the_input() -> None:
    data = _image(1024)  # 2 MiB of pixels
    ds = read_dataset(data)
    assert isinstance(ds.PixelData, memoryview) and ds.PixelData.obj is data
    assert bytes(ds.PixelData) == _PIXELS * 1024


def test_small_pixel_data_is_copied() -> None:
    """Below VIEW_AT_LEAST the copy costs less than reading through Python (_ViewingSource)."""
    assert isinstance(read_dataset(_image(256)).PixelData, bytes)


def test_view_with_elements_after_pixel_data() -> None:
    from reader_helpers import el

    padding = el(0xFFFC, 0xFFFC, b"OB", b"\0" * 8)  # Data Set Trailing Padding after the Pixel Data
    ds = read_dataset(_image(1024, padding))
    assert isinstance(ds.PixelData, memoryview) and len(ds.PixelData) == 2 * 1024 * 1024
    assert ds[0xFFFCFFFC].value == b"\0" * 8


def _converted(ds: object) -> list[tuple[int, str, str]]:
    out = []
    for elem in ds:  # type: ignore[attr-defined]
        if elem.tag.is_private:
            continue
        if elem.VR == "SQ":
            out += [(int(elem.tag), "SQ", str(len(elem.value)))]
            for item in elem.value:
                out += _converted(item)
        else:
            value = elem.value
            shown = bytes(value) if isinstance(value, memoryview) else value  # a large Pixel Data: a view
            out.append((int(elem.tag), elem.VR, repr(shown)))
    return out


@pytest.mark.parametrize(("key", "path"), [c for c in CORPUS if c[0] not in REJECTED][::3])
def test_own_conversion_equals_pydicoms(key: str, path: Path) -> None:
    """_touch converts plain elements itself (issue 15): the same VRs and values as Dataset.__getitem__."""
    import io

    import pydicom
    import pydicom.config

    data = path.read_bytes()
    ours = read_dataset(data)
    mode = pydicom.config.settings.reading_validation_mode
    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = pydicom.dcmread(io.BytesIO(data), force=True)
            expected = _converted(theirs)
    finally:
        pydicom.config.settings.reading_validation_mode = mode
    assert _converted(ours) == expected


def test_registered_hooks_are_used() -> None:
    """A raw element hook someone registered is pydicom's path: the reader does not convert around it."""
    from pydicom.hooks import hooks, raw_element_value

    def shouting(raw: object, data: dict[str, object], **kwargs: object) -> None:
        raw_element_value(raw, data, **kwargs)  # type: ignore[arg-type]
        if isinstance(data["value"], str):
            data["value"] = data["value"].upper()

    hooks.register_callback("raw_element_value", shouting)
    try:
        ds = read_dataset(_file("CT_small.dcm"))
    finally:
        hooks.register_callback("raw_element_value", raw_element_value)
    assert ds.StudyDescription == "E+1"  # "e+1" in the file
    assert read_dataset(_file("CT_small.dcm")).StudyDescription == "e+1"
