"""The browser build (tools/build_dist.py): layout, lock hashes, .pyc-only archives, determinism, and a
Node smoke test of the result (tools/check_dist.mjs: boots Pyodide from the built dist/ offline, loads
"pacsbin-uploader" + pydicom through the lock, and de-identifies CT_small.dcm byte-identically to native).

The build goes to a temporary directory; the .pyc compile step is cached in <repo>/build/pyc-cache, so
only the first run on a machine pays for it (~10 s).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from pyodide_host import REPO_ROOT, ensure_pyodide_setup

pytestmark = pytest.mark.pyodide

CHECK_DIST = REPO_ROOT / "tools" / "check_dist.mjs"
OUR_PACKAGES = {"pydicom": [], "pacsbin-uploader": ["pydicom"]}


def _load_build_dist() -> ModuleType:
    path = REPO_ROOT / "tools" / "build_dist.py"
    spec = importlib.util.spec_from_file_location("_pacsbin_build_dist", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build_dist_mod = _load_build_dist()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def node() -> str:
    return ensure_pyodide_setup()


@pytest.fixture(scope="module")
def dist(node: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist-a") / "dist"
    return Path(build_dist_mod.build_dist(REPO_ROOT, Path(sys.executable), out, node=node))


def test_layout(dist: Path) -> None:
    for name in ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm"):
        stock = REPO_ROOT / "node_modules" / "pyodide" / name
        assert (dist / "pyodide" / name).read_bytes() == stock.read_bytes()
    assert sorted(p.name for p in (dist / "wheels").iterdir()) == [
        "pacsbin_uploader-0.1.0-py3-none-any.whl",
        "pydicom-3.0.2-py3-none-any.whl",
    ]
    static = REPO_ROOT / "static"
    if static.is_dir():
        for p in static.rglob("*"):
            rel = p.relative_to(static)
            if rel.name in build_dist_mod.BUNDLED_SOURCES:
                assert not (dist / rel).exists(), f"{rel} is bundled, not copied"
            elif p.is_file() and not any(part.startswith(".") for part in rel.parts):
                assert (dist / rel).read_bytes() == p.read_bytes(), rel
    # The pixel decoders: one ES module bundled by esbuild, and the wasm it locates in codecs/.
    bundle = (dist / "codecs.js").read_text()
    assert re.search(r"export\{[^}]*\bas decodeFrame\b", bundle), "an ES module exporting decodeFrame"
    assert not re.search(r"https?://", bundle), "no URL to load anything from"
    assert sorted(p.name for p in (dist / "codecs").iterdir() if p.suffix != ".gz") == [
        "charlswasm.wasm",
        "charlswasm_decode.wasm",
        "libjpegturbowasm_decode.wasm",
        "openjpegwasm_decode.wasm",
    ]


def test_text_finder_files(dist: Path) -> None:
    """dist/text/: onnxruntime-web's wasm backend only (no jsep/jspi/asyncify, no WebGL/WebGPU), and the
    derived fp16 models with their pinned sha256, not the registry's float32 files."""
    ort_dist = REPO_ROOT / "node_modules" / "onnxruntime-web" / "dist"
    ort = {p.name for p in (dist / "text" / "ort").iterdir() if not p.name.endswith(".gz")}
    assert ort == {"ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"}
    for name in ort:
        assert (dist / "text" / "ort" / name).read_bytes() == (ort_dist / name).read_bytes()
    lock = json.loads((REPO_ROOT / "tools" / "models.lock.json").read_text())
    models = {p.name: _sha256(p) for p in (dist / "text" / "models").iterdir() if not p.name.endswith(".gz")}
    want = {name: d["sha256"] for name, d in lock["derived"].items()}
    want["ppocr_keys_v1.txt"] = lock["packages"][0]["files"]["package/assets/ppocr_keys_v1.txt"]["sha256"]
    assert models == want
    worker = (dist / "text_worker.mjs").read_text()
    assert not re.search(r"https?://", worker), "nothing from a CDN"
    assert "ort.env.wasm.wasmPaths" in worker


def test_gzip_forms(dist: Path) -> None:
    """X.gz beside the large files (the same bytes every build: no name, mtime 0) inflating to X."""
    import gzip

    gz = {p.relative_to(dist).as_posix()[:-3] for p in dist.rglob("*.gz")}
    assert {
        "text/ort/ort-wasm-simd-threaded.wasm",
        "text/models/ch_PP-OCRv4_det_infer.fp16.onnx",
        "text/models/ch_PP-OCRv4_rec_infer.fp16.onnx",
        "pyodide/pyodide.asm.wasm",
        "pyodide/pyodide.asm.mjs",
    } <= gz
    assert "pyodide/python_stdlib.zip" not in gz  # already deflated
    for rel in gz:
        packed = (dist / f"{rel}.gz").read_bytes()
        assert packed[4:8] == bytes(4) and not packed[3] & 0x08, f"{rel}.gz: mtime 0, no file name"
        assert gzip.decompress(packed) == (dist / rel).read_bytes(), rel


def test_lock_entries_match_the_served_files(dist: Path) -> None:
    stock = json.loads((REPO_ROOT / "node_modules" / "pyodide" / "pyodide-lock.json").read_text())
    lock = json.loads((dist / "pyodide" / "pyodide-lock.json").read_text())
    assert lock["info"] == stock["info"]
    assert set(lock["packages"]) == set(stock["packages"]) | set(OUR_PACKAGES)
    for key, entry in stock["packages"].items():
        assert lock["packages"][key] == entry
    for key, depends in OUR_PACKAGES.items():
        entry = lock["packages"][key]
        file = (dist / "pyodide" / entry["file_name"]).resolve()
        assert file.parent == (dist / "wheels").resolve()
        assert entry["sha256"] == _sha256(file), key  # the browser rejects a wrong hash
        assert entry["depends"] == depends
        assert entry["install_dir"] == "site" and entry["package_type"] == "package"
        assert entry["unvendored_tests"] is False and entry["shared_library"] is False
    assert lock["packages"]["pacsbin-uploader"]["imports"] == ["anonymizer", "redaction"]
    assert lock["packages"]["pydicom"]["imports"] == ["pydicom"]


def _check_pycs(z: zipfile.ZipFile, magic: bytes) -> int:
    names = z.namelist()
    assert not [n for n in names if n.endswith(".py")], "source files left"
    pycs = [n for n in names if n.endswith(".pyc")]
    for n in pycs:
        head = z.read(n)[:8]
        assert head[:4] == magic, n
        assert int.from_bytes(head[4:8], "little") == 0b01, n  # hash-based, unchecked
    assert not [n for n in names if "__pycache__" in n]
    return len(pycs)


def _check_record(z: zipfile.ZipFile) -> None:
    records = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
    assert len(records) == 1
    assert z.namelist()[-1] == records[0]
    listed = {}
    for line in z.read(records[0]).decode().splitlines():
        name, digest, size = line.rsplit(",", 2)
        listed[name] = (digest, size)
    assert set(listed) == set(z.namelist())
    for name, (digest, size) in listed.items():
        if name == records[0]:
            assert (digest, size) == ("", "")
            continue
        data = z.read(name)
        assert (
            digest
            == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        )
        assert int(size) == len(data)


def test_archives_are_pyc_only(dist: Path) -> None:
    info = json.loads((dist / "build-info.json").read_text())
    magic = bytes.fromhex(info["pyc_magic"])
    with zipfile.ZipFile(dist / "pyodide" / "python_stdlib.zip") as z:
        assert _check_pycs(z, magic) > 500
        assert "json/__init__.pyc" in z.namelist()
    with zipfile.ZipFile(dist / "wheels" / "pydicom-3.0.2-py3-none-any.whl") as z:
        assert _check_pycs(z, magic) > 70
        assert not [n for n in z.namelist() if n.startswith("pydicom/data/test_files/")]
        _check_record(z)
    with zipfile.ZipFile(dist / "wheels" / "pacsbin_uploader-0.1.0-py3-none-any.whl") as z:
        names = z.namelist()
        assert _check_pycs(z, magic) > 10
        assert {n.split("/")[0] for n in names} == {
            "anonymizer",
            "redaction",
            "pacsbin_uploader-0.1.0.dist-info",
        }
        # The native text finder (numpy, onnxruntime) is never shipped to the browser.
        assert not [n for n in names if n.startswith("redaction/text_finder/")]
        assert "redaction/regions.pyc" in names
        for data in (REPO_ROOT / "anonymizer" / "data").iterdir():
            if data.suffix in {".csv", ".json", ".md"}:
                assert f"anonymizer/data/{data.name}" in names
        assert z.read("pacsbin_uploader-0.1.0.dist-info/top_level.txt").split() == [
            b"anonymizer",
            b"redaction",
        ]
        _check_record(z)
    for archive in (dist / "pyodide" / "python_stdlib.zip", *sorted((dist / "wheels").iterdir())):
        with zipfile.ZipFile(archive) as z:
            assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_build_info_lists_every_file(dist: Path) -> None:
    info = json.loads((dist / "build-info.json").read_text())
    assert info["pyodide"] == "314.0.7"
    assert info["python"].startswith("3.14.")
    on_disk = {p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file()} - {"build-info.json"}
    assert set(info["files"]) == on_disk
    for rel, meta in info["files"].items():
        assert meta["sha256"] == _sha256(dist / rel), rel
        assert meta["size"] == (dist / rel).stat().st_size


def test_check_dist_smoke(dist: Path, node: str) -> None:
    proc = subprocess.run(
        [node, str(CHECK_DIST), "--dist", str(dist), "--python", sys.executable, "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"], report["problems"]
    assert report["pyodide"]["printed"][0] == "3.0.2"
    assert report["pyodide"]["facts"]["sha256"] == report["native"]["sha256"]
    assert set(report["pyodide"]["loaded"]) == {"pydicom", "pacsbin-uploader"}
    print(
        f"boot {report['pyodide']['boot_ms']} ms, import {report['pyodide']['facts']['import_ms']} ms, "
        f"first de-identification {report['pyodide']['facts']['deidentify_ms']} ms"
    )


def test_rebuild_is_cached_and_byte_identical(
    dist: Path, node: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs: list[str] = []
    again = build_dist_mod.build_dist(
        REPO_ROOT, Path(sys.executable), tmp_path / "dist", node=node, log=logs.append
    )
    assert sum(line.startswith("cached: ") for line in logs) == 3, logs
    assert not [line for line in logs if "compiled" in line and "under Node" in line], logs
    first = json.loads((dist / "build-info.json").read_text())
    second = json.loads((again / "build-info.json").read_text())
    first.pop("built_at")
    second.pop("built_at")
    assert first == second
    for rel in first["files"]:
        assert (dist / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_missing_pyodide_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    with pytest.raises(build_dist_mod.BuildError, match="npm ci"):
        build_dist_mod.build_dist(tmp_path, Path(sys.executable), tmp_path / "dist")


def test_wrong_pinned_wheel_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "pyodide").symlink_to(REPO_ROOT / "node_modules" / "pyodide")
    (tmp_path / "tools").mkdir()
    for name in ("fetch_wheels.py", "wheels.lock.json"):
        (tmp_path / "tools" / name).write_bytes((REPO_ROOT / "tools" / name).read_bytes())
    (tmp_path / "vendor-wheels").mkdir()
    bogus = tmp_path / "vendor-wheels" / "pydicom-3.0.2-py3-none-any.whl"
    bogus.write_bytes(b"not the pinned wheel")
    with pytest.raises(build_dist_mod.BuildError, match="sha256 mismatch"):
        build_dist_mod.build_dist(tmp_path, Path(sys.executable), tmp_path / "dist")
    assert not (tmp_path / "dist").exists()
