"""The headers the middleware adds by path: DICOMweb answers are never cached (app/headers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.cli import build_app
from app.multipart import related
from app.tokens import Tokens


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html>")
    return TestClient(build_app(dist, tmp_path / "data"))


def _requests(client: TestClient, token: str, busy: str) -> dict[str, object]:
    body, content_type = related([b"not DICOM"])
    auth = {"Authorization": f"Bearer {token}"}
    client.get("/dicomweb/studies", headers={"Authorization": f"Bearer {busy}"})
    return {
        "STOW refused parts (409)": client.post(
            "/dicomweb/studies", content=body, headers={**auth, "Content-Type": content_type}
        ),
        "STOW without a token (401)": client.post(
            "/dicomweb/studies", content=body, headers={"Content-Type": content_type}
        ),
        "STOW of another type (415)": client.post(
            "/dicomweb/studies/1.2", content=b"x", headers={**auth, "Content-Type": "text/plain"}
        ),
        "QIDO empty (204)": client.get("/dicomweb/studies", headers=auth),
        "QIDO series (204)": client.get("/dicomweb/studies/1.2/series", headers=auth),
        "QIDO bad paging (400)": client.get("/dicomweb/studies?limit=x", headers=auth),
        "over the rate (429)": client.get("/dicomweb/studies", headers={"Authorization": f"Bearer {busy}"}),
        "unknown path under dicomweb": client.get("/dicomweb/nothing/here"),
    }


def test_dicomweb_answers_are_never_cached(client: TestClient, tmp_path: Path) -> None:
    """Whatever the outcome (errors too): a cache must not keep a list of a token's instances, nor replay
    a refusal."""
    tokens = Tokens(tmp_path / "data" / "tokens.sqlite")
    answers = _requests(client, tokens.create("t"), tokens.create("busy", per_minute=1))
    statuses = {name: answer.status_code for name, answer in answers.items()}  # type: ignore[attr-defined]
    assert statuses["over the rate (429)"] == 429 and statuses["STOW refused parts (409)"] == 409
    cache = {name: answer.headers.get("cache-control") for name, answer in answers.items()}  # type: ignore[attr-defined]
    assert cache == {name: "no-store" for name in answers}


def test_the_page_keeps_its_own_cache_control(client: TestClient) -> None:
    assert client.get("/").headers["cache-control"] != "no-store"
