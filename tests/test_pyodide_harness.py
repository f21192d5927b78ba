"""The Node-hosted Pyodide harness (tools/pyodide_run.mjs via tests/pyodide_host.py).

Checks that a script run under Pyodide sees Python 3.14, pydicom from the pinned wheel, the repo's
packages and a writable host mount; that pydicom's output there is byte-identical to native; that
exit codes and tracebacks come back; and records the standard-library facts the engine relies on.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pyodide_host import run_in_pyodide

pytestmark = pytest.mark.pyodide

TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"
SAMPLES = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]
NEW_NAME = "Pyodide^Test"

# One Pyodide start (~4-5 s) serves all the checks below: it reports facts and rewrites every file in
# /mnt/in to /mnt/out, the way the lead's byte-identity test handles a whole folder in one process.
PROBE = textwrap.dedent(
    """
    import hashlib, hmac, importlib.util, json, os, sys
    import pydicom

    in_dir, out_dir, new_name = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(os.listdir(in_dir)):
        ds = pydicom.dcmread(os.path.join(in_dir, name))
        ds.PatientName = new_name
        ds.save_as(os.path.join(out_dir, name))

    def origin(mod):
        spec = importlib.util.find_spec(mod)
        return None if spec is None else list(spec.submodule_search_locations or [])

    facts = {
        "argv": sys.argv,
        "name": __name__,
        "version_info": list(sys.version_info[:3]),
        "platform": sys.platform,
        "pydicom_version": pydicom.__version__,
        "pydicom_file": pydicom.__file__,
        "has_pbkdf2_hmac": hasattr(hashlib, "pbkdf2_hmac"),
        "has_scrypt": hasattr(hashlib, "scrypt"),
        "hmac_sha256": hmac.new(b"k", b"m", hashlib.sha256).hexdigest(),
        "anonymizer": origin("anonymizer"),
        "redaction": origin("redaction"),
    }
    with open("/mnt/facts.json", "w") as f:
        json.dump(facts, f)
    print("probe done")
    """
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    mount = tmp_path_factory.mktemp("pyodide_mount")
    (mount / "in").mkdir()
    for name in SAMPLES:
        shutil.copyfile(TEST_FILES / name, mount / "in" / name)
    script = tmp_path_factory.mktemp("pyodide_script") / "probe.py"
    script.write_text(PROBE)
    proc = run_in_pyodide(script, mount, "/mnt/in", "/mnt/out", NEW_NAME)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.stdout == "probe done\n"
    facts = json.loads((mount / "facts.json").read_text())
    return {"mount": mount, "facts": facts, "proc": proc}


def test_output_is_byte_identical_to_native_pydicom(probe: dict[str, Any], tmp_path: Path) -> None:
    mount: Path = probe["mount"]
    for name in SAMPLES:
        ds = pydicom.dcmread(TEST_FILES / name)
        ds.PatientName = NEW_NAME
        native = tmp_path / name
        ds.save_as(native)
        from_pyodide = (mount / "out" / name).read_bytes()
        assert from_pyodide == native.read_bytes(), f"{name}: Pyodide output differs from native"
        assert from_pyodide != (TEST_FILES / name).read_bytes()  # the change really was written


def test_runs_python_314_with_pinned_pydicom_and_repo_packages(probe: dict[str, Any]) -> None:
    facts = probe["facts"]
    assert tuple(facts["version_info"][:2]) == (3, 14)
    assert facts["platform"] == "emscripten"
    assert facts["name"] == "__main__"
    assert facts["argv"] == ["/script/probe.py", "/mnt/in", "/mnt/out", NEW_NAME]
    assert facts["pydicom_version"] == "3.0.2"
    assert facts["pydicom_file"].startswith("/lib/python3.14/site-packages/pydicom/")
    # The repo's packages are copied to /src (whichever exist; anonymizer always does).
    assert facts["anonymizer"] == ["/src/anonymizer"]
    if (Path(__file__).resolve().parent.parent / "redaction").is_dir():
        assert facts["redaction"] == ["/src/redaction"]


def test_stdlib_facts_the_engine_relies_on(probe: dict[str, Any]) -> None:
    """Pyodide 314's hashlib has no pbkdf2_hmac (and no scrypt): OpenSSL's KDFs are not built in.

    So the engine must derive keys itself on top of `hmac` + `hashlib.sha256`, which do exist and
    agree with CPython. If Pyodide ever gains pbkdf2_hmac this test fails, as a reminder that the
    hand-written derivation could then be dropped (check it gives identical keys first).
    """
    facts = probe["facts"]
    assert facts["has_pbkdf2_hmac"] is False
    assert facts["has_scrypt"] is False
    import hashlib
    import hmac

    assert facts["hmac_sha256"] == hmac.new(b"k", b"m", hashlib.sha256).hexdigest()


def test_exception_gives_nonzero_exit_and_traceback(tmp_path: Path) -> None:
    script = tmp_path / "boom.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            print("before the error")
            print("to stderr", file=sys.stderr)

            def explode():
                raise ValueError("boom from pyodide")

            explode()
            """
        )
    )
    proc = run_in_pyodide(script, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "before the error\n"
    assert proc.stderr.startswith("to stderr\nTraceback (most recent call last):\n"), proc.stderr
    assert 'File "/script/boom.py", line 7, in explode' in proc.stderr
    assert proc.stderr.rstrip().endswith("ValueError: boom from pyodide")
    assert "pyodide_run" not in proc.stderr  # the harness's own frames are not shown


def test_system_exit_code_is_passed_through(tmp_path: Path) -> None:
    script = tmp_path / "exit3.py"
    script.write_text("import sys\nsys.exit(3)\n")
    proc = run_in_pyodide(script, tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == ""
