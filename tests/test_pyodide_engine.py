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
