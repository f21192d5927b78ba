"""Outputs stay valid instances of their IOD: dciodvfy (dicom3tools) reports no error on an output that it
did not already report on the input (values that the profile changes are normalised away)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import TEST_KEY
from corpus import public_files

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.errors import DeidentificationError

DCIODVFY = shutil.which("dciodvfy")
pytestmark = pytest.mark.skipif(
    DCIODVFY is None, reason="dciodvfy missing: `python3 build.py test` installs it"
)
FILES = [p for p in public_files() if p.stat().st_size < 3_000_000]
_UID = re.compile(r"\b\d+(\.\d+){2,}\b")
_QUOTED = re.compile(r"<[^<>]*>|\"[^\"]*\"|'[^']*'")


def _errors(path: Path) -> set[str]:
    proc = subprocess.run(
        [DCIODVFY or "dciodvfy", str(path)], capture_output=True, text=True, errors="replace", timeout=60
    )
    lines = (proc.stdout + proc.stderr).splitlines()
    out = set()
    for line in lines:
        if line.startswith("Error"):
            line = _UID.sub("<UID>", line)
            line = re.sub(r"(UID) \S+$", r"\1 <UID>", line)
            out.add(line)
    return out


def _normalise(errors: set[str]) -> set[str]:
    return {_QUOTED.sub("<>", e) for e in errors}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_no_new_dciodvfy_errors(path: Path, tmp_path: Path) -> None:
    try:
        result = deidentify(path.read_bytes(), Config(key=TEST_KEY), path=path.name)
    except DeidentificationError:
        return  # refused files are covered by test_engine / test_reader
    out = tmp_path / "out.dcm"
    out.write_bytes(result.data)
    before, after = _normalise(_errors(path)), _normalise(_errors(out))
    new = sorted(after - before)
    assert not new, "\n".join(new)
