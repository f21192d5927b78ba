"""JPEG baseline blanked in place (issue 16): ms per frame and output/source size for ultrasound-like cines.

    python bench/jpeg_baseline.py --make DIR          # write the cines (Pillow; tests/jpeg_baseline_files.py)
    python bench/jpeg_baseline.py DIR                 # time redact_dataset on each, natively (or in Pyodide)

Each cine is redacted with one 40x16 region on every frame, at the top (a name line: the walk stops after
its blocks and the rest is copied bit-shifted) and at the bottom (a time stamp: nearly every block walked).
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

CINES = {
    "us30_420": dict(frames=30, colour="420"),
    "us30_422": dict(frames=30, colour="422"),
    "us300_420": dict(frames=300, colour="420"),
}
PLACES = {"top": (8, 6), "bottom": (560, 458)}
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's redaction/, not an installed one


def make(out: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from jpeg_baseline_files import Cine, file_bytes

    out.mkdir(parents=True, exist_ok=True)
    for name, spec in CINES.items():
        (out / f"{name}.dcm").write_bytes(file_bytes(Cine(**spec)))  # type: ignore[arg-type]


def run(folder: Path) -> None:
    import pydicom

    from redaction.apply import redact_dataset
    from redaction.rectangles import Rect
    from redaction.regions import Region

    for path in sorted(folder.glob("*.dcm")):
        data = path.read_bytes()
        for place, (x, y) in PLACES.items():
            ds = pydicom.dcmread(io.BytesIO(data))
            frames = int(ds.NumberOfFrames)
            source = len(ds.PixelData)
            t0 = time.perf_counter()
            redact_dataset(ds, [Region(Rect(x, y, 40, 16))])
            ms = (time.perf_counter() - t0) * 1000
            print(
                f"{path.stem:10} {place:6} {frames:3} frames {source / 1e6:6.2f} MB: "
                f"{ms / frames:6.1f} ms/frame, size {len(ds.PixelData) / source:.4f}"
            )


if __name__ == "__main__":
    if sys.argv[1] == "--make":
        make(Path(sys.argv[2]))
    else:
        run(Path(sys.argv[1]))
