"""Interoperability with a real PACS: our server with `--forward` delivers every accepted instance to Orthanc
(Debian `orthanc` + `orthanc-dicomweb`, started here on loopback with a temporary configuration and storage),
checked through Orthanc's own REST API; refused instances never reach it."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from conftest import TEST_KEY, stow_post
from corpus import file

from anonymizer.config import Config
from anonymizer.engine import deidentify
from app.launch import free_port, start_server_process
from app.tokens import Tokens

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (loopback)
        return json.loads(r.read())


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[str]:
    if not Path(ORTHANC).exists() or not PLUGIN.exists():
        if __import__("os").environ.get("CI"):
            pytest.fail(
                "Orthanc is not installed: python3 build.py test installs orthanc and orthanc-dicomweb"
            )
        pytest.skip("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)")
    http_port, dicom_port = free_port(), free_port()
    config = {
        "Name": "pacsbin-test",
        "StorageDirectory": str(tmp_path / "orthanc-storage"),
        "IndexDirectory": str(tmp_path / "orthanc-index"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (tmp_path / "orthanc.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [ORTHANC, str(tmp_path / "orthanc.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(url + "/system")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("Orthanc did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_forward_delivers_every_accepted_instance_to_orthanc(orthanc: str, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>t</title>")
    data = tmp_path / "data"
    token = Tokens(data / "tokens.sqlite").create("forward-test")
    url, stop = start_server_process(dist, data=data, extra=["--forward", f"{orthanc}/dicom-web"])
    try:
        good = [
            deidentify(file(n).read_bytes(), Config(key=TEST_KEY)).data
            for n in ("CT_small.dcm", "MR_small.dcm")
        ]
        refused = file("rtplan.dcm").read_bytes()  # not de-identified
        assert stow_post(url, token, [*good, refused], timeout=30) == 202
        expected = {str(pydicom.dcmread(io.BytesIO(d)).SOPInstanceUID) for d in good}
        deadline = time.monotonic() + 30
        found: set[str] = set()
        while time.monotonic() < deadline and found != expected:
            ids = _get(f"{orthanc}/instances")
            found = {_get(f"{orthanc}/instances/{i}/simplified-tags")["SOPInstanceUID"] for i in ids}  # type: ignore[attr-defined, index]
            time.sleep(0.3)
        assert found == expected
        for i in _get(f"{orthanc}/instances"):  # type: ignore[attr-defined]
            tags = _get(f"{orthanc}/instances/{i}/simplified-tags")
            assert tags["PatientIdentityRemoved"] == "YES"  # type: ignore[index]
    finally:
        stop()
