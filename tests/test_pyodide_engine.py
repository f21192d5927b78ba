"""The engine under Node-hosted Pyodide (Python 3.14, no numpy) gives byte-identical output to native."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import public_files
from pyodide_host import run_in_pyodide

pytestmark = pytest.mark.pyodide
SCRIPT = Path(__file__).with_name("engine_batch.py")
ROOT = Path(__file__).resolve().parent.parent


def _inputs(folder: Path) -> None:
    folder.mkdir()
    for i, path in enumerate(public_files()):
        shutil.copy(path, folder / f"{i:03d}_{path.name}")
    try:
        from synthetic.all_table_rows import all_table_rows_file
        from synthetic.jpeg import jpeg_file
        from synthetic.sr import sr_file

        for name, planted in [("rows", all_table_rows_file(1)), ("sr", sr_file(1)), ("jpeg", jpeg_file(1))]:
            (folder / f"synthetic_{name}.dcm").write_bytes(planted.data)
    except ImportError:
        pass


@pytest.mark.parametrize("profile", ["basic", "pacsbin"])
def test_byte_identical_to_native(tmp_path: Path, profile: str) -> None:
    _inputs(tmp_path / "in")
    native = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "in"), str(tmp_path / "native"), profile],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert native.returncode == 0, native.stderr
    proc = run_in_pyodide(SCRIPT, tmp_path, "/mnt/in", "/mnt/pyodide", profile)
    assert proc.returncode == 0, proc.stderr
    native_files = sorted(p.name for p in (tmp_path / "native").iterdir())
    assert native_files == sorted(p.name for p in (tmp_path / "pyodide").iterdir())
    assert sum(n.endswith(".dcm") for n in native_files) >= 90
    for name in native_files:
        a, b = (tmp_path / "native" / name).read_bytes(), (tmp_path / "pyodide" / name).read_bytes()
        assert a == b, f"{name} differs between native and Pyodide"


def test_an_embedded_overlay_is_cleared_in_the_browser_engine_as_natively(tmp_path: Path) -> None:
    """The page runs this engine: the 550 values' bit 15 is cleared there too, byte for byte as natively."""
    import io
    from datetime import UTC, datetime

    import pydicom
    from conftest import TEST_KEY
    from synthetic.embedded_overlay import embedded_overlay_ct

    from anonymizer.config import Config
    from anonymizer.engine import deidentify

    (tmp_path / "in").mkdir()
    data, written = embedded_overlay_ct()
    (tmp_path / "in" / "overlay.dcm").write_bytes(data)
    proc = run_in_pyodide(SCRIPT, tmp_path, "/mnt/in", "/mnt/pyodide", "basic")
    assert proc.returncode == 0, proc.stderr
    browser = (tmp_path / "pyodide" / "overlay.dcm.dcm").read_bytes()
    out = pydicom.dcmread(io.BytesIO(browser)).PixelData
    assert out == bytes(b & 0x0F if i % 2 else b for i, b in enumerate(written.PixelData))
    assert out != written.PixelData
    # engine_batch.py's key and clock
    config = Config(key=TEST_KEY, clock=lambda: datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC))
    assert browser == deidentify(data, config, path="overlay.dcm").data
