"""A value whose VR does not fit its attribute (Patient ID encoded as US): a one-line refusal that says what
it means first, then which element, everywhere the engine answers (engine, the page's worker, the CLI);
never a traceback. Mismatches of the same kind (text as other text) still go through."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from corpus import file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from anonymizer.browser_api import handle
from anonymizer.config import Config
from anonymizer.engine import deidentify, plan_bytes
from anonymizer.errors import UnsupportedError

ROOT = Path(__file__).resolve().parent.parent


def _file(tag: int, vr: str, value: object) -> bytes:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.StudyInstanceUID = "1.2.3.4"
    ds.SeriesInstanceUID = "1.2.3.4.6"
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-1"
    ds.add_new(tag, vr, value)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out, implicit_vr=False, little_endian=True)
    return out.getvalue()


PATIENT_ID_AS_US = _file(0x00100020, "US", 1234)


def _one_line_reason(reason: str) -> None:
    assert "\n" not in reason and "Traceback" not in reason, reason
    assert reason.startswith("a value has the wrong type for its attribute"), reason
    assert "Patient ID (0010,0020)" in reason and "US" in reason and "LO" in reason, reason
    assert len(reason) < 300, reason


@pytest.mark.parametrize("run", [deidentify, plan_bytes], ids=["deidentify", "plan"])
def test_engine_refuses_in_one_line(config: Config, run: object) -> None:
    with pytest.raises(UnsupportedError) as info:
        run(PATIENT_ID_AS_US, config, path="weird.dcm")  # type: ignore[operator]
    _one_line_reason(info.value.reason)
    assert info.value.path == "weird.dcm"


@pytest.mark.parametrize(
    ("tag", "vr", "value"),
    [
        (0x00100010, "US", 7),  # Patient's Name as a number: its pseudonym cannot be written
        (0x00080020, "UL", 20240101),  # Study Date as a number: cannot be shifted, was kept as it is
    ],
    ids=["name-US", "studydate-UL"],
)
def test_other_identifying_values_of_the_wrong_kind_are_refused(
    config: Config, tag: int, vr: str, value: object
) -> None:
    data = _file(tag, vr, value)
    with pytest.raises(UnsupportedError) as info:
        deidentify(data, config)
    assert "\n" not in info.value.reason and info.value.reason.startswith("a value has the wrong type")


def test_a_value_of_the_wrong_kind_that_is_emptied_goes_through(config: Config) -> None:
    """Patient's Birth Date as FL: the profile empties it (Z) whatever it holds; nothing to refuse."""
    result = deidentify(_file(0x00100030, "FL", 1.5), config)
    [step] = [s for s in result.plan.steps() if s.tag == 0x00100030]
    assert step.action == "Z"
    assert pydicom.dcmread(io.BytesIO(result.data))["PatientBirthDate"].value in (None, b"", [])


def test_text_written_as_other_text_still_goes_through(config: Config) -> None:
    """Patient ID as SH (vendors do this): same kind of value, the pseudonym fits; not refused."""
    result = deidentify(_file(0x00100020, "SH", "MRN-2"), config)
    assert b"MRN-2" not in result.data


def test_worker_answers_failed_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "weird.dcm"
    path.write_bytes(PATIENT_ID_AS_US)
    settings = {"profile": "basic", "options": ["retain-modified-dates"], "key": "00" * 32}
    for cmd in ("deidentify", "plan"):
        out = json.loads(
            handle(
                json.dumps(
                    {"cmd": cmd, "path": str(path), "out": str(tmp_path / "o"), "settings": settings}
                )
            )
        )
        assert out["status"] == "failed" and "trace" not in out, out
        _one_line_reason(out["reason"])


def test_cli_reports_one_line_and_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "weird.dcm").write_bytes(PATIENT_ID_AS_US)
    (src / "good.dcm").write_bytes(file("CT_small.dcm").read_bytes())
    proc = subprocess.run(
        [sys.executable, "-m", "anonymizer", str(src), "-o", str(tmp_path / "out"), "--secret", "k"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if "weird.dcm" in x]
    assert line.startswith("failed: ") and "a value has the wrong type" in line
    assert "1 de-identified" in proc.stderr and len(list((tmp_path / "out").rglob("*.dcm"))) == 1
    assert pydicom.dcmread(next((tmp_path / "out").rglob("*.dcm"))).Modality == "CT"
