"""The native text finder on rendered text: found, covered, read and matched to the header; nothing on a
clean image with strong edges; every frame of a cine. Needs the models (tools/fetch_models.py, which the
test command's set-up runs); skipped with the reason when they are absent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from text_images import (
    HEADER,
    LABELS_CT,
    Label,
    covered,
    ct_picture,
    dicom_file,
    draw,
    edges_picture,
    us_picture,
)

from anonymizer.found_text import find_in_file, models_missing
from redaction.regions import Region

MISSING = models_missing()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"text finder cannot run: {MISSING}")

LABELS = LABELS_CT


def _ct() -> tuple[bytes, Any]:
    mask, drawn = draw((480, 640), LABELS)
    img = ct_picture()
    img[mask] = 4095  # the top of 12 bits, as scanners burn text
    return dicom_file(img, photometric="MONOCHROME2", bits_stored=12), drawn


def _cr_monochrome1() -> tuple[bytes, Any]:
    mask, drawn = draw((480, 640), LABELS)
    img = (4095 - ct_picture()).astype(np.uint16)  # MONOCHROME1: small values show white
    img[mask] = 0
    return dicom_file(img, photometric="MONOCHROME1", modality="CR", bits_stored=12), drawn


def _us_yellow() -> tuple[bytes, Any]:
    mask, drawn = draw((480, 640), [*LABELS, Label("SAINT ELSEWHERE HOSPITAL", 330, 12, 14)])
    img = us_picture()
    img[mask] = (230, 220, 40)  # yellow text
    return dicom_file(img, photometric="RGB", modality="US"), drawn


def _boxes(regions: tuple[Region, ...], frame: int = 1) -> list[tuple[int, int, int, int]]:
    return [(r.rect.x, r.rect.y, r.rect.width, r.rect.height) for r in regions if r.frames == (frame,)]


def _region_over(regions: tuple[Region, ...], ink: Any) -> list[Region]:
    """The regions holding some of this label's ink."""
    ys, xs = np.nonzero(ink)
    return [
        r
        for r in regions
        if (
            (xs >= r.rect.x)
            & (xs < r.rect.x + r.rect.width)
            & (ys >= r.rect.y)
            & (ys < r.rect.y + r.rect.height)
        ).any()
    ]


@pytest.mark.parametrize("make", [_ct, _cr_monochrome1, _us_yellow], ids=["ct-12bit", "cr-mono1", "us-rgb"])
def test_text_found_covered_and_matched(make: Any) -> None:
    data, drawn = make()
    found = find_in_file(data)
    assert found.frames == 1
    for label in drawn:
        assert covered(label.ink, _boxes(found.regions)) == 1.0, label.text
    expected = {
        "DOE, JOHN": "PatientName",
        "ID 12345678": "PatientID",
        "11.03.2024 14:22": "StudyDate",
        "SAINT ELSEWHERE HOSPITAL": "InstitutionName",
    }
    for label in drawn:
        over = _region_over(found.regions, label.ink)
        matches = {m for r in over for m in r.matches}
        assert expected[label.text] in matches, (label.text, [(r.text, r.matches) for r in over])
    # Regions that match the header come first.
    flags = [bool(r.matches) for r in found.regions]
    assert flags == sorted(flags, reverse=True)
    # Boxes stay near the text: no box is more than a few times its line's height.
    for r in found.regions:
        assert r.rect.height <= 40 and r.text is not None


def test_clean_image_with_strong_edges_has_nothing() -> None:
    data = dicom_file(edges_picture(), photometric="MONOCHROME2", bits_stored=12)
    assert find_in_file(data).regions == ()


def test_cine_every_frame_and_a_one_frame_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    from redaction.text_finder import finder

    base = us_picture(240, 320)
    frames = np.repeat(base[None], 8, axis=0)
    stamp_mask, stamp = draw((240, 320), [Label("DOE JOHN", 150, 200, 16)])
    frames[5][stamp_mask] = 255  # frame 6 only
    calls: list[int] = []
    real = finder._read_frame

    def counting(frame: Any, photometric: str, known: Any, weights: Any) -> Any:
        calls.append(1)
        return real(frame, photometric, known, weights)

    monkeypatch.setattr(finder, "_read_frame", counting)
    header = dict(HEADER)
    found = find_in_file(dicom_file(frames, photometric="RGB", modality="US", header=header))
    assert found.frames == 8
    assert len(calls) == 2  # seven identical frames are read once, the stamped one on its own
    on_six = [r for r in found.regions if r.frames == (6,)]
    assert covered(stamp[0].ink, _boxes(found.regions, 6)) == 1.0
    assert any("PatientName" in r.matches for r in on_six)
    assert all(r.frames == (6,) for r in found.regions)


def test_a_time_stamp_per_frame_is_found_on_every_frame() -> None:
    base = us_picture(240, 320)
    frames = np.repeat(base[None], 4, axis=0)
    inks = []
    for i in range(4):
        mask, drawn = draw((240, 320), [Label(f"00:0{i}.{i * 3}", 240, 8, 14)])
        frames[i][mask] = 255
        inks.append(drawn[0].ink)
    found = find_in_file(dicom_file(frames, photometric="RGB", modality="US"))
    for i, ink in enumerate(inks):
        assert covered(ink, _boxes(found.regions, i + 1)) == 1.0, f"frame {i + 1}"


def test_a_batch_reads_each_box_as_the_box_alone_bit_for_bit() -> None:
    """recognize.read_boxes stacks the boxes of one width into one run: the model's output for each is
    the output of its run alone (what makes the batching and the crop reuse safe)."""
    from redaction.text_finder.detect import detect
    from redaction.text_finder.models import load_models
    from redaction.text_finder.prepare import to_rgb8
    from redaction.text_finder.recognize import batches, recognition_input

    models = load_models()
    mask, _ = draw((480, 640), LABELS)
    ct = ct_picture()
    ct[mask] = 4095
    image = to_rgb8(ct, "MONOCHROME2")
    tensors = [recognition_input(image, box) for box in detect(models.detection, image)]
    groups = batches([t.shape[3] for t in tensors])
    assert any(len(g) > 1 for g in groups), "no batch of two boxes: the comparison would be empty"
    name = models.recognition.get_inputs()[0].name
    for group in groups:
        (together,) = models.recognition.run(None, {name: np.concatenate([tensors[i] for i in group])})
        for row, i in enumerate(group):
            (alone,) = models.recognition.run(None, {name: tensors[i]})
            assert np.array_equal(np.asarray(together)[row], np.asarray(alone)[0]), f"box {i}"
