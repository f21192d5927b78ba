"""JPEG baseline blanked in place (issue 16): ms per frame and output/source size for ultrasound-like cines.

    python bench/jpeg_baseline.py --make DIR       # write the cines (tests/jpeg_baseline_files.py)
    python bench/jpeg_baseline.py DIR              # time this checkout natively
    python bench/jpeg_baseline.py DIR --pyodide    # ... under Node-hosted Pyodide
    python bench/jpeg_baseline.py DIR --before CHECKOUT [--pyodide] [--only NAME]
                                    # the same, CHECKOUT's redaction/ then this one's, in one run

Two densities: "dense" cines (a random value per pixel, quality 85: ~57 KB a 640x480 frame, 8x the issue's
real cine) and "real" ones (speckle grains, quality 35: ~9 KB a frame, as the issue's 7.5 KB a frame).
Each cine is redacted with one 40x16 region on every frame, at the top (a name line: the walk stops after
its blocks and the rest is copied bit-shifted) and at the bottom (a time stamp: nearly every block walked).
Pyodide runs the same script through tools/pyodide_run.mjs (the page's interpreter, under Node's V8).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

CINES: dict[str, dict[str, object]] = {
    "dense30_420": dict(frames=30, colour="420"),
    "dense30_422": dict(frames=30, colour="422"),
    "dense300_420": dict(frames=300, colour="420"),
    "real30_420": dict(frames=30, colour="420", grain=3, quality=35),
    "real30_422": dict(frames=30, colour="422", grain=3, quality=35),
    "real300_420": dict(frames=300, colour="420", grain=3, quality=35),
    "real300_422": dict(frames=300, colour="422", grain=3, quality=35),
}
PLACES = {"top": (8, 6), "bottom": (560, 458)}
HERE = Path(__file__).resolve().parent.parent
# The checkout whose redaction/ is timed: this one, or --before's (passed down in the environment).
ROOT = Path(os.environ.get("JPEG_BENCH_ROOT") or HERE)
sys.path.insert(0, str(ROOT))


def make(out: Path) -> None:
    sys.path.insert(0, str(HERE / "tests"))
    from jpeg_baseline_files import Cine, file_bytes

    out.mkdir(parents=True, exist_ok=True)
    for name, spec in CINES.items():
        (out / f"{name}.dcm").write_bytes(file_bytes(Cine(**spec)))  # type: ignore[arg-type]


def _cpu() -> float:
    """This process's CPU seconds; under Pyodide Node's (time.process_time is the wall clock there)."""
    if sys.platform == "emscripten":
        from js import process  # type: ignore[import-not-found]

        usage = process.cpuUsage()
        return float(usage.user + usage.system) / 1e6
    return time.process_time()


def run(folder: Path, only: str = "") -> None:
    """One line per cine and place: name, place, frames, KB a frame, ms a frame (wall clock, and this
    process's CPU time: the machine is shared), output/source."""
    import pydicom

    from redaction.apply import redact_dataset
    from redaction.rectangles import Rect
    from redaction.regions import Region

    for path in sorted(folder.glob("*.dcm")):
        if only and only not in path.stem:
            continue
        data = path.read_bytes()
        for place, (x, y) in PLACES.items():
            ds = pydicom.dcmread(io.BytesIO(data))
            frames = int(ds.NumberOfFrames)
            source = len(ds.PixelData)
            t0, c0 = time.perf_counter(), _cpu()
            redact_dataset(ds, [Region(Rect(x, y, 40, 16))])
            ms, cpu = (time.perf_counter() - t0) * 1000, (_cpu() - c0) * 1000
            print(
                f"{path.stem:13} {place:6} {frames:3} frames {source / frames / 1e3:5.1f} KB/frame: "
                f"{ms / frames:6.1f} ms/frame (CPU {cpu / frames:6.1f}), "
                f"size {len(ds.PixelData) / source:.4f}",
                flush=True,
            )


def _child(folder: Path, root: Path, pyodide: bool, only: str) -> str:
    """This script run on `root`'s redaction/, natively or under Pyodide; its output."""
    args = [str(folder.resolve()), "--only", only] if only else [str(folder.resolve())]
    if not pyodide:
        env = dict(os.environ, JPEG_BENCH_ROOT=str(root))
        cmd = [sys.executable, str(Path(__file__).resolve()), *args]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    sys.path.insert(0, str(HERE / "tests"))
    from pyodide_host import HARNESS, WHEELS_DIR, ensure_pyodide_setup

    node = ensure_pyodide_setup()
    cmd = [
        node, str(HARNESS), "--wheels", str(WHEELS_DIR), "--src", str(root), "--mount", str(folder.resolve()),
        str(Path(__file__).resolve()), "/mnt", *args[1:],
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"the Pyodide run failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def compare(folder: Path, before: Path, pyodide: bool, only: str) -> None:
    where = "Pyodide" if pyodide else "native"
    print(f"{where}; load average before: {os.getloadavg()}", flush=True)
    for label, root in (("before", before), ("after", HERE)):
        t0 = time.perf_counter()
        out = _child(folder, root, pyodide, only)
        print(f"--- {label} ({root}), {time.perf_counter() - t0:.0f} s\n{out}", end="", flush=True)
    print(f"load average after: {os.getloadavg()}")


def main(argv: list[str]) -> None:
    if argv[0] == "--make":
        make(Path(argv[1]))
        return
    folder = Path(argv[0])
    only = argv[argv.index("--only") + 1] if "--only" in argv else ""
    if "--before" in argv:
        compare(folder, Path(argv[argv.index("--before") + 1]), "--pyodide" in argv, only)
    elif "--pyodide" in argv:
        print(_child(folder, HERE, True, only), end="")
    else:
        run(folder, only)


if __name__ == "__main__":
    main(sys.argv[1:])
