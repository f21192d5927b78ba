"""The command line: batches with bad files go on, outputs are named by new UIDs only, jobs agree."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pydicom
import pytest
from corpus import PYDICOM_FILES, file

from anonymizer.cli import main
from anonymizer.found_text import models_missing

ROOT = Path(__file__).resolve().parent.parent
PATIENT_FOLDER = "Doe^Jane 19700101 MRN12345"
GOOD = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "test-SR.dcm"]


def _batch(tmp_path: Path) -> Path:
    src = tmp_path / PATIENT_FOLDER / "deeper" / "still deeper"
    src.mkdir(parents=True)
    for name in GOOD:
        (src / f"{PATIENT_FOLDER} {name}").write_bytes(file(name).read_bytes())
    (src / "notes.txt").write_text("Jane Doe's scans")
    (src / "truncated.dcm").write_bytes(file("CT_small.dcm").read_bytes()[:-1000])
    (src / "DICOMDIR").write_bytes((PYDICOM_FILES / "dicomdirtests" / "DICOMDIR").read_bytes())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Doe Jane/a.dcm", file("rtdose.dcm").read_bytes())
        z.writestr("Doe Jane/readme.md", "hello")
    (tmp_path / PATIENT_FOLDER / "archive.zip").write_bytes(buf.getvalue())
    return tmp_path / PATIENT_FOLDER


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anonymizer", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_batch_goes_on_and_reports(tmp_path: Path) -> None:
    src = _batch(tmp_path)
    out = tmp_path / "out"
    proc = _run(str(src), "-o", str(out), "--secret", "test passphrase")
    assert proc.returncode == 1, proc.stderr  # the truncated file failed
    assert "6 de-identified, 3 skipped, 1 failed" in proc.stderr
    assert "failed:" in proc.stderr and "truncated.dcm: the file is incomplete" in proc.stderr
    assert "DICOMDIR" in proc.stderr and "notes.txt" in proc.stderr
    written = sorted(out.rglob("*.dcm"))
    assert len(written) == 6
    for path in written:
        rel = path.relative_to(out)
        assert len(rel.parts) == 3 and all(part.startswith("2.25.") for part in rel.parts), rel
        ds = pydicom.dcmread(path)
        assert ds.PatientIdentityRemoved == "YES" and path.stem == ds.SOPInstanceUID
    names = " ".join(str(p) for p in out.rglob("*"))
    for fragment in ("Doe", "Jane", "MRN12345", "19700101"):
        assert fragment not in names


def test_jobs_give_identical_output(tmp_path: Path) -> None:
    src = _batch(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    _run(str(src), "-o", str(one), "--secret", "k")
    _run(str(src), "-o", str(two), "--secret", "k", "--jobs", "2")
    files_one = {p.relative_to(one): p.read_bytes() for p in one.rglob("*.dcm")}
    files_two = {p.relative_to(two): p.read_bytes() for p in two.rglob("*.dcm")}
    assert files_one == files_two and len(files_one) == 6


def test_what_if_prints_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(file("CT_small.dcm")), "--what-if", "--secret", "k"]) == 0
    text = capsys.readouterr().out
    assert "(0010,0010)" in text and "pseudonym" in text and "E.1-1" in text
    assert "changed" in text and "removed" in text
    assert main([str(file("CT_small.dcm")), "--what-if", "--json", "--secret", "k"]) == 0
    plan = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert plan["codes"] == ["113100", "113107"] and plan["steps"]


def test_generated_key_not_in_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    key = tmp_path / "keys" / "key.json"
    proc = _run(str(file("CT_small.dcm")), "-o", str(out), "--secret-file", str(key))
    assert proc.returncode == 0 and key.exists() and "generated a new secret key" in proc.stderr
    first = next(out.rglob("*.dcm")).read_bytes()
    proc = _run(str(file("CT_small.dcm")), "-o", str(tmp_path / "again"), "--secret-file", str(key))
    assert next((tmp_path / "again").rglob("*.dcm")).read_bytes() == first
    inside = out / "key.json"
    proc = _run(str(file("CT_small.dcm")), "-o", str(out), "--secret-file", str(inside))
    assert proc.returncode != 0 and "refusing" in proc.stderr and not inside.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--option", "nonsense"], "unknown option"),
        (["--option", "retain-full-dates", "--option", "retain-modified-dates"], "cannot be combined"),
        (["--profile", "/nonexistent/script.json"], "cannot load profile"),
    ],
)
def test_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    proc = _run(str(file("CT_small.dcm")), "-o", str(tmp_path), "--secret", "k", *args)
    assert proc.returncode != 0 and message in proc.stderr


def test_pacsbin_profile_warns(tmp_path: Path) -> None:
    proc = _run(str(file("CT_small.dcm")), "-o", str(tmp_path), "--secret", "k", "--profile", "pacsbin")
    assert proc.returncode == 0 and "unkeyed MD5" in proc.stderr
    ds = pydicom.dcmread(next(tmp_path.rglob("*.dcm")))
    assert ds.SOPInstanceUID.startswith("1613192914.") and str(ds.DeidentificationMethod).startswith(
        "Pacsbin"
    )


def test_missing_input(tmp_path: Path) -> None:
    proc = _run(str(tmp_path / "nope"), "-o", str(tmp_path / "o"), "--secret", "k")
    assert proc.returncode == 1 and "no such file" in proc.stderr


def _malformed(good: bytes) -> dict[str, bytes]:
    """Broken variants of one file: each must be refused with its reason, none may stop the batch."""
    cut_pixels = good[: len(good) - 3000]
    bad_length = bytearray(good)
    at = bad_length.find(b"\x10\x00\x10\x00PN")  # Patient's Name: claim far more bytes than exist
    bad_length[at + 6 : at + 8] = b"\xff\x7f"
    bad_ts = good.replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.99999.9.9\x00", 1)
    return {
        "truncated_in_pixels.dcm": cut_pixels,
        "truncated_in_header.dcm": good[:700],
        "truncated_in_meta.dcm": good[:150],
        "length_past_end.dcm": bytes(bad_length),
        "bad_transfer_syntax.dcm": bad_ts,
        "empty.dcm": b"",
        "random.bin": bytes(range(256)) * 40,
        "preamble_only.dcm": b"\x00" * 128 + b"DICM",
    }


def test_malformed_inputs_never_stop_the_batch(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    good = file("CT_small.dcm").read_bytes()
    for name, data in _malformed(good).items():
        (src / name).write_bytes(data)
    for name in GOOD:
        (src / name).write_bytes(file(name).read_bytes())
    out = tmp_path / "out"
    proc = _run(str(src), "-o", str(out), "--secret", "k", "--jobs", "2")
    assert proc.returncode == 1
    assert f"{len(GOOD)} de-identified" in proc.stderr, proc.stderr
    assert len(list(out.rglob("*.dcm"))) == len(GOOD)
    for name in (
        "truncated_in_pixels",
        "truncated_in_header",
        "truncated_in_meta",
        "length_past_end",
        "bad_transfer_syntax",
    ):
        line = next(x for x in proc.stderr.splitlines() if f"{name}.dcm" in x)
        assert line.startswith("failed:") and len(line.split(": ", 2)[2]) > 10, line
    for name in ("empty.dcm", "random.bin"):
        assert any(x.startswith("skipped:") and name in x for x in proc.stderr.splitlines()), proc.stderr
    assert not list(out.rglob("*.tmp"))


def _sop(name: str) -> tuple[str, str]:
    ds = pydicom.dcmread(file(name), stop_before_pixels=True)
    return str(ds.SOPInstanceUID), str(ds.SeriesInstanceUID)


def test_redact_regions_file(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm", "SC_rgb_rle_2frame.dcm"):
        (src / name).write_bytes(file(name).read_bytes())
    ct_sop, _ = _sop("CT_small.dcm")
    _, rle_series = _sop("SC_rgb_rle_2frame.dcm")
    regions = [
        {"sop_instance_uid": ct_sop, "frames": None, "x": 0, "y": 0, "width": 10, "height": 4},
        {"series_instance_uid": rle_series, "frames": [2], "x": 5, "y": 5, "width": 3, "height": 3},
    ]
    (tmp_path / "regions.json").write_text(json.dumps(regions))
    out = tmp_path / "out"
    proc = _run(str(src), "-o", str(out), "--secret", "k", "--redact", str(tmp_path / "regions.json"))
    assert proc.returncode == 0, proc.stderr
    by_modality = {pydicom.dcmread(p).Modality: pydicom.dcmread(p) for p in out.rglob("*.dcm")}
    ct, mr, sc = by_modality["CT"], by_modality["MR"], by_modality["OT"]
    codes = {
        m: [str(i.CodeValue) for i in ds.DeidentificationMethodCodeSequence] for m, ds in by_modality.items()
    }
    assert "113101" in codes["CT"] and ct.BurnedInAnnotation == "NO"
    assert (ct.pixel_array[:4, :10] == -(1 << (ct.BitsStored - 1))).all()  # signed: the lowest value
    assert "113101" not in codes["MR"] and mr.get("BurnedInAnnotation") != "NO"  # nobody looked at it
    assert "113101" in codes["OT"] and sc.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"  # stays RLE
    frames = sc.pixel_array
    assert (frames[1, 5:8, 5:8] == 0).all() and not (frames[0, 5:8, 5:8] == 0).all()


@pytest.mark.parametrize(
    ("content", "message"),
    [('[{"x": 1}]', "exactly one of"), ("not json", "not JSON")],
)
def test_bad_regions_file_stops_before_anything_is_written(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "r.json").write_text(content)
    with pytest.raises(SystemExit, match=message):
        main(
            [
                str(file("CT_small.dcm")),
                "-o",
                str(tmp_path / "out"),
                "--secret",
                "k",
                "--redact",
                str(tmp_path / "r.json"),
            ]
        )
    assert not (tmp_path / "out").exists()


def test_redact_signatures_applies_the_library(tmp_path: Path) -> None:
    ds = pydicom.dcmread(file("CT_small.dcm"))
    ds.SeriesDescription = "Dose Report"  # CTP: GE CT dose series, (0,0,512,110)
    src = tmp_path / "dose.dcm"
    ds.save_as(src)
    out = tmp_path / "out"
    proc = _run(str(src), "-o", str(out), "--secret", "k", "--redact-signatures")
    assert proc.returncode == 0, proc.stderr
    (written,) = out.rglob("*.dcm")
    result = pydicom.dcmread(written)
    lowest = -(1 << (result.BitsStored - 1))
    assert (result.pixel_array[:110, :] == lowest).all() and result.BurnedInAnnotation == "NO"


# ---------------------------------------------------------------------------------------- duplicates
def _out_files(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_identical_inputs_are_written_once_and_reported(tmp_path: Path, jobs: str) -> None:
    src = tmp_path / "in"
    (src / "again").mkdir(parents=True)
    data = file("CT_small.dcm").read_bytes()
    (src / "a.dcm").write_bytes(data)
    (src / "again" / "b.dcm").write_bytes(data)
    (src / "c.dcm").write_bytes(file("MR_small.dcm").read_bytes())
    out = tmp_path / "out"
    proc = _run(str(src), "-o", str(out), "--secret", "k", "--jobs", jobs)
    assert proc.returncode == 0, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if "b.dcm" in x]
    assert line == f"duplicate: {src / 'again' / 'b.dcm'}: duplicate of {src / 'a.dcm'} (written once)"
    assert "2 de-identified, 0 skipped, 0 failed; 1 duplicate (written once)" in proc.stderr, proc.stderr
    assert len(_out_files(out)) == 2


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_one_sop_instance_uid_with_different_content_is_a_conflict(tmp_path: Path, jobs: str) -> None:
    """MR_small*: one SOP Instance UID, different transfer syntaxes. The first (input order) is written."""
    src = tmp_path / "in"
    src.mkdir()
    names = ["MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm"]
    for name in names:
        (src / name).write_bytes(file(name).read_bytes())
    (src / "z_ct.dcm").write_bytes(file("CT_small.dcm").read_bytes())
    out = tmp_path / "out"
    proc = _run(str(src), "-o", str(out), "--secret", "k", "--jobs", jobs)
    assert proc.returncode == 3, proc.stderr  # not all written, yet nothing failed
    conflicts = [x for x in proc.stderr.splitlines() if x.startswith("conflict: ")]
    assert len(conflicts) == 2
    for name, line in zip(names[1:], conflicts, strict=True):
        assert line.startswith(f"conflict: {src / name}: ") and str(src / "MR_small.dcm") in line, line
        assert "was written, this one was not" in line
    assert "2 de-identified, 0 skipped, 0 failed; 2 conflicts (not written)" in proc.stderr, proc.stderr
    alone = tmp_path / "alone"
    _run(str(src / "MR_small.dcm"), "-o", str(alone), "--secret", "k")
    written = _out_files(out)
    assert len(written) == 2 and all(written[k] == v for k, v in _out_files(alone).items())
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*"))


def test_a_different_file_already_in_the_output_folder_is_a_conflict(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _run(str(file("MR_small.dcm")), "-o", str(out), "--secret", "k").returncode == 0
    before = _out_files(out)
    proc = _run(str(file("MR_small_bigendian.dcm")), "-o", str(out), "--secret", "k")
    assert proc.returncode == 3 and "already in the output folder" in proc.stderr, proc.stderr
    assert _out_files(out) == before
    again = _run(str(file("MR_small.dcm")), "-o", str(out), "--secret", "k")  # the same again: fine
    assert again.returncode == 0 and "1 de-identified" in again.stderr


# ---------------------------------------------------------------------------------------- burned-in text
def _text_inputs(tmp_path: Path) -> tuple[Path, str]:
    """A CT with a name, ID and date burned in, a clean image with strong edges, a report without pixels,
    compressed pixels that cannot be decoded, and a truncated file."""
    from text_images import LABELS_CT, ct_picture, dicom_file, draw, edges_picture

    src = tmp_path / "in"
    src.mkdir()
    mask, _ = draw((480, 640), LABELS_CT)
    img = ct_picture()
    img[mask] = 4095
    ct = dicom_file(img, photometric="MONOCHROME2", bits_stored=12)
    (src / "ct.dcm").write_bytes(ct)
    (src / "edges.dcm").write_bytes(dicom_file(edges_picture(), photometric="MONOCHROME2", bits_stored=12))
    (src / "report.dcm").write_bytes(file("test-SR.dcm").read_bytes())
    broken = pydicom.dcmread(file("JPEG2000.dcm"))
    broken.PixelData = pydicom.encaps.encapsulate([b"\xff\x4f\xff\x51" + b"\0" * 400])
    broken.save_as(src / "broken.dcm")
    (src / "truncated.dcm").write_bytes(ct[:-5000])
    return src, str(pydicom.dcmread(src / "ct.dcm", stop_before_pixels=True).SOPInstanceUID)


needs_text_finder = pytest.mark.skipif(
    models_missing() is not None,
    reason="the text finder's models are not fetched (python3 tools/fetch_models.py)",
)


@needs_text_finder
def test_find_text_writes_regions_and_no_dicom(tmp_path: Path) -> None:
    src, ct_sop = _text_inputs(tmp_path)
    regions_file = tmp_path / "found.json"
    proc = _run(str(src), "--find-text", str(regions_file))
    assert proc.returncode == 1, proc.stderr  # the truncated and the undecodable files failed
    assert "failed: " in proc.stderr and "truncated.dcm" in proc.stderr and "broken.dcm" in proc.stderr
    assert "3 text region(s) in 1 of 2 image(s)" in proc.stderr, proc.stderr
    found = json.loads(regions_file.read_text())
    assert {r["sop_instance_uid"] for r in found} == {ct_sop}
    assert all(r["frames"] == [1] for r in found)
    by_match = {m: r["text"] for r in found for m in r["matches"]}
    assert by_match["PatientName"] == "DOE, JOHN" and by_match["PatientID"] == "ID 12345678"
    assert "StudyDate" in by_match
    assert not list(tmp_path.rglob("*.dcm"))[5:]  # only the five inputs: nothing written


@needs_text_finder
def test_found_regions_redact_as_redact_found_text_does(tmp_path: Path) -> None:
    src, _ = _text_inputs(tmp_path)
    regions_file = tmp_path / "found.json"
    _run(str(src), "--find-text", str(regions_file))
    one, two = tmp_path / "one", tmp_path / "two"
    by_file = _run(str(src), "-o", str(one), "--secret", "k", "--redact", str(regions_file))
    at_once = _run(str(src), "-o", str(two), "--secret", "k", "--redact-found-text")
    # The file whose pixels cannot be looked at is not written by --redact-found-text (fail closed).
    assert "broken.dcm: not written: the pixels could not be looked at" in at_once.stderr
    assert "3 de-identified" in at_once.stderr and at_once.returncode == 1, at_once.stderr
    assert "text blacked out: " in at_once.stderr and "'DOE, JOHN' matches PatientName" in at_once.stderr
    files_one = {p.relative_to(one): p.read_bytes() for p in one.rglob("*.dcm")}
    files_two = {p.relative_to(two): p.read_bytes() for p in two.rglob("*.dcm")}
    assert by_file.returncode == 1 and len(files_two) == 3  # the CT, the edges and the report
    assert files_one == files_two  # the same pixels, the same header
    from text_images import LABELS_CT, draw

    images = [ds for ds in map(pydicom.dcmread, two.rglob("*.dcm")) if "PixelData" in ds]
    (ct,) = [ds for ds in images if ds.get("BurnedInAnnotation") == "NO"]  # the edges image: no claim
    assert "113101" in [str(i.CodeValue) for i in ct.DeidentificationMethodCodeSequence]
    mask, _ = draw((480, 640), LABELS_CT)
    assert ct.pixel_array[mask].max() == 0  # every pixel of the text is black
