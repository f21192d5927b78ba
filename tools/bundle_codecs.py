"""Bundle the page's pixel codecs (static/codecs.mjs) into dist/codecs.js with esbuild, and copy their wasm.

The Cornerstone codecs are Emscripten CommonJS scripts; esbuild turns them into one ES module the engine
worker imports (module workers cannot load CommonJS). `fs`/`path` are external: only the glue's Node branch
requires them, and it never runs in a browser. The wasm files are found through `locateFile`: dist/codecs/.
All from node_modules (pinned by package-lock.json); nothing is loaded from a CDN.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = "static/codecs.mjs"
WASM = [
    "@cornerstonejs/codec-charls/dist/charlswasm_decode.wasm",
    "@cornerstonejs/codec-charls/dist/charlswasm.wasm",  # encoder (redacted frames back to JPEG-LS)
    "@cornerstonejs/codec-openjpeg/dist/openjpegwasm_decode.wasm",
    "@cornerstonejs/codec-libjpeg-turbo-8bit/dist/libjpegturbowasm_decode.wasm",
]


class BundleError(RuntimeError):
    pass


# For Node-hosted tests only: the Emscripten glue's Node branch requires fs/path and reads __dirname, which
# an ES module has only through createRequire and import.meta.url.
NODE_BANNER = (
    'import { createRequire } from "node:module"; import { fileURLToPath } from "node:url"; '
    "const require = createRequire(import.meta.url); const __filename = fileURLToPath(import.meta.url); "
    'const __dirname = fileURLToPath(new URL(".", import.meta.url));'
)


def bundle_codecs(root: Path, dest: Path, *, for_node: bool = False) -> list[str]:
    """Write dest/codecs.js and dest/codecs/*.wasm; returns the files written (relative to dest).
    `for_node`: the same bundle loadable under Node (tests of the page's codecs)."""
    esbuild = root / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        raise BundleError(f"{esbuild} is missing: run `npm ci`")
    out = dest / "codecs.js"
    cmd = [
        str(esbuild),
        str(root / SOURCE),
        "--bundle",
        "--format=esm",
        "--minify",
        "--external:fs",
        "--external:path",
        "--log-level=warning",
        f"--outfile={out}",
        *(["--platform=node", f"--banner:js={NODE_BANNER}"] if for_node else []),
    ]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BundleError(f"esbuild failed on {SOURCE}:\n{proc.stderr}")
    written = ["codecs.js"]
    (dest / "codecs").mkdir(parents=True, exist_ok=True)
    for rel in WASM:
        src = root / "node_modules" / rel
        if not src.is_file():
            raise BundleError(f"{src} is missing: run `npm ci`")
        shutil.copyfile(src, dest / "codecs" / src.name)
        written.append(f"codecs/{src.name}")
    return written
