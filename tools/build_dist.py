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
      text/ort/, text/models/        the text finder: onnxruntime-web (wasm backend) and the derived models
                                     (tools/dist_text.py; loaded by static/text_worker.mjs on first use only)
      X.gz                           gzip form of a large compressible X (tools/dist_text.py, app/static.py)
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
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from types import ModuleType

# tools/ is not a package, and this file is run as a script, imported with tools/ on sys.path (build.py,
# bench/page.py) and loaded by path (tests/test_dist.py): its own folder goes on sys.path (appended, so
# it shadows nothing) for its parts, tools/dist_*.py, to import by name in every case.
_TOOLS = str(Path(__file__).resolve().parent)
if _TOOLS not in sys.path:
    sys.path.append(_TOOLS)

from dist_archives import _read_members, _write_wheel, _write_zip  # noqa: E402
from dist_common import BuildError, Log, _canonical, _sha256_file  # noqa: E402
from dist_pyc import _check_pyc_archive, _compile, _compiler_fingerprint, _Job  # noqa: E402
from dist_site import BUILD_INFO, _built_at, _copy_static, _file_table, _lock_entry  # noqa: E402
from dist_site import BUNDLED_SOURCES as BUNDLED_SOURCES  # noqa: E402  (re-exported: tests/test_dist.py)
from dist_text import copy_text_finder, write_gzip_forms  # noqa: E402
from dist_wheels import _build_project_wheel, _filter_pinned_wheel, _Wheel  # noqa: E402

__all__ = ["BuildError", "build_dist", "main"]

PYODIDE_RUNTIME = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm")
PYODIDE_NEEDED = (*PYODIDE_RUNTIME, "python_stdlib.zip", "pyodide-lock.json", "package.json")
STDLIB_NAME = "python_stdlib.zip"
LOCK_NAME = "pyodide-lock.json"


def _stderr_log(msg: str) -> None:
    print(f"build_dist: {msg}", file=sys.stderr, flush=True)


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


# ---------------------------------------------------------------------------------------------------
# The build


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

        copy_text_finder(root, stage, log)
        write_gzip_forms(stage, log)  # last: every served file is final

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
