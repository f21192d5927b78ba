"""The stored form (anonymizer/verification/stored_form.py): the server's own preamble and file meta around
the data set's
unchanged bytes; nothing the client put in the meta or the preamble reaches the store."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file
from starlette.testclient import TestClient
from test_dicomweb import dist_stub, stow  # noqa: F401 (a fixture)

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.errors import DeidentificationError
from anonymizer.planning.planner import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION
from anonymizer.verification.stored_form import stored_form
from app.cli import build_app
from app.tokens import Tokens

PHI_AE, PHI_PREAMBLE = "DOE_JOHN_MRN42", b"Doe^John MRN 0042"


def _with_phi_outside_the_data_set(data: bytes) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    ds.file_meta.SourceApplicationEntityTitle = PHI_AE
    ds.file_meta.ImplementationVersionName = "DOEJOHN"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.42"  # not the data set's
    ds.preamble = PHI_PREAMBLE.ljust(128, b"\0")
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@pytest.fixture(scope="module")
def engine_output() -> bytes:
    return deidentify(file("CT_small.dcm").read_bytes(), Config(key=TEST_KEY)).data


def test_meta_and_preamble_are_the_servers(engine_output: bytes) -> None:
    crafted = _with_phi_outside_the_data_set(engine_output)
    assert PHI_AE.encode() in crafted and PHI_PREAMBLE in crafted
    stored = stored_form(crafted)
    assert PHI_AE.encode() not in stored and PHI_PREAMBLE not in stored and b"DOEJOHN" not in stored
    assert stored[:128] == b"\0" * 128 and stored[128:132] == b"DICM"
    ds = pydicom.dcmread(io.BytesIO(stored))
    meta = ds.file_meta
    assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert meta.ImplementationVersionName == IMPLEMENTATION_VERSION
    assert "SourceApplicationEntityTitle" not in meta
    assert stored == engine_output  # the data set's bytes unchanged, the meta as the engine writes it


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "image_dfl.dcm", "JPEG-lossy.dcm", "rtplan.dcm"])
def test_the_data_set_bytes_are_kept_in_every_encoding(name: str) -> None:
    """Big endian, deflated, encapsulated, no pixels: the crafted file and the engine's output share the
    data set's bytes, and the stored form of the crafted one is the output itself."""
    out = deidentify(file(name).read_bytes(), Config(key=TEST_KEY)).data
    stored = stored_form(_with_phi_outside_the_data_set(out))
    assert stored == out and PHI_AE.encode() not in stored


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d[132:], "stores only DICOM files with a file meta header"),  # no preamble, no DICM
        (lambda d: d[:128] + b"XXXX" + d[132:], "not a DICOM file"),
    ],
    ids=["no-preamble", "no-dicm"],
)
def test_a_file_without_a_meta_it_can_replace_is_refused(
    engine_output: bytes, change: object, reason: str
) -> None:
    with pytest.raises(DeidentificationError, match=reason):
        stored_form(change(engine_output))  # type: ignore[operator]


def test_no_transfer_syntax_is_refused(engine_output: bytes) -> None:
    ds = pydicom.dcmread(io.BytesIO(engine_output))
    del ds.file_meta.TransferSyntaxUID
    buf = io.BytesIO()
    pydicom.filewriter.write_file_meta_info(
        pydicom.filebase.DicomBytesIO(), ds.file_meta, enforce_standard=False
    )
    ds.save_as(buf, enforce_file_format=False, implicit_vr=False, little_endian=True)
    data = buf.getvalue()
    if b"DICM" not in data[:132]:
        pytest.skip("pydicom did not write a meta without a transfer syntax")
    with pytest.raises(DeidentificationError, match="Transfer Syntax UID"):
        stored_form(data)


def test_an_upload_with_phi_in_meta_and_preamble_is_stored_without_it(
    tmp_path: Path,
    dist_stub: Path,  # noqa: F811 (the fixture)
    engine_output: bytes,
) -> None:
    data = tmp_path / "data"
    client = TestClient(build_app(dist_stub, data))
    token = Tokens(data / "tokens.sqlite").create("t")
    r = stow(client, token, [_with_phi_outside_the_data_set(engine_output)])
    assert r.status_code == 200, r.text
    [path] = list((data / "instances").rglob("*.dcm"))
    stored = path.read_bytes()
    assert PHI_AE.encode() not in stored and PHI_PREAMBLE not in stored
    assert stored == engine_output
    ds = pydicom.dcmread(io.BytesIO(stored))
    listed = client.get(
        f"/dicomweb/studies/{ds.StudyInstanceUID}/instances", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert listed[0]["00091001"]["Value"][0] == hashlib.sha256(stored).hexdigest()
