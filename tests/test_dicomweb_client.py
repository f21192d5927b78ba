"""Interoperability: the PyPI `dicomweb-client` (a standard DICOMweb client) stores into our server over real
HTTP and reads QIDO-RS back."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
from conftest import TEST_KEY
from corpus import file
from dicomweb_client.api import DICOMwebClient

from anonymizer.config import Config
from anonymizer.engine import deidentify
from app.launch import start_server_process
from app.tokens import Tokens


def test_dicomweb_client_stores_and_searches(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>t</title>")
    data = tmp_path / "data"
    token = Tokens(data / "tokens.sqlite").create("dicomweb-client")
    url, stop = start_server_process(dist, data=data)
    try:
        client = DICOMwebClient(url=f"{url}/dicomweb", headers={"Authorization": f"Bearer {token}"})
        datasets = [
            pydicom.dcmread(io.BytesIO(deidentify(file(n).read_bytes(), Config(key=TEST_KEY)).data))
            for n in ("CT_small.dcm", "MR_small.dcm")
        ]
        response = client.store_instances(datasets)
        stored = [str(item.ReferencedSOPInstanceUID) for item in response.ReferencedSOPSequence]
        assert sorted(stored) == sorted(str(ds.SOPInstanceUID) for ds in datasets)
        studies = client.search_for_studies()
        assert {s["0020000D"]["Value"][0] for s in studies} == {str(ds.StudyInstanceUID) for ds in datasets}
        ds = datasets[0]
        series = client.search_for_series(str(ds.StudyInstanceUID))
        assert series[0]["0020000E"]["Value"][0] == str(ds.SeriesInstanceUID)
        instances = client.search_for_instances(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID))
        assert instances[0]["00080018"]["Value"][0] == str(ds.SOPInstanceUID)
    finally:
        stop()
