"""The wheel inputs of the dist/ build: the pinned wheels, filtered (pydicom's test data dropped), and
the project wheel, built by ``<python> -m pip wheel`` from a clean copy of the project's sources and cut
down to the browser packages. Both are the .py inputs of the .pyc compile step (dist_pyc).

Part of tools/build_dist.py (which see for the layout of dist/); standard library only.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dist_archives import _dist_info_dir, _read_members, _write_wheel
from dist_common import BuildError, Log

PROJECT_IMPORTS = ["anonymizer", "redaction"]
# Native-only packages left out of the browser's wheel: the text finder needs numpy and onnxruntime, which
# Pyodide's engine does not load (the page runs the same models with onnxruntime-web).
NATIVE_ONLY = ("redaction/text_finder/",)
# Members dropped from pinned wheels before compiling (by wheel name): pydicom's test data is 1 MB of
# DICOM files the page never reads.
WHEEL_DROP_PREFIXES: dict[str, tuple[str, ...]] = {"pydicom": ("pydicom/data/test_files/",)}


@dataclass(frozen=True)
class _Wheel:
    name: str  # distribution name as in the lock ("pydicom", "pacsbin-uploader")
    version: str
    file_name: str
    imports: list[str]
    depends: list[str]
    source: Path  # the .py wheel, filtered and normalized: the input of the compile step


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
        if name.startswith(NATIVE_ONLY):
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
