"""Recognition in batches against one run a box, on the burned-in set, in the same run (issue 14).

    .venv/bin/python bench/text_batches.py --small            # the ~40-image set (generated when missing)
    .venv/bin/python bench/text_batches.py --set DIR --limit 10

Image by image (the order of the two alternated, so a busy machine bends both alike): `one a box` detects
and runs the recogniser once a box, as redaction.text_finder did before its batches; `find_text` is
redaction.text_finder.find_text (equal-width batches, crops read on an earlier frame reused). Prints the
wall and CPU ms per 640x480 frame of each (detection and recognition) and every box or string that
differs (none expected: what a box reads is a function of its crop). Writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import burned_in
import numpy as np
from text_finder import load

ROOT = Path(__file__).resolve().parent.parent
Read = tuple[int, int, int, int, int, str]  # frame, x, y, width, height, text


def one_a_box() -> Callable[[np.ndarray, str], list[Read]]:
    from redaction.text_finder.detect import detect
    from redaction.text_finder.models import load_models
    from redaction.text_finder.prepare import to_rgb8
    from redaction.text_finder.recognize import ctc_greedy, recognition_input

    models = load_models()
    name = models.recognition.get_inputs()[0].name

    def run(pixels: np.ndarray, photometric: str) -> list[Read]:
        found: list[Read] = []
        seen: dict[bytes, list[tuple[Any, str]]] = {}
        for number, frame in enumerate(pixels, start=1):
            array = np.ascontiguousarray(frame)
            key = array.tobytes()
            if key not in seen:
                image = to_rgb8(array, photometric)
                reads = []
                for box in detect(models.detection, image):
                    (out,) = models.recognition.run(None, {name: recognition_input(image, box)})
                    reads.append((box, ctc_greedy(np.asarray(out)[0], models.characters)[0].strip()))
                seen[key] = reads
            found += [(number, b.x, b.y, b.width, b.height, text) for b, text in seen[key]]
        return found

    return run


def batched(pixels: np.ndarray, photometric: str) -> list[Read]:
    from redaction.text_finder import find_text

    return [
        (f.frame, f.x, f.y, f.width, f.height, f.text) for f in find_text(pixels, photometric=photometric)
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="the ~40-image set")
    p.add_argument("--set", type=Path, help="a set folder made by burned_in.py (default: generated)")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--seed", type=int, default=14)
    a = p.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    count = 40 if a.small else 200
    folder = a.set or burned_in.generate(count, a.seed, burned_in.CORPUS / ("small" if a.small else "full"))
    finders: dict[str, Callable[[np.ndarray, str], list[Read]]] = {
        "one a box": one_a_box(),
        "find_text": batched,
    }
    wall = dict.fromkeys(finders, 0.0)
    cpu = dict.fromkeys(finders, 0.0)
    frames = 0.0
    differing = 0
    truths = sorted((folder / "truth").glob("*.json"))[: a.limit]
    for n, truth in enumerate(truths):
        pixels, photometric = load(folder / "images" / json.loads(truth.read_text())["file"])
        frames += pixels.shape[0] * pixels.shape[1] * pixels.shape[2] / (640 * 480)
        results = {}
        for name in list(finders) if n % 2 == 0 else list(finders)[::-1]:
            w, c = time.perf_counter(), time.process_time()
            results[name] = finders[name](pixels, photometric)
            wall[name] += time.perf_counter() - w
            cpu[name] += time.process_time() - c
        before, after = results.values()
        if before != after:
            differing += 1
            print(f"{truth.name}: differs: {sorted(set(before) ^ set(after))}")
    print(f"{len(truths)} images, {frames:.1f} 640x480 frames; {differing} images read differently")
    for name in finders:
        ms = 1000 / frames
        print(f"{name}: {wall[name] * ms:.0f} ms wall, {cpu[name] * ms:.0f} ms CPU per 640x480 frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
