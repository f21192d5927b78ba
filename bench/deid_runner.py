"""deid (pydicom/deid) de-identifying a folder with its default recipe, one process: the benchmark's peer.

    python bench/deid_runner.py INPUT_DIR OUTPUT_DIR

Uses the documented API, `deid.dicom.replace_identifiers` with the default `DeidRecipe()`, writing each
result to OUTPUT_DIR under the input's base name (deid names outputs that way; the corpus names are unique).
Files are handed over one at a time so that one failing file is reported and the rest go on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from deid.config import DeidRecipe  # type: ignore[import-untyped]
from deid.dicom import replace_identifiers  # type: ignore[import-untyped]


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    files = sorted(str(p) for p in source.rglob("*") if p.is_file())
    os.makedirs(target, exist_ok=True)
    recipe = DeidRecipe()  # the default recipe ("dicom"), parsed once
    written, failed = 0, 0
    for path in files:
        try:
            replace_identifiers([path], deid=recipe, save=True, output_folder=str(target), overwrite=True)
            written += 1
        except Exception as exc:  # report and go on, like the other tools
            failed += 1
            print(f"deid failed on {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
    print(f"deid: {written} written, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
