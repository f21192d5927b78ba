"""Text suggestions (static/suggestions.mjs, under Node): boxes found at the same place on several frames
of one image are one decision with its frame list; a time stamp that changes but stays in place is one box;
the header match lists matching ones first; accept makes the REGIONS.json entry (with text and matches,
read back by redaction/regions.py), dismiss makes nothing, and a deleted region makes its suggestion
undecided again (the review gate counts it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from redaction.regions import regions_from_json

MODULE = (Path(__file__).resolve().parent.parent / "static" / "suggestions.mjs").as_uri()


def _run(script: str) -> Any:
    node = os.environ.get("PACSBIN_NODE") or shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH (set $PACSBIN_NODE): the page's modules are tested under Node")
    code = f'import * as S from "{MODULE}";\nconst out = await (async () => {{ {script} }})();\n'
    code += "process.stdout.write(JSON.stringify(out));"
    proc = subprocess.run([node, "--input-type=module", "-e", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _box(x: int, y: int, w: int = 80, h: int = 14, text: str = "") -> dict[str, Any]:
    return {"x": x, "y": y, "width": w, "height": h, "score": 0.9, "text": text}


def _merge(frames: list[dict[str, Any]], count: int) -> Any:
    return _run(f"return S.mergeFrames('1.2.3', {json.dumps(frames)}, {count});")


def test_a_name_on_every_frame_of_a_cine_is_one_suggestion_for_every_frame() -> None:
    frames = [{"frame": f, "boxes": [_box(10 + f % 2, 20, text="DOE, JOHN")]} for f in range(1, 301)]
    (s,) = _merge(frames, 300)
    assert s["frames"] is None and (s["x"], s["y"], s["width"], s["height"]) == (10, 20, 81, 14)
    assert s["text"] == "DOE, JOHN" and s["id"] == "1.2.3#1"


def test_a_time_stamp_that_changes_in_place_is_one_box_with_its_readings() -> None:
    frames = [{"frame": f, "boxes": [_box(500, 460, 70 + (f % 3), text=f"12:01:0{f}")]} for f in range(1, 6)]
    frames.append({"frame": 6, "boxes": []})
    (s,) = _merge(frames, 6)
    assert s["frames"] == [1, 2, 3, 4, 5]
    assert s["readings"] == [f"12:01:0{f}" for f in range(1, 6)]
    assert s["text"] == "12:01:01 / 12:01:02 / 12:01:03 / …"


@pytest.mark.parametrize(("dx", "one"), [(0, True), (2, True), (3, False)])
def test_boxes_are_one_within_2_px(dx: int, one: bool) -> None:
    frames = [{"frame": 1, "boxes": [_box(100, 100)]}, {"frame": 2, "boxes": [_box(100 + dx, 100)]}]
    assert len(_merge(frames, 2)) == (1 if one else 2)


def test_a_stamp_on_one_frame_only_is_kept_with_that_frame() -> None:
    frames = [{"frame": 1, "boxes": []}, {"frame": 2, "boxes": [_box(5, 5)]}, {"frame": 3, "boxes": []}]
    (s,) = _merge(frames, 3)
    assert s["frames"] == [2] and s["text"] == ""


def test_header_matches_come_first_with_their_names() -> None:
    out = _run(
        """
        const found = S.mergeFrames("1.2.3", [{frame: 1, boxes: [
          {x: 1, y: 1, width: 9, height: 9, text: "L 4.2 cm"},
          {x: 1, y: 200, width: 9, height: 9, text: "DOE, JOHN"}]}], 1);
        return S.applyMatches(found, ["L 4.2 cm", "DOE, JOHN"],
          {matches: [[], ["PatientName"]], names: {PatientName: "Patient's Name"}});
        """
    )
    assert [s["text"] for s in out] == ["DOE, JOHN", "L 4.2 cm"]
    assert out[0]["matches"] == ["PatientName"] and out[0]["names"] == ["Patient's Name"]


def test_accept_dismiss_and_the_gate_count() -> None:
    out = _run(
        """
        const regions = [];
        const sugg = S.mergeFrames("1.2.3", [{frame: 1, boxes: [
          {x: 1, y: 1, width: 9, height: 9, text: "DOE"}, {x: 50, y: 50, width: 9, height: 9, text: ""}]},
          {frame: 2, boxes: []}], 2);
        sugg[0].matches = ["PatientName"];
        const inst = {header: {Rows: 64}, textScan: {status: "done", suggestions: sugg}};
        const clean = {header: {Rows: 64}, textScan: {status: "done", suggestions: []}};
        const series = {instances: [inst, clean, {header: {Rows: 64}}]};
        const steps = [S.textStatus(series, regions)];
        S.accept(sugg[0], regions);
        steps.push(S.textStatus(series, regions));
        S.dismiss(sugg[1], regions);
        steps.push(S.textStatus(series, regions));
        const accepted = JSON.parse(JSON.stringify(regions));
        regions.splice(0, 1); // the reviewer deletes the accepted region: undecided again
        steps.push(S.textStatus(series, regions));
        S.acceptAll(series, regions);
        steps.push(S.textStatus(series, regions));
        const counts = steps.map((s) => [s.found, s.undecided, s.notLooked]);
        return {steps: counts, accepted, after: regions.length};
        """
    )
    assert out["steps"] == [[1, 2, 1], [1, 1, 1], [1, 0, 1], [1, 1, 1], [1, 0, 1]]
    (region,) = out["accepted"]
    assert region == {
        "sop_instance_uid": "1.2.3",
        "frames": [1],
        "x": 1,
        "y": 1,
        "width": 9,
        "height": 9,
        "text": "DOE",
        "matches": ["PatientName"],
    }
    (parsed,) = regions_from_json(out["accepted"])  # the engine reads it as the viewer wrote it
    assert parsed.text == "DOE" and parsed.matches == ("PatientName",) and parsed.frames == (1,)
    assert out["after"] == 1  # accept all: the undecided one only; the dismissed one stays dismissed


CHECKS = (Path(__file__).resolve().parent.parent / "static" / "checks.mjs").as_uri()
PAGE = (Path(__file__).resolve().parent.parent / "static" / "page.mjs").as_uri()


def test_the_review_gate_waits_for_every_suggestion() -> None:
    """static/checks.mjs: a series with text found waits for a check even when the review rule sees no
    risk (a CT with a name on it), and cannot be confirmed while a suggestion is undecided, nor while the scan
    has not looked at its images yet (unless the scan was cancelled: then the person decides)."""
    out = _run(
        f"""
        const C = await import("{CHECKS}");
        const {{ state }} = await import("{PAGE}");
        const sugg = S.mergeFrames("1.2.3", [{{frame: 1, boxes: [{{x: 1, y: 1, width: 9, height: 9}}]}}], 1);
        const inst = {{header: {{Rows: 64}}, framesShown: new Set([1]), frameCount: 1}};
        const series = {{pixelReview: false, checked: false, instances: [inst]}};
        const steps = [[C.gated(series), C.canConfirm(series)]];  // the scan has not looked yet
        state.textScan = {{status: "cancelled", reason: ""}};
        steps.push([C.gated(series), C.canConfirm(series)]);  // cancelled: not held back
        state.textScan = {{status: "running", reason: ""}};
        inst.textScan = {{status: "done", suggestions: sugg}};
        steps.push([C.gated(series), C.canConfirm(series)]);
        S.dismiss(sugg[0], state.regions);
        steps.push([C.gated(series), C.canConfirm(series)]);
        return steps;
        """
    )
    assert out == [[False, False], [False, True], [True, False], [True, True]]
