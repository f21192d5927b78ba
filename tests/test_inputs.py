"""CLI inputs: a zip member (or a file) is decided to be DICOM or not from its first bytes, and a member
that is not DICOM is never read whole: a zip holding 300 MB of zeros is skipped with bounded memory."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest
from corpus import file, public_files

from anonymizer.cli import main
from anonymizer.errors import DeidentificationError, NotDicomError
from anonymizer.inputs import Source, discover
from anonymizer.reading.reader import SNIFF_BYTES, not_dicom_reason, read_dataset

ZEROS_MB = 300
BOUND = 20 * 1024 * 1024  # far below the member's size, far above what sniffing needs


@pytest.fixture(scope="module")
def zeros_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip (~300 KB) with 300 MB of zeros (written as a stream) and a real DICOM file."""
    path = tmp_path_factory.mktemp("zip") / "archive.zip"
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("big/zeros.dcm", "w", force_zip64=True) as member:
            for _ in range(ZEROS_MB):
                member.write(chunk)
        z.writestr("big/ct.dcm", file("CT_small.dcm").read_bytes())
    assert path.stat().st_size < 2_000_000
    return path


def _peak(fn: object) -> int:
    tracemalloc.start()
    try:
        fn()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_member_that_is_not_dicom_is_decided_from_its_first_bytes(zeros_zip: Path) -> None:
    source = Source(zeros_zip, "big/zeros.dcm")

    def read() -> None:
        with pytest.raises(NotDicomError, match="not a DICOM file"):
            source.read()

    assert _peak(read) < BOUND


def test_the_cli_skips_it_with_bounded_memory_and_goes_on(
    zeros_zip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    codes: list[int] = []
    peak = _peak(lambda: codes.append(main([str(zeros_zip), "-o", str(out), "--secret", "k", "--jobs", "1"])))
    assert codes == [0]
    assert peak < BOUND, f"{peak / 1e6:.0f} MB"
    err = capsys.readouterr().err
    assert "skipped: " in err and "zeros.dcm: not a DICOM file" in err and "1 de-identified" in err
    assert len(list(out.rglob("*.dcm"))) == 1


def test_dicom_members_and_files_are_read_whole(tmp_path: Path, zeros_zip: Path) -> None:
    data = file("CT_small.dcm").read_bytes()
    assert Source(zeros_zip, "big/ct.dcm").read() == data
    (tmp_path / "ct").write_bytes(data)
    assert Source(tmp_path / "ct").read() == data
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(NotDicomError, match="empty file"):
        Source(tmp_path / "empty").read()
    assert [s.member for s in discover([zeros_zip]) if isinstance(s, Source)] == [
        "big/ct.dcm",
        "big/zeros.dcm",
    ]


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_sniffing_agrees_with_the_reader(path: Path) -> None:
    """The prefix test is the reader's own: a file is skipped by its first bytes exactly when the reader
    would find it is not DICOM."""
    data = path.read_bytes()
    try:
        read_dataset(data)
        not_dicom = False
    except NotDicomError:
        not_dicom = True
    except DeidentificationError:
        not_dicom = False
    assert (not_dicom_reason(data[:SNIFF_BYTES], len(data)) is not None) == not_dicom


def test_an_implicit_vr_file_with_a_long_first_element_is_not_skipped() -> None:
    """The first element's length is judged against the file's size, not the prefix's."""
    first = b"\x08\x00\x05\x00" + (400).to_bytes(4, "little") + b"ISO_IR 100".ljust(400)
    data = first + b"\x08\x00\x16\x00" + (4).to_bytes(4, "little") + b"1.2\x00"
    assert not_dicom_reason(data[:SNIFF_BYTES], len(data)) is None


def test_a_file_is_read_into_one_buffer(tmp_path: Path) -> None:
    """Peak memory of reading a file is its size, not twice it (issue 15: <= 1.5x the file per worker)."""
    data = file("CT_small.dcm").read_bytes()
    path = tmp_path / "big.dcm"
    path.write_bytes(data + b"\0" * (8 * 1024 * 1024))  # trailing zero padding: still a DICOM file
    got: list[bytes] = []
    peak = _peak(lambda: got.append(Source(path).read()))
    assert got[0] == path.read_bytes()
    assert peak < 1.2 * path.stat().st_size
