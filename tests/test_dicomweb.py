"""STOW-RS and QIDO-RS on our server (TestClient): tokens, the re-check, storage, refusals per part."""

from __future__ import annotations

import copy
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import file
from starlette.testclient import TestClient

from anonymizer.config import Config
from anonymizer.engine import deidentify
from app.cli import build_app
from app.multipart import related
from app.tokens import Tokens

GOOD = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]
CONFIG = Config(key=TEST_KEY)


def deidentified(name: str) -> bytes:
    return deidentify(file(name).read_bytes(), CONFIG).data


@pytest.fixture
def server(tmp_path: Path, dist_stub: Path) -> tuple[TestClient, Tokens, Path]:
    data = tmp_path / "data"
    app = build_app(dist_stub, data)
    return TestClient(app), Tokens(data / "tokens.sqlite"), data


@pytest.fixture
def dist_stub(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>t</title>")
    return dist


def stow(client: TestClient, token: str | None, parts: list[bytes], **kw: Any) -> Any:
    body, content_type = related(parts, kw.pop("kinds", None))
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(kw.pop("url", "/dicomweb/studies"), content=body, headers=headers)


def _sops(response: Any, key: str) -> list[str]:
    return [item["00081155"]["Value"][0] for item in response.json().get(key, {}).get("Value", [])]


def test_no_or_bad_token_is_401(server: Any) -> None:
    client, _, _ = server
    assert stow(client, None, [deidentified("CT_small.dcm")]).status_code == 401
    r = stow(client, "not-a-token", [deidentified("CT_small.dcm")])
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/dicomweb/studies").status_code == 401


def test_stored_and_listed_for_its_token_only(server: Any) -> None:
    client, tokens, data = server
    token, other = tokens.create("a"), tokens.create("b")
    parts = [deidentified(n) for n in GOOD]
    r = stow(client, token, parts)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/dicom+json")
    sops = [pydicom.dcmread(io.BytesIO(p)).SOPInstanceUID for p in parts]
    assert sorted(_sops(r, "00081199")) == sorted(sops)
    stored = sorted(p.name for p in (data / "instances").rglob("*.dcm"))
    assert stored == sorted(f"{s}.dcm" for s in sops)
    assert not list((data / "instances").rglob("*.tmp"))
    studies = client.get("/dicomweb/studies", headers={"Authorization": f"Bearer {token}"})
    assert studies.status_code == 200 and len(studies.json()) == len(
        {pydicom.dcmread(io.BytesIO(p)).StudyInstanceUID for p in parts}
    )
    assert client.get("/dicomweb/studies", headers={"Authorization": f"Bearer {other}"}).status_code == 204
    ds = pydicom.dcmread(io.BytesIO(parts[0]))
    instances = client.get(
        f"/dicomweb/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    import hashlib

    assert instances[0]["00091001"]["Value"][0] == hashlib.sha256(parts[0]).hexdigest()


def _with_private(data: bytes) -> bytes:
    ds = pydicom.dcmread(io.BytesIO(data))
    ds.private_block(0x0011, "ACME", create=True).add_new(0x01, "LO", "x")
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_each_bad_part_is_refused_with_its_reason_and_the_rest_stored(server: Any) -> None:
    client, tokens, data = server
    token = tokens.create("a")
    good = deidentified("CT_small.dcm")
    parts = [
        good,
        file("MR_small.dcm").read_bytes(),  # identifying
        _with_private(deidentified("rtplan.dcm")),
        deidentified("MR_small.dcm")[:-300],  # truncated
        b"hello, not DICOM",
    ]
    r = stow(client, token, parts)
    assert r.status_code == 202
    assert _sops(r, "00081199") == [pydicom.dcmread(io.BytesIO(good)).SOPInstanceUID]
    failed = r.json()["00081198"]["Value"]
    reasons = [f["00000902"]["Value"][0] for f in failed]
    assert len(failed) == 4
    assert "Patient Identity Removed" in reasons[0]
    assert "private element (0011,0010)" in reasons[1]
    assert reasons[2].startswith("refused by the re-check: unreadable: the file is incomplete")
    assert "unreadable" in reasons[3]
    assert len(list((data / "instances").rglob("*.dcm"))) == 1


def test_a_body_cut_inside_a_part_stores_the_whole_parts_before_it(server: Any) -> None:
    client, tokens, data = server
    token = tokens.create("a")
    good = deidentified("CT_small.dcm")
    body, content_type = related([good, deidentified("MR_small.dcm")])
    cut = body[: len(body) - 400]  # the connection dropped inside the second part
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    r = client.post("/dicomweb/studies", content=cut, headers=headers)
    assert r.status_code == 202
    assert _sops(r, "00081199") == [pydicom.dcmread(io.BytesIO(good)).SOPInstanceUID]
    assert "unreadable" in r.json()["00081198"]["Value"][0]["00000902"]["Value"][0]
    assert len(list((data / "instances").rglob("*.dcm"))) == 1


def test_all_refused_is_409_and_other_media_types_415(server: Any) -> None:
    client, tokens, _ = server
    token = tokens.create("a")
    assert stow(client, token, [file("CT_small.dcm").read_bytes()]).status_code == 409
    r = client.post(
        "/dicomweb/studies",
        content=deidentified("CT_small.dcm"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/dicom"},
    )
    assert r.status_code == 415
    r = stow(client, token, [b"{}"], kinds=["application/json"])
    assert r.status_code == 409 and "only application/dicom" in json.dumps(r.json())


def test_size_and_rate_limits(server: Any) -> None:
    client, tokens, _ = server
    small = tokens.create("small", max_request_bytes=10_000)
    r = stow(client, small, [deidentified("CT_small.dcm")])
    assert r.status_code == 413
    slow = tokens.create("slow", per_minute=2)
    assert stow(client, slow, [deidentified("rtplan.dcm")]).status_code == 200
    assert stow(client, slow, [deidentified("rtplan.dcm")]).status_code == 200
    r = stow(client, slow, [deidentified("rtplan.dcm")])
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert "too many requests" in r.json()["error"]


def test_retry_after_is_when_the_token_may_ask_again(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 429's Retry-After counts down to the moment the oldest request leaves the token's minute, so a
    client that honours it is neither refused again nor kept waiting a whole minute."""
    client, tokens, _ = server
    clock = [1000.0]
    monkeypatch.setattr("app.tokens._clock", lambda: clock[0])
    token = tokens.create("slow", per_minute=2)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/dicomweb/studies", headers=auth).status_code == 204
    clock[0] += 40
    assert client.get("/dicomweb/studies", headers=auth).status_code == 204
    clock[0] += 5
    r = client.get("/dicomweb/studies", headers=auth)
    assert r.status_code == 429 and r.headers["retry-after"] == "15"
    clock[0] += 15.5
    assert client.get("/dicomweb/studies", headers=auth).status_code == 204


def test_a_body_over_the_limit_without_a_length_is_stopped_as_it_streams(server: Any) -> None:
    client, tokens, data = server
    small = tokens.create("small", max_request_bytes=100_000)
    body, content_type = related([deidentified("rtplan.dcm"), deidentified("CT_small.dcm")] * 4)
    chunks = (body[i : i + 16_384] for i in range(0, len(body), 16_384))  # chunked: no Content-Length
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {small}"}
    r = client.post("/dicomweb/studies", content=chunks, headers=headers)
    assert r.status_code == 413 and "limit of 100000 bytes" in r.json()["error"]
    assert not list((data / "instances").rglob("*.dcm")), "nothing of a refused request is stored"


def test_duplicates_and_replacements(server: Any) -> None:
    client, tokens, data = server
    a, b = tokens.create("a"), tokens.create("b")
    first = deidentified("CT_small.dcm")
    assert stow(client, a, [first]).status_code == 200
    assert stow(client, a, [first]).status_code == 200  # same bytes: stored once
    assert len(list((data / "instances").rglob("*.dcm"))) == 1
    ds = pydicom.dcmread(io.BytesIO(first))
    ds.PixelData = b"\0" * 64 + ds.PixelData[64:]  # re-redacted
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    changed = buf.getvalue()
    r = stow(client, b, [changed])  # another uploader: refused, nothing replaced
    assert r.status_code == 409 and "another uploader" in json.dumps(r.json())
    assert stow(client, a, [changed]).status_code == 200  # the same uploader: replaced
    (path,) = list((data / "instances").rglob("*.dcm"))
    assert path.read_bytes() == changed


def test_study_in_the_path_must_match(server: Any) -> None:
    client, tokens, _ = server
    token = tokens.create("a")
    r = stow(client, token, [deidentified("CT_small.dcm")], url="/dicomweb/studies/1.2.3")
    assert r.status_code == 409 and "belongs to study" in json.dumps(r.json())


def test_qido_paging_and_uid_filters(server: Any) -> None:
    client, tokens, _ = server
    token = tokens.create("a")
    parts = [deidentified(n) for n in GOOD]
    assert stow(client, token, parts).status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    everything = client.get("/dicomweb/studies", headers=auth).json()
    assert len(everything) == 3
    first = client.get("/dicomweb/studies?limit=2", headers=auth).json()
    rest = client.get("/dicomweb/studies?offset=2&limit=2", headers=auth).json()
    assert first + rest == everything
    assert client.get("/dicomweb/studies?offset=9", headers=auth).status_code == 204
    assert client.get("/dicomweb/studies?limit=x", headers=auth).status_code == 400
    ds = pydicom.dcmread(io.BytesIO(parts[0]))
    one = client.get(f"/dicomweb/studies?StudyInstanceUID={ds.StudyInstanceUID}", headers=auth).json()
    assert [s["0020000D"]["Value"][0] for s in one] == [ds.StudyInstanceUID]
    url = f"/dicomweb/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances"
    hit = client.get(f"{url}?SOPInstanceUID={ds.SOPInstanceUID}", headers=auth).json()
    assert [i["00080018"]["Value"][0] for i in hit] == [ds.SOPInstanceUID]
    assert client.get(f"{url}?SOPInstanceUID=1.2.3", headers=auth).status_code == 204


def test_qido_instances_of_a_study(server: Any) -> None:
    """GET /studies/{study}/instances (PS3.18 10.6, study-level search for instances): every instance of
    the study in one answer, across its series, with its SHA-256 (what a resuming uploader needs in one
    request per study); only the asking token's; the same paging and UID filters as the other levels."""
    client, tokens, _ = server
    token, other = tokens.create("a"), tokens.create("b")
    ct = pydicom.dcmread(io.BytesIO(deidentified("CT_small.dcm")))
    parts = []
    series, sop = ct.SeriesInstanceUID[:-1], ct.SOPInstanceUID[:-1]  # 2.25 UIDs, as the engine writes them
    for number in range(3):  # one study, three series
        ds = copy.deepcopy(ct)
        ds.SeriesInstanceUID = f"{series}{number}"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{sop}{number}"
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        parts.append(buf.getvalue())
    parts.append(deidentified("MR_small.dcm"))  # another study
    assert stow(client, token, parts).status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/dicomweb/studies/{ct.StudyInstanceUID}/instances"
    r = client.get(url, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/dicom+json")
    found = {i["00080018"]["Value"][0]: i for i in r.json()}
    assert sorted(found) == sorted(f"{sop}{n}" for n in range(3)), "this study's only"
    for number, part in enumerate(parts[:3]):
        item = found[f"{sop}{number}"]
        assert item["0020000E"]["Value"] == [f"{series}{number}"]
        assert item["0020000D"]["Value"] == [ct.StudyInstanceUID]
        assert item["00091001"]["Value"] == [hashlib.sha256(part).hexdigest()]
        assert item["00090010"]["Value"] == ["PACSBIN UPLOADER"]
    assert client.get(url, headers={"Authorization": f"Bearer {other}"}).status_code == 204
    assert client.get(url).status_code == 401
    first = client.get(f"{url}?limit=2", headers=auth).json()
    rest = client.get(f"{url}?offset=2&limit=2", headers=auth).json()
    assert first + rest == r.json()
    series_1 = client.get(f"{url}?SeriesInstanceUID={series}1", headers=auth).json()
    assert [i["00080018"]["Value"][0] for i in series_1] == [f"{sop}1"]
    one = client.get(f"{url}?SOPInstanceUID={sop}2", headers=auth).json()
    assert [i["00080018"]["Value"][0] for i in one] == [f"{sop}2"]
