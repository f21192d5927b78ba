"""The page's text finder files in dist/ (issue 14), and the gzip forms of the site's large files.

Part of tools/build_dist.py. Layout::

    dist/text/ort/ort.wasm.min.mjs              onnxruntime-web's wasm-only ES module (no WebGL/WebGPU)
    dist/text/ort/ort-wasm-simd-threaded.mjs    its Emscripten glue, imported by URL (ort.env.wasm.wasmPaths)
    dist/text/ort/ort-wasm-simd-threaded.wasm   the runtime (jsep/jspi/asyncify variants are not needed)
    dist/text/models/*.fp16.onnx, ppocr_keys_v1.txt   the derived det and rec models and the keys

The "extern wasm" build of ort (not ort.wasm.bundle.min.mjs) is used so the glue is a file of its own on
this origin: ort then starts its threads' workers from that URL (``worker-src 'self'``) and never from a
blob: URL, which it does only for a glue on another origin. All from node_modules (package-lock.json) and
vendor-models/ (tools/fetch_models.py, sha256-checked here again); nothing from a CDN.

Gzip: ``X.gz`` (level 9, no name, mtime 0: the same bytes every build) beside each file of at least
``GZIP_MIN_BYTES`` of a compressible kind whose gzip form is at least ``GZIP_MIN_SAVING`` smaller;
app/static.py sends it to a browser that accepts gzip.
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
import sys
from pathlib import Path

from dist_common import BuildError, Log

ORT_DIST = "node_modules/onnxruntime-web/dist"
ORT_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
TEXT_DIR = "text"

GZIP_SUFFIXES = {".wasm", ".onnx", ".mjs", ".js", ".json", ".txt", ".css", ".html", ".svg", ".map"}
GZIP_MIN_BYTES = 64 * 1024
GZIP_MIN_SAVING = 0.05  # the fp16 models shrink by 9-10%: 0.7 MB less to send


def _fetch_models_module(root: Path) -> object:
    path = root / "tools" / "fetch_models.py"
    spec = importlib.util.spec_from_file_location("_pacsbin_build_fetch_models", path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def model_files(root: Path) -> list[Path]:
    """The page's model files (the derived det and rec, the keys), each checked against its pin."""
    fetch = _fetch_models_module(root)
    lock = root / "tools" / "models.lock.json"
    try:
        paths: list[Path] = fetch.ensure_models(root / "vendor-models", lock)  # type: ignore[attr-defined]
    except fetch.ModelFetchError as exc:  # type: ignore[attr-defined]
        raise BuildError(f"the text finder's models are not available: {exc}") from None
    derived = {d.source for d in fetch.load_derived(lock)}  # type: ignore[attr-defined]
    return [p for p in paths if p.name not in derived]  # the registry's float32 files are not served


def copy_text_finder(root: Path, stage: Path, log: Log) -> list[str]:
    """dist/text/ort/ and dist/text/models/; the files written, relative to ``stage``."""
    written: list[str] = []
    (stage / TEXT_DIR / "ort").mkdir(parents=True, exist_ok=True)
    for name in ORT_FILES:
        src = root / ORT_DIST / name
        if not src.is_file():
            raise BuildError(f"{src} is missing: run `npm ci` (onnxruntime-web is pinned in package.json)")
        shutil.copyfile(src, stage / TEXT_DIR / "ort" / name)
        written.append(f"{TEXT_DIR}/ort/{name}")
    (stage / TEXT_DIR / "models").mkdir(parents=True, exist_ok=True)
    for src in model_files(root):
        shutil.copyfile(src, stage / TEXT_DIR / "models" / src.name)
        written.append(f"{TEXT_DIR}/models/{src.name}")
    log(f"text finder: {', '.join(written)}")
    return written


def write_gzip_forms(stage: Path, log: Log) -> list[str]:
    """``X.gz`` beside each large compressible file that gzip shrinks enough; the X written for."""
    done: list[str] = []
    saved = 0
    for path in sorted(stage.rglob("*")):
        if not path.is_file() or path.suffix not in GZIP_SUFFIXES or path.stat().st_size < GZIP_MIN_BYTES:
            continue
        data = path.read_bytes()
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) > len(data) * (1 - GZIP_MIN_SAVING):
            continue
        path.with_name(path.name + ".gz").write_bytes(packed)
        done.append(path.relative_to(stage).as_posix())
        saved += len(data) - len(packed)
    log(f"gzip forms of {len(done)} files ({saved / 1e6:.1f} MB less to send)")
    return done
