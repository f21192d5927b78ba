#!/usr/bin/env python3
"""Build ``dist/``, the static site of the page: the page itself, the Pyodide runtime and the wheels.

    python tools/build_dist.py [--root DIR] [--python EXE] [--out DIR] [--node EXE]

Layout (``dist/`` is git-ignored; it is replaced as a whole on each build)::

    dist/
      index.html, *.js, ...          static/, copied verbatim (recursive; dotfiles skipped)
      pyodide/pyodide.mjs, pyodide.asm.mjs, pyodide.asm.wasm   node_modules/pyodide, verbatim
      pyodide/python_stdlib.zip      the stdlib, .pyc only (same name as stock: indexURL's default works)
      pyodide/pyodide-lock.json      stock lock + "pydicom" and "pacsbin-uploader" (file_name ../wheels/...)
      wheels/pydicom-3.0.2-py3-none-any.whl           .pyc only, pydicom/data/test_files removed
      wheels/pacsbin_uploader-0.1.0-py3-none-any.whl  anonymizer + redaction only, .pyc only
      build-info.json                {pyodide, python, built_at, files: {path: {sha256, size}}}

In the browser (module worker)::

    const base = new URL("pyodide/", <URL of dist/>).href;     // must be absolute
    await loadPyodide({indexURL: base, lockFileURL: base + "pyodide-lock.json", packageBaseUrl: base,
                       packages: ["pacsbin-uploader"]});       // pulls pydicom through "depends"

The bytecode is made by Pyodide's own CPython under Node (``tools/pyc_build.mjs``): sourceless
``x.pyc`` beside each module, unchecked hash-based (``source_hash``), compiled with the path the file
will have inside Pyodide (``/lib/python314.zip/...``, ``/lib/python3.14/site-packages/...``).
The Node step is cached in ``build/pyc-cache/`` under the sha256 of its input archive (plus a
fingerprint of the compiler: Pyodide version, ``pyodide.asm.wasm``, ``pyc_build.mjs``), so an unchanged
input is not recompiled. Archives are written with sorted members, a fixed timestamp (1980-01-01) and
fixed permissions, so the same inputs give the same bytes; ``build-info.json``'s ``built_at`` is
``$SOURCE_DATE_EPOCH`` when set (else the current time), and is the one field that changes otherwise.

The project wheel is built with ``<python> -m pip wheel --no-deps --no-build-isolation`` from a clean
copy of the project's sources (pyproject.toml, its readme and the packages it lists), so that a stale
setuptools ``build/lib`` or a half-edited tree outside those packages cannot leak into the wheel.
If ``<python>`` cannot build wheels (setuptools < 70.1 without the ``wheel`` package), the
``[build-system] requires`` of pyproject.toml are installed into it with pip first.

Standard library only. ``build_dist(root, python)`` returns the ``dist`` directory.
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

__all__ = ["BuildError", "build_dist", "main"]

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
PYODIDE_RUNTIME = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm")
PYODIDE_NEEDED = (*PYODIDE_RUNTIME, "python_stdlib.zip", "pyodide-lock.json", "package.json")
STDLIB_NAME = "python_stdlib.zip"
LOCK_NAME = "pyodide-lock.json"
BUILD_INFO = "build-info.json"
RESERVED_TOP = {"pyodide", "wheels", BUILD_INFO}
PROJECT_IMPORTS = ["anonymizer", "redaction"]
# Members dropped from pinned wheels before compiling (by wheel name): pydicom's test data is 1 MB of
# DICOM files the page never reads.
WHEEL_DROP_PREFIXES: dict[str, tuple[str, ...]] = {"pydicom": ("pydicom/data/test_files/",)}

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The build cannot proceed (missing input, failed tool, inconsistent output)."""


def _stderr_log(msg: str) -> None:
    print(f"build_dist: {msg}", file=sys.stderr, flush=True)


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(name: str) -> str:
    return "-".join(part for part in name.lower().replace("_", "-").replace(".", "-").split("-") if part)


# ---------------------------------------------------------------------------------------------------
# Deterministic zip writing


def _zip_entry(name: str, *, is_dir: bool, compress: int) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    zi.create_system = 3  # unix: external_attr holds the mode
    zi.external_attr = ((0o40755 << 16) | 0x10) if is_dir else (0o644 << 16)
    zi.compress_type = zipfile.ZIP_STORED if is_dir else compress
    return zi


def _write_zip(dest: Path, members: Iterable[tuple[str, bytes | None]], *, compress: int) -> None:
    """Write ``members`` (name, data; data None for a directory entry) in the given order."""
    with zipfile.ZipFile(
        dest, "w", compress, compresslevel=9 if compress == zipfile.ZIP_DEFLATED else None
    ) as z:
        for name, data in members:
            if data is None:
                z.writestr(_zip_entry(name, is_dir=True, compress=compress), b"")
            else:
                z.writestr(_zip_entry(name, is_dir=False, compress=compress), data)


def _read_members(path: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.filename in out:
                raise BuildError(f"{path}: duplicate member {info.filename}")
            out[info.filename] = None if info.is_dir() else z.read(info)
    return out


def _dist_info_dir(members: Iterable[str], wheel: Path) -> str:
    dirs = sorted({n.split("/", 1)[0] for n in members if n.split("/", 1)[0].endswith(".dist-info")})
    if len(dirs) != 1:
        raise BuildError(f"{wheel}: expected one .dist-info directory, found {dirs or 'none'}")
    return dirs[0]


def _wheel_order(names: Iterable[str], dist_info: str) -> list[str]:
    """Sorted, with the .dist-info directory last and its RECORD the very last member."""
    record = f"{dist_info}/RECORD"
    return sorted(names, key=lambda n: (n.startswith(dist_info + "/"), n == record, n))


def _record(members: Mapping[str, bytes | None], dist_info: str) -> bytes:
    record = f"{dist_info}/RECORD"
    lines = []
    for name in _wheel_order(members, dist_info):
        data = members[name]
        if name == record or data is None:
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{name},sha256={digest},{len(data)}")
    lines.append(f"{record},,")
    return ("\n".join(lines) + "\n").encode()


def _write_wheel(dest: Path, members: Mapping[str, bytes | None], *, compress: int) -> None:
    """Write a wheel with a RECORD that matches its members (directory entries dropped)."""
    files: dict[str, bytes | None] = {n: d for n, d in members.items() if d is not None}
    dist_info = _dist_info_dir(files, dest)
    files[f"{dist_info}/RECORD"] = _record(files, dist_info)
    _write_zip(dest, ((n, files[n]) for n in _wheel_order(files, dist_info)), compress=compress)


# ---------------------------------------------------------------------------------------------------
# Inputs


def _load_tool(root: Path, name: str) -> ModuleType:
    """Import tools/<name>.py (tools/ is not a package; this file also runs as a script)."""
    path = root / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_pacsbin_build_{name}", path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses needs the module registered
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class _Wheel:
    name: str  # distribution name as in the lock ("pydicom", "pacsbin-uploader")
    version: str
    file_name: str
    imports: list[str]
    depends: list[str]
    source: Path  # the .py wheel, filtered and normalized: the input of the compile step


def _check_pyodide(pyodide_dir: Path) -> dict[str, str]:
    missing = [f for f in PYODIDE_NEEDED if not (pyodide_dir / f).is_file()]
    if missing:
        raise BuildError(
            f"{pyodide_dir} lacks {', '.join(missing)}: install the pinned Pyodide with `npm ci` "
            f"(package.json / package-lock.json) or `python3 build.py test`"
        )
    version = json.loads((pyodide_dir / "package.json").read_text(encoding="utf-8"))["version"]
    lock_info = json.loads((pyodide_dir / LOCK_NAME).read_text(encoding="utf-8"))["info"]
    return {"pyodide": str(version), "python": str(lock_info["python"])}


def _filter_pinned_wheel(src: Path, dest: Path, name: str) -> None:
    members = _read_members(src)
    drop = WHEEL_DROP_PREFIXES.get(name, ())
    kept = {n: d for n, d in members.items() if d is not None and not n.startswith(drop)}
    _write_wheel(dest, kept, compress=zipfile.ZIP_STORED)


def _can_build_wheels(python: Path) -> bool:
    probe = (
        "import importlib.util as u, sys; "
        "sys.exit(0 if u.find_spec('setuptools') and (u.find_spec('setuptools.command.bdist_wheel') "
        "or u.find_spec('wheel')) else 1)"
    )
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def _ensure_build_backend(root: Path, python: Path, log: Log) -> None:
    if _can_build_wheels(python):
        return
    requires = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("build-system", {})
    reqs = list(requires.get("requires", ["setuptools", "wheel"]))
    log(f"{python} cannot build wheels (no bdist_wheel); installing the build requirements {reqs}")
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *reqs]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not _can_build_wheels(python):
        raise BuildError(
            f"{python} cannot build wheels and installing {reqs} failed (exit {proc.returncode}):\n"
            f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )


def _project_snapshot(root: Path, dest: Path) -> Path:
    """Copy what setuptools needs to build the project wheel into ``dest``; return ``dest``."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        raise BuildError(f"{pyproject} not found")
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    packages = meta.get("tool", {}).get("setuptools", {}).get("packages")
    if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
        raise BuildError(
            f"{pyproject}: [tool.setuptools] packages must be an explicit list for tools/build_dist.py"
        )
    dest.mkdir(parents=True)
    files = ["pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in"]
    readme = meta.get("project", {}).get("readme")
    if isinstance(readme, str):
        files.append(readme)
    elif isinstance(readme, dict) and isinstance(readme.get("file"), str):
        files.append(readme["file"])
    for f in files:
        if (root / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / f, dest / f)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for top in sorted({p.split(".")[0] for p in packages}):
        if not (root / top).is_dir():
            raise BuildError(f"package directory {root / top} (listed in pyproject.toml) does not exist")
        shutil.copytree(root / top, dest / top, ignore=ignore)
    return dest


def _build_project_wheel(root: Path, python: Path, tmp: Path, depends: list[str], log: Log) -> _Wheel:
    """Build the project wheel and keep only the browser packages (the input of the compile step)."""
    _ensure_build_backend(root, python, log)
    src = _project_snapshot(root, tmp / "project-src")
    out = tmp / "project-wheel"
    cmd = [
        str(python), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
        "--disable-pip-version-check", "--quiet", "-w", str(out), str(src),
    ]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    built = sorted(out.glob("*.whl")) if out.is_dir() else []
    if proc.returncode != 0 or len(built) != 1:
        raise BuildError(
            f"building the project wheel failed (exit {proc.returncode}; got {[p.name for p in built]}):\n"
            f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )
    wheel = built[0]
    log(f"built {wheel.name} in {time.perf_counter() - t0:.1f} s")
    parts = wheel.name[: -len(".whl")].split("-")
    if len(parts) != 5:
        raise BuildError(f"unexpected project wheel name {wheel.name}")
    dist_name, version = parts[0], parts[1]

    members = _read_members(wheel)
    dist_info = _dist_info_dir(members, wheel)
    keep = tuple(f"{p}/" for p in PROJECT_IMPORTS)
    kept: dict[str, bytes | None] = {}
    for name, data in members.items():
        if data is None:
            continue
        if name.startswith(keep):
            kept[name] = data
        elif name.startswith(dist_info + "/"):
            kept[name] = (
                ("\n".join(PROJECT_IMPORTS) + "\n").encode() if name.endswith("/top_level.txt") else data
            )
    for pkg in PROJECT_IMPORTS:
        if f"{pkg}/__init__.py" not in kept:
            raise BuildError(f"{wheel.name} has no {pkg}/__init__.py")
    if not any(n.startswith("anonymizer/data/") for n in kept):
        raise BuildError(f"{wheel.name} has no anonymizer/data/ files (package-data missing?)")
    source = tmp / "inputs" / wheel.name
    source.parent.mkdir(parents=True, exist_ok=True)
    _write_wheel(source, kept, compress=zipfile.ZIP_STORED)
    meta_name = _metadata_field(kept[f"{dist_info}/METADATA"] or b"", "Name") or dist_name
    return _Wheel(meta_name, version, wheel.name, list(PROJECT_IMPORTS), depends, source)


def _metadata_field(metadata: bytes, field: str) -> str | None:
    for line in metadata.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == field.lower():
            return value.strip()
    return None


# ---------------------------------------------------------------------------------------------------
# The Node compile step, cached


def _node_exe(node: str | None) -> str:
    exe = node or os.environ.get("PACSBIN_NODE") or shutil.which("node")
    if not exe:
        raise BuildError("node not found on PATH (set $PACSBIN_NODE); the .pyc step runs Pyodide under Node")
    return exe


def _compiler_fingerprint(root: Path, pyodide_dir: Path, versions: dict[str, str]) -> str:
    h = hashlib.sha256()
    h.update(f"pyodide {versions['pyodide']} python {versions['python']}\n".encode())
    h.update(_sha256_file(pyodide_dir / "pyodide.asm.wasm").encode())
    h.update(_sha256_file(root / "tools" / "pyc_build.mjs").encode())
    return h.hexdigest()


@dataclass(frozen=True)
class _Job:
    kind: str  # "stdlib" or "site"
    source: Path
    cached: Path
    meta: Path


def _check_pyc_archive(path: Path, magic: bytes, *, allow_py: bool = False) -> int:
    """Every .pyc has Pyodide's magic and is unchecked hash-based; no .py left. Returns the .pyc count."""
    count = 0
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.filename.endswith(".py") and not allow_py:
                raise BuildError(f"{path}: source file {info.filename} left in the archive")
            if info.filename.endswith(".pyc"):
                head = z.read(info)[:8]
                if head[:4] != magic or int.from_bytes(head[4:8], "little") != 0b01:
                    raise BuildError(
                        f"{path}: {info.filename} is not an unchecked hash-based .pyc, magic {magic.hex()}"
                    )
                count += 1
    return count


def _compile(root: Path, pyodide_dir: Path, jobs: list[_Job], node: str | None, log: Log) -> dict[str, str]:
    """Run pyc_build.mjs for the jobs whose output is not cached. Returns the compiler's report."""
    todo = []
    report: dict[str, str] | None = None
    for job in jobs:
        if job.cached.is_file() and job.meta.is_file():
            try:
                meta = json.loads(job.meta.read_text(encoding="utf-8"))
                _check_pyc_archive(job.cached, bytes.fromhex(meta["magic"]))
                report = report or meta
                log(f"cached: {job.source.name} -> {job.cached.name}")
                continue
            except (BuildError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                log(f"cache entry {job.cached.name} is unusable ({exc}); recompiling")
        todo.append(job)
    if todo:
        cache_dir = todo[0].cached.parent
        cache_dir.mkdir(parents=True, exist_ok=True)
        report_path = cache_dir / f".report-{os.getpid()}.json"
        cmd = [_node_exe(node), str(root / "tools" / "pyc_build.mjs"), "--pyodide", str(pyodide_dir)]
        cmd += ["--report", str(report_path)]
        for job in todo:
            cmd += ["--job", job.kind, str(job.source), str(job.cached)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
        if proc.returncode != 0 or not report_path.is_file():
            raise BuildError(
                f"the .pyc compile step failed (exit {proc.returncode}):\n$ {' '.join(cmd)}\n{proc.stderr}"
            )
        full = json.loads(report_path.read_text(encoding="utf-8"))
        report_path.unlink()
        log(f"compiled {len(todo)} archive(s) under Node in {time.perf_counter() - t0:.1f} s")
        for line in proc.stderr.splitlines():
            log(f"  {line}")
        report = {"pyodide": full["pyodide"], "python": full["python"], "magic": full["magic"]}
        for job in todo:
            _check_pyc_archive(job.cached, bytes.fromhex(report["magic"]))
            job.meta.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    assert report is not None
    return report


# ---------------------------------------------------------------------------------------------------
# Assembling dist/


def _copy_static(static: Path, dest: Path, log: Log) -> int:
    if not static.is_dir():
        log(f"warning: {static} does not exist; dist/ has no page files")
        return 0
    count = 0
    for dirpath, dirnames, filenames in os.walk(static, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(static)
        for fname in sorted(filenames):
            if fname.startswith(".") or fname in BUNDLED_SOURCES:
                continue
            rel = rel_dir / fname
            if rel.parts[0] in RESERVED_TOP:
                raise BuildError(f"static/{rel.as_posix()} collides with the generated dist/{rel.parts[0]}")
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(dirpath) / fname, dest / rel)
            count += 1
    return count


# Sources in static/ that are bundled (tools/bundle_codecs.py) rather than copied.
BUNDLED_SOURCES = {"codecs.mjs"}


def _lock_entry(wheel: _Wheel, path: Path) -> dict[str, object]:
    return {
        "name": wheel.name,
        "version": wheel.version,
        "file_name": f"../wheels/{path.name}",
        "install_dir": "site",
        "sha256": _sha256_file(path),
        "package_type": "package",
        "imports": wheel.imports,
        "depends": wheel.depends,
        "unvendored_tests": False,
        "shared_library": False,
    }


def _built_at() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = _dt.datetime.fromtimestamp(int(epoch), _dt.UTC) if epoch else _dt.datetime.now(_dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _file_table(dist: Path) -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = {}
    for p in sorted(dist.rglob("*")):
        if p.is_file():
            rel = p.relative_to(dist).as_posix()
            if rel != BUILD_INFO:
                table[rel] = {"sha256": _sha256_file(p), "size": p.stat().st_size}
    return table


def build_dist(
    root: Path,
    python: Path,
    out: Path | None = None,
    *,
    node: str | None = None,
    cache_dir: Path | None = None,
    log: Log | None = None,
) -> Path:
    """Build the site into ``out`` (default ``<root>/dist``), replacing it; return its path.

    ``python`` builds the project wheel and downloads the pinned wheels if missing; ``node`` (default
    ``$PACSBIN_NODE`` or ``node`` on PATH) runs the .pyc compile step; ``cache_dir`` defaults to
    ``<root>/build/pyc-cache``. Raises :class:`BuildError` with the reason on any failure.
    """
    log = log or _stderr_log
    t_start = time.perf_counter()
    root = Path(root).resolve()
    python = Path(python)
    out = Path(out).resolve() if out is not None else root / "dist"
    cache_dir = Path(cache_dir).resolve() if cache_dir is not None else root / "build" / "pyc-cache"
    pyodide_dir = root / "node_modules" / "pyodide"
    versions = _check_pyodide(pyodide_dir)

    fetch_wheels = _load_tool(root, "fetch_wheels")
    lock_path = root / "tools" / "wheels.lock.json"
    try:
        pins = fetch_wheels.load_lock(lock_path)
        pinned_paths = fetch_wheels.ensure_wheels(str(python), root / "vendor-wheels", lock_path)
    except fetch_wheels.WheelError as exc:
        raise BuildError(f"the pinned wheels are not available: {exc}") from exc

    if out.exists() and not out.is_dir():
        raise BuildError(f"{out} exists and is not a directory")
    # Staged next to the output (same file system, for the final rename); under the git-ignored build/
    # for the default <root>/dist, so an interrupted build leaves nothing in the work tree.
    stage_parent = root / "build" if out.parent == root else out.parent
    stage_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-dist-", dir=stage_parent) as tmp_str:
        tmp = Path(tmp_str)
        (tmp / "inputs").mkdir()

        wheels: list[_Wheel] = []
        for pin, path in zip(pins, pinned_paths, strict=True):
            source = tmp / "inputs" / pin.file_name
            _filter_pinned_wheel(path, source, _canonical(pin.name))
            wheels.append(
                _Wheel(pin.name, pin.version, pin.file_name, [pin.name.replace("-", "_")], [], source)
            )
        project = _build_project_wheel(root, python, tmp, [w.name for w in wheels], log)
        wheels.append(project)
        names = [_canonical(w.name) for w in wheels]
        if len(set(names)) != len(names):
            raise BuildError(f"duplicate wheel names: {names}")

        fingerprint = _compiler_fingerprint(root, pyodide_dir, versions)[:16]

        def job(kind: str, source: Path) -> _Job:
            key = f"{_sha256_file(source)}-{fingerprint}"
            return _Job(kind, source, cache_dir / f"{key}.zip", cache_dir / f"{key}.json")

        stdlib_job = job("stdlib", pyodide_dir / STDLIB_NAME)
        wheel_jobs = [job("site", w.source) for w in wheels]
        report = _compile(root, pyodide_dir, [stdlib_job, *wheel_jobs], node, log)
        if report["python"] != versions["python"] or report["pyodide"] != versions["pyodide"]:
            raise BuildError(f"compiler reports {report}, but node_modules/pyodide is {versions}")

        stage = tmp / "dist"
        stage.mkdir()
        n_static = _copy_static(root / "static", stage, log)
        codecs = _load_tool(root, "bundle_codecs")
        try:
            codecs.bundle_codecs(root, stage)
        except codecs.BundleError as exc:
            raise BuildError(str(exc)) from None
        (stage / "pyodide").mkdir()
        (stage / "wheels").mkdir()
        for name in PYODIDE_RUNTIME:
            shutil.copyfile(pyodide_dir / name, stage / "pyodide" / name)

        stdlib = _read_members(stdlib_job.cached)
        _write_zip(stage / "pyodide" / STDLIB_NAME, ((n, stdlib[n]) for n in sorted(stdlib)),
                   compress=zipfile.ZIP_DEFLATED)  # fmt: skip

        lock = json.loads((pyodide_dir / LOCK_NAME).read_text(encoding="utf-8"))
        for w, j in zip(wheels, wheel_jobs, strict=True):
            dest = stage / "wheels" / w.file_name
            _write_wheel(dest, _read_members(j.cached), compress=zipfile.ZIP_DEFLATED)
            key = _canonical(w.name)
            if key in lock["packages"]:
                log(f"note: the stock lock already names {key!r}; our entry replaces it")
            lock["packages"][key] = _lock_entry(w, dest)
        lock["packages"] = dict(sorted(lock["packages"].items()))
        (stage / "pyodide" / LOCK_NAME).write_text(json.dumps(lock), encoding="utf-8")

        magic = bytes.fromhex(report["magic"])
        archives = [stage / "pyodide" / STDLIB_NAME, *sorted((stage / "wheels").iterdir())]
        n_pyc = {p.name: _check_pyc_archive(p, magic) for p in archives}
        files = _file_table(stage)
        info = {
            "pyodide": versions["pyodide"],
            "python": versions["python"],
            "pyc_magic": report["magic"],
            "built_at": _built_at(),
            "load": {
                "indexURL": "pyodide/",
                "lockFileURL": f"pyodide/{LOCK_NAME}",
                "packageBaseUrl": "pyodide/",
                "packages": [_canonical(project.name)],
            },
            "inputs": {
                STDLIB_NAME: _sha256_file(pyodide_dir / STDLIB_NAME),
                **{p.name: _sha256_file(p) for p in pinned_paths},
                f"{project.file_name} (browser subset, .py)": _sha256_file(project.source),
            },
            "pyc_files": n_pyc,
            "files": files,
        }
        (stage / BUILD_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")

        if out.exists():
            os.replace(out, tmp / "previous")  # removed with tmp
        os.replace(stage, out)
    total = sum(int(str(f["size"])) for f in files.values())
    log(
        f"built {out} ({n_static} static file(s), {len(files)} files, {total / 1e6:.1f} MB) "
        f"in {time.perf_counter() - t_start:.1f} s"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    here_root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=here_root, help="repo root (default: %(default)s)")
    venv_python = here_root / ".venv" / "bin" / "python"
    ap.add_argument(
        "--python", type=Path, default=venv_python if venv_python.exists() else Path(sys.executable),
        help="python that builds the project wheel (default: %(default)s)",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, default=None, help="output dir (default: <root>/dist)")
    ap.add_argument("--node", default=None, help="node executable (default: $PACSBIN_NODE or node on PATH)")
    args = ap.parse_args(argv)
    try:
        out = build_dist(args.root, args.python, args.out, node=args.node)
    except BuildError as exc:
        print(f"build_dist: error: {exc}", file=sys.stderr)
        return 1
    info = json.loads((out / BUILD_INFO).read_text(encoding="utf-8"))
    for rel, meta in info["files"].items():
        if rel.startswith(("pyodide/", "wheels/")):
            print(f"{meta['size']:>10}  {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
