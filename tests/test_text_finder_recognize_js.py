"""The page's recogniser (static/text_finder/recognize.mjs) without the model, under Node: a fake
onnxruntime (tests/text_finder_recognize_fake.mjs) shows which batches it runs and that each box reads what
it reads alone, in the boxes' order, and that a crop read before (the caller's `known` Map) is not run
again. The model itself is compared with the native one in tests/test_text_finder_parity.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = REPO_ROOT / "tests" / "text_finder_recognize_fake.mjs"


def _run() -> dict[str, Any]:
    node = os.environ.get("PACSBIN_NODE") or shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH (set $PACSBIN_NODE): the page's recogniser is tested under Node")
    proc = subprocess.run([node, str(HOST)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_page_recogniser_batches_equal_widths_and_reuses_known_crops() -> None:
    r = _run()
    alone = r["alone"]
    assert len(set(alone[:4])) == 4, f"the fake model must tell the boxes apart: {alone}"
    assert alone[4] == alone[2]  # the same crop
    assert r["together"] == alone
    # Widths: 320 (boxes 0 and 2; box 4 is box 2's crop, read once), 320 (box 3, turned: 30 x 20 -> t = 72),
    # 1200 (box 1: 48 * 500 / 20), each width one run.
    assert r["together_runs"] == [[3, 3, 48, 320], [1, 3, 48, 1200]]
    assert r["again_runs"] == [[1, 3, 48, 320]]  # only the changed crop
    assert r["again"] == [r["changed_alone"], *alone[1:]]
