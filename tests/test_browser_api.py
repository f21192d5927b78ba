"""The worker's one Python entry point: JSON in, JSON out, the same engine as the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pydicom
import pytest
from conftest import TEST_KEY
from corpus import PYDICOM_FILES, data_file, file, public_files

from anonymizer.browser_api import handle
from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.reading.study_summary import SUMMARY_KEYWORDS, text_of
from anonymizer.review import needs_pixel_review, risk_flags

SETTINGS = {
    "profile": "basic",
    "options": ["retain-modified-dates", "clean-pixel-data"],
    "key": TEST_KEY.material.hex(),
}


def call(**request: object) -> Any:
    return json.loads(handle(json.dumps(request)))


def test_index_from_a_prefix_or_the_whole_file(tmp_path: Path) -> None:
    data = file("CT_small.dcm").read_bytes()
    (tmp_path / "prefix").write_bytes(data[:6000])
    out = call(cmd="index", path=str(tmp_path / "prefix"), complete=False)
    assert out["status"] == "ok" and out["header"]["Modality"] == "CT"
    (tmp_path / "short").write_bytes(data[:300])
    assert call(cmd="index", path=str(tmp_path / "short"), complete=False)["status"] == "need_more"


def _full_summary(path: Path) -> dict[str, Any] | None:
    """What the list should show, read the slow way: the whole header with pydicom (and the review flags
    the engine would raise on it)."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:
        return None
    summary: dict[str, Any] = {k: text_of(ds.get(k)) for k in SUMMARY_KEYWORDS if k != "SOPClassUID"}
    return summary | {"flags": risk_flags(ds), "pixel_review": needs_pixel_review(ds)}


def _shown(out: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The summary's values; an "incomplete file" flag (test_completeness.py) is not pydicom's to say."""
    flags = [f for f in out.get("flags", []) if not f.startswith("incomplete file")]
    return {k: v for k, v in (out["header"] | out | {"flags": flags}).items() if k in expected}


@pytest.mark.parametrize("path", public_files(), ids=lambda p: p.name)
def test_index_of_any_prefix_is_the_full_header_or_asks_for_more(path: Path, tmp_path: Path) -> None:
    """The fast index (stops after (0028,0301), keeps only the summary's values) never shows anything but
    what a full read shows: each prefix either gives the same summary or asks for the whole file."""
    expected = _full_summary(path)
    data = path.read_bytes()
    whole = call(cmd="index", path=str(path), complete=True)
    if expected is None or whole["status"] != "ok":
        return  # junk and DICOMDIRs: covered below
    assert _shown(whole, expected) == expected
    items = []
    for n, size in enumerate((512, 2048, 6000, 16384)):
        (tmp_path / f"p{n}").write_bytes(data[:size])
        items.append({"path": str(tmp_path / f"p{n}"), "complete": size >= len(data)})
    for out in call(cmd="index_many", items=items)["results"]:
        assert out["status"] in ("ok", "need_more"), out
        if out["status"] == "ok":
            assert _shown(out, expected) == expected


def test_index_many_answers_each_file_alone(tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b"hello")
    items = [
        {"path": str(file("CT_small.dcm")), "complete": True},
        {"path": str(tmp_path / "junk"), "complete": True},
        {"path": str(tmp_path / "missing"), "complete": True},
    ]
    results = call(cmd="index_many", items=items)["results"]
    assert [r["status"] for r in results] == ["ok", "skipped", "error"]


def test_index_skips_junk_and_dicomdir(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert call(cmd="index", path=str(tmp_path / "notes.txt"), complete=True)["status"] == "skipped"
    dicomdir = PYDICOM_FILES / "dicomdirtests" / "DICOMDIR"
    out = call(cmd="index", path=str(dicomdir), complete=True)
    assert out["status"] == "skipped" and "DICOMDIR" in str(out["reason"])


def test_index_flags_risks(tmp_path: Path) -> None:
    out = call(cmd="index", path=str(file("examples_ybr_color.dcm")), complete=True)
    assert any("Burned In Annotation" in f for f in out["flags"])


def test_deidentify_matches_the_engine(tmp_path: Path) -> None:
    out_path = tmp_path / "out.dcm"
    out = call(cmd="deidentify", path=str(file("CT_small.dcm")), out=str(out_path), settings=SETTINGS)
    assert out["status"] == "ok"
    assert out_path.read_bytes() == deidentify(file("CT_small.dcm").read_bytes(), Config(key=TEST_KEY)).data
    assert out["crc32"] == zlib.crc32(out_path.read_bytes())  # the page's zip entry takes it as it is


def test_failures_come_back_as_json(tmp_path: Path) -> None:
    (tmp_path / "cut.dcm").write_bytes(file("CT_small.dcm").read_bytes()[:-100])
    out = call(cmd="deidentify", path=str(tmp_path / "cut.dcm"), out=str(tmp_path / "o"), settings=SETTINGS)
    assert out["status"] == "failed" and str(out["reason"]).startswith("the file is incomplete")
    assert not (tmp_path / "o").exists()
    assert call(cmd="nonsense")["status"] == "error"


def test_plan_describe_and_keys() -> None:
    plan = call(cmd="plan", path=str(file("CT_small.dcm")), settings=SETTINGS)
    assert plan["status"] == "ok" and plan["plan"]["steps"]
    described = call(cmd="describe")
    names = {o["name"] for o in described["options"]}
    assert "retain-safe-private" in names and len(names) == 11
    good = call(cmd="key_check", text=TEST_KEY.to_json())
    assert good == {"status": "ok", "key": TEST_KEY.material.hex()}
    assert call(cmd="key_check", text="{}")["status"] == "failed"


def test_zip_members(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Doe/a.dcm", file("CT_small.dcm").read_bytes())
    (tmp_path / "a.zip").write_bytes(buf.getvalue())
    listing = call(cmd="zip_list", path=str(tmp_path / "a.zip"))
    assert listing["members"] == [{"name": "Doe/a.dcm", "size": file("CT_small.dcm").stat().st_size}]
    call(cmd="zip_extract", path=str(tmp_path / "a.zip"), member="Doe/a.dcm", out=str(tmp_path / "m"))
    assert (tmp_path / "m").read_bytes() == file("CT_small.dcm").read_bytes()


def test_zip_member_prefix(tmp_path: Path) -> None:
    data = file("CT_small.dcm").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.dcm", data)
    call(cmd="zip_extract", path=str(tmp_path / "a.zip"), member="a.dcm", out=str(tmp_path / "p"), limit=1000)
    assert (tmp_path / "p").read_bytes() == data[:1000]


def test_image_gives_layout_suggestions_and_the_frame(tmp_path: Path) -> None:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.SeriesDescription = "Dose Report"  # the CTP library suggests (0,0,512,110) for it
    src = tmp_path / "dose.dcm"
    ds.save_as(src)
    out = call(cmd="image", path=str(src), frame=0, out=str(tmp_path / "frame"))
    assert out["status"] == "ok" and out["image"]["codec"] == "none"
    assert (tmp_path / "frame").read_bytes() == ds.PixelData
    (suggested,) = out["suggested"]
    assert suggested["sop_instance_uid"] == ds.SOPInstanceUID and suggested["source"].startswith(
        "CTP signature"
    )
    assert call(cmd="image", path=str(src), frame=3, out=str(tmp_path / "f"))["status"] == "failed"


def test_codestreams_writes_every_frame(tmp_path: Path) -> None:
    out = call(cmd="codestreams", path=str(file("SC_rgb_rle_2frame.dcm")), out=str(tmp_path))
    assert out["status"] == "ok" and sorted(p.name for p in tmp_path.iterdir()) == ["0", "1"]


def test_regions_check_normalises_or_explains() -> None:
    good = [{"sop_instance_uid": "1.2", "x": 1, "y": 2, "width": 3, "height": 4}]
    out = call(cmd="regions_check", text=json.dumps(good), name="r.json")
    assert out == {"status": "ok", "regions": [{**good[0], "frames": None}]}
    bad = call(cmd="regions_check", text=json.dumps([{"x": 1}]), name="r.json")
    assert bad["status"] == "failed" and "r.json[0]" in bad["reason"]
    assert call(cmd="regions_check", text="{", name="r.json")["status"] == "failed"


def test_deidentify_with_regions_and_decoded_pixels(tmp_path: Path) -> None:
    """The page's path for a compressed file: frames decoded by the page, handed over as one file."""
    from redaction.decoded import native_decode

    src = file("SC_rgb_rle_2frame.dcm")
    ds = pydicom.dcmread(src)
    decoded = native_decode(ds)
    (tmp_path / "decoded").write_bytes(decoded.data)
    pixels = {
        "regions": [{"series_instance_uid": ds.SeriesInstanceUID, "x": 0, "y": 0, "width": 4, "height": 4}],
        "reviewed": False,
        "decoded": {
            "path": str(tmp_path / "decoded"),
            "rows": decoded.rows,
            "columns": decoded.columns,
            "frames": decoded.frames,
            "samples": decoded.samples,
            "bits_allocated": decoded.bits_allocated,
            "bits_stored": decoded.bits_stored,
            "signed": decoded.signed,
            "photometric": decoded.photometric,
        },
    }
    out = call(
        cmd="deidentify", path=str(src), out=str(tmp_path / "out.dcm"), settings=SETTINGS, pixels=pixels
    )
    assert out["status"] == "ok" and "113101" in out["codes"]
    result = pydicom.dcmread(tmp_path / "out.dcm")
    assert result.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"  # RLE stays RLE (issue 16)
    assert (result.pixel_array[:, :4, :4] == 0).all()
    plan = call(cmd="plan", path=str(src), settings=SETTINGS, pixels={**pixels, "decoded": None})
    assert "113101" in plan["plan"]["codes"]


def test_the_viewed_file_is_kept_parsed_between_frames(tmp_path: Path) -> None:
    src = str(data_file("SC_rgb_2frame.dcm"))
    out = str(tmp_path / "frame")
    assert call(cmd="image", key="a", frame=0, out=out)["status"] == "miss"
    assert call(cmd="image", path=src, key="a", frame=0, out=out)["status"] == "ok"
    first = (tmp_path / "frame").read_bytes()
    assert call(cmd="image", key="a", frame=1, out=out)["status"] == "ok"  # no path: from the kept file
    assert (tmp_path / "frame").read_bytes() != first
    assert call(cmd="image", key="b", frame=0, out=out)["status"] == "miss"
    call(cmd="deidentify", path=src, out=str(tmp_path / "o.dcm"), settings=SETTINGS)
    assert call(cmd="image", key="a", frame=0, out=out)["status"] == "miss"  # given back to de-identification


@pytest.mark.parametrize(
    ("name", "syntax"),
    [("MR_small.dcm", "Explicit VR Little Endian"), ("MR_small_RLE.dcm", "RLE Lossless"), (None, "")],
)
def test_digest_is_the_sha256_and_names_the_transfer_syntax(
    name: str | None, syntax: str, tmp_path: Path
) -> None:
    """The page tells versions of one image apart (same SOP Instance UID) by content and shows each one's
    transfer syntax; a file without file meta has no name to give."""
    path = file(name) if name else tmp_path / "raw"
    if not name:
        path.write_bytes(b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100" * 1000)
    out = call(cmd="digest", path=str(path))
    assert out == {
        "status": "ok",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "transfer_syntax": syntax,
    }


def _named_file(tmp_path: Path) -> Path:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.PatientName = "DOE^JOHN"
    ds.PatientID = "MRN-0042137"
    ds.StudyDate = "20240311"
    src = tmp_path / "named.dcm"
    ds.save_as(src)
    return src


def test_text_matches_names_the_attributes_each_text_spells(tmp_path: Path) -> None:
    """The page's header match is the CLI's (anonymizer/text_matches.py): one answer per text, in order,
    with the attributes' names for the viewer ("matches Patient's Name")."""
    src = _named_file(tmp_path)
    texts = ["DOE, JOHN", "ID MRN0042137 11.03.2024", "L 4.2 cm", ""]
    out = call(cmd="text_matches", path=str(src), texts=texts)
    assert out["status"] == "ok"
    assert out["matches"] == [["PatientName"], ["PatientID", "StudyDate"], [], []]
    assert out["names"] == {
        "PatientName": "Patient's Name",
        "PatientID": "Patient ID",
        "StudyDate": "Study Date",
    }


def test_text_matches_of_the_kept_file_or_a_miss(tmp_path: Path) -> None:
    src = str(_named_file(tmp_path))
    assert call(cmd="text_matches", key="k", texts=["DOE"])["status"] == "miss"
    assert (
        call(cmd="image", path=src, key="k", frame=0, out=str(tmp_path / "f"), slot="scan")["status"] == "ok"
    )
    assert call(cmd="text_matches", key="k", texts=["JOHN DOE"])["matches"] == [["PatientName"]]
    bad = call(cmd="text_matches", path=src, texts="DOE")
    assert bad["status"] == "failed" and "list of texts" in bad["reason"]


def test_the_scanner_keeps_its_own_file_beside_the_viewer(tmp_path: Path) -> None:
    """The background text scan steps through another file than the viewer: each keeps its own parsed
    file, so neither makes the other read and parse its file again for every frame."""
    view = str(data_file("SC_rgb_2frame.dcm"))
    scan = str(_named_file(tmp_path))
    out = str(tmp_path / "frame")
    assert call(cmd="image", path=view, key="v", frame=0, out=out)["status"] == "ok"
    assert call(cmd="image", path=scan, key="s", frame=0, out=out, slot="scan")["status"] == "ok"
    assert call(cmd="image", key="v", frame=1, out=out)["status"] == "ok"
    assert call(cmd="image", key="s", frame=0, out=out, slot="scan")["status"] == "ok"
    assert call(cmd="image", key="s", frame=0, out=out)["status"] == "miss"  # slots are apart
    bad = call(cmd="image", path=scan, key="s", frame=0, out=out, slot="other")
    assert bad["status"] == "failed" and "slot" in bad["reason"]
