"""Interoperability with a real PACS: our server with `--forward` delivers every accepted instance to Orthanc
(Debian `orthanc` + `orthanc-dicomweb`, started here on loopback with a temporary configuration and storage),
checked through Orthanc's own REST API; refused instances never reach it."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pydicom
import pytest
from conftest import TEST_KEY, stow_post
from corpus import file

from anonymizer.config import Config
from anonymizer.engine import deidentify
from app import forward_state
from app.forward import Forwarder
from app.forward_target import Credentials, ForwardTarget, Scheme
from app.launch import free_port, start_server_process
from app.store import Store
from app.stow_answer import Verdict
from app.tokens import Tokens

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (loopback)
        return json.loads(r.read())


def _start_orthanc(tmp_path: Path, extra: dict[str, object]) -> tuple[str, subprocess.Popen[bytes]]:
    if not Path(ORTHANC).exists() or not PLUGIN.exists():
        if __import__("os").environ.get("CI"):
            pytest.fail(
                "Orthanc is not installed: python3 build.py test installs orthanc and orthanc-dicomweb"
            )
        pytest.skip("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)")
    tmp_path.mkdir(parents=True, exist_ok=True)
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
        **extra,
    }
    (tmp_path / "orthanc.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [ORTHANC, str(tmp_path / "orthanc.json")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/system", timeout=10):  # noqa: S310 (loopback)
                break
        except urllib.error.HTTPError:
            break  # it answers (401 when authentication is on)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("Orthanc did not start")
            time.sleep(0.2)
    return url, proc


@pytest.fixture
def orthanc_with(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Starts Orthanc on loopback with these configuration entries; its base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(**extra: object) -> str:
        url, proc = _start_orthanc(tmp_path / f"orthanc-{len(procs)}", extra)
        procs.append(proc)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def orthanc(orthanc_with: Callable[..., str]) -> str:
    return orthanc_with()


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


def _engine_output(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(deidentify(file(name).read_bytes(), Config(key=TEST_KEY)).data))


def _bytes(ds: pydicom.Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def _forward(
    target: ForwardTarget, tmp_path: Path, instances: list[pydicom.Dataset]
) -> dict[str, forward_state.Row]:
    """Store `instances` as they are (the gate is not what is tested here) and forward them; each SOP
    Instance UID's row of forwarding state."""
    store = Store(tmp_path / "data")
    for ds in instances:
        store.put(
            _bytes(ds),
            study=str(ds.StudyInstanceUID),
            series=str(ds.get("SeriesInstanceUID", "2.25.1")),
            sop=str(ds.SOPInstanceUID),
            sop_class=str(ds.SOPClassUID),
            token_id=1,
            attributes="{}",
        )
    forwarder = Forwarder(target, store.db_path, timeout=30, wait=lambda seconds: forwarder.stop())
    forwarder.start(store.root)
    assert forwarder.idle(60)
    forwarder.stop()
    with forward_state.connect(store.db_path) as db:
        return {row.sop: row for row in forward_state.rows(db)}


def _in_orthanc(url: str, auth: str | None = None) -> set[str]:
    def get(path: str) -> object:
        request = urllib.request.Request(url + path, headers={"Authorization": auth} if auth else {})
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 (loopback)
            return json.loads(r.read())

    ids = get("/instances")
    return {get(f"/instances/{i}/simplified-tags")["SOPInstanceUID"] for i in ids}  # type: ignore[attr-defined, index]


def test_an_instance_orthanc_refuses_is_final_with_its_reason_and_the_next_is_delivered(
    orthanc: str, tmp_path: Path
) -> None:
    broken, good = _engine_output("MR_small.dcm"), _engine_output("CT_small.dcm")
    del broken.SeriesInstanceUID  # Orthanc's STOW-RS: "Missing a mandatory tag", Failure Reason 0xC000
    rows = _forward(ForwardTarget(f"{orthanc}/dicom-web"), tmp_path, [broken, good])
    refused = rows[str(broken.SOPInstanceUID)]
    assert refused.verdict is Verdict.FAILED and refused.status == 400
    assert "Failure Reason 0xC000 (Error: cannot understand)" in refused.reason
    assert rows[str(good.SOPInstanceUID)].verdict is Verdict.DELIVERED
    assert _in_orthanc(orthanc) == {str(good.SOPInstanceUID)}


def test_orthanc_full_answers_200_without_the_instance_which_is_not_taken_for_delivered(
    orthanc_with: Callable[..., str], tmp_path: Path
) -> None:
    url = orthanc_with(MaximumStorageSize=1)  # MB
    big = _engine_output("CT_small.dcm")
    big.Rows = big.Columns = 800
    big.PixelData = bytes(800 * 800 * 2)  # 1.3 MB: more than Orthanc may hold
    row = _forward(ForwardTarget(f"{url}/dicom-web"), tmp_path, [big])[str(big.SOPInstanceUID)]
    assert row.verdict is Verdict.FAILED and row.status == 200
    assert "does not list it" in row.reason
    assert _in_orthanc(url) == set()


def test_basic_credentials_against_orthanc(orthanc_with: Callable[..., str], tmp_path: Path) -> None:
    url = orthanc_with(AuthenticationEnabled=True, RegisteredUsers={"pacsbin": "s3cret"})
    ct, mr = _engine_output("CT_small.dcm"), _engine_output("MR_small.dcm")
    right = ForwardTarget(f"{url}/dicom-web", Credentials(Scheme.BASIC, "pacsbin", "s3cret"))
    assert _forward(right, tmp_path / "a", [ct])[str(ct.SOPInstanceUID)].verdict is Verdict.DELIVERED
    wrong = ForwardTarget(f"{url}/dicom-web", Credentials(Scheme.BASIC, "pacsbin", "guess"))
    row = _forward(wrong, tmp_path / "b", [mr])[str(mr.SOPInstanceUID)]
    assert row.verdict is Verdict.FAILED and row.status == 401
    assert right.credentials is not None
    auth = right.credentials.authorization()
    assert _in_orthanc(url, auth) == {str(ct.SOPInstanceUID)}
