"""One burned-in test image: its background, its edges and where each string goes (display space + truth).

The layouts imitate where vendors burn text: a banner across the top of ultrasound, stacks of lines in the
corners of CT, MR and angiography, a label (often on a dark box) near a radiograph's corner; plus strings
touching an edge, a label over the anatomy, and on cine a time stamp that changes every frame, a frame
counter, and one identifier shown on a single frame only (a frame a finder that skips frames would miss).
Clean images get strong edges only (mosaic lines, calipers, rulers with ticks, bone ovals): any box on them
is a false alarm.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from burned_in_render import (
    COLORS,
    Canvas,
    Style,
    TextBox,
    background,
    draw_text,
    edges,
    place,
    size_tag,
    text_mask,
)
from burned_in_text import (
    HARMLESS,
    PILLOW_BITMAP,
    Identity,
    Spelling,
    clock,
    font_label,
    load_font,
    make_identity,
    phi_spellings,
)

SIZES = [8, 9, 10, 11, 12, 13, 14, 16, 18, 20, 22, 24, 28]
FRAME_TIME_MS = 33.3


@dataclass(frozen=True)
class Spec:
    """What to generate for one file (all of it follows from the seed)."""

    index: int
    kind: str  # CT, MR, CR, XA, US
    rows: int
    cols: int
    frames: int
    clean: bool
    seed: int

    @property
    def stem(self) -> str:
        cine = "-cine" if self.frames > 1 else ""
        clean = "-clean" if self.clean else ""
        return f"{self.index:03d}-{self.kind.lower()}{cine}{clean}"


@dataclass(frozen=True)
class Composed:
    frames: np.ndarray  # (frames, rows, cols, 3) display RGB 0..1
    boxes: list[TextBox]
    who: Identity


def _style(rng: random.Random, kind: str) -> Style:
    # Colour shows on ultrasound (RGB); on greyscale it becomes a grey level (yellow and green: dimmer).
    roll = rng.random()
    return Style(rng.choice(sorted(COLORS)), backing=roll < 0.3, low_contrast=0.3 <= roll < 0.5)


def _line(
    canvas: Canvas,
    rng: random.Random,
    s: Spelling,
    font_name: str,
    size: int,
    anchor: str,
    style: Style,
    frames: range,
    tags: tuple[str, ...],
    stack: int = 0,
) -> int:
    """Draw one string at an anchor; its height (0 when no room was found: the string is left out)."""
    font = load_font(font_name, size)
    mask = text_mask(s.text, font)
    h, w = int(mask.shape[0]), int(mask.shape[1])
    spot = place(canvas, w, h, anchor, rng, stack)
    if spot is None:
        return 0
    px = 11 if font_name == PILLOW_BITMAP else size
    all_tags = (*tags, size_tag(px), f"font:{font_label(font_name)}", f"color:{style.color}", f"at:{anchor}")
    draw_text(
        canvas, frames, *spot, mask, style, text=s.text, is_phi=s.is_phi, matches=s.matches, tags=all_tags
    )
    return h


def _banner(canvas: Canvas, rng: random.Random, lines: list[Spelling], font_name: str, size: int) -> None:
    """Ultrasound's top banner: a dark band with the identifiers side by side."""
    font = load_font(font_name, size)
    masks = [text_mask(s.text, font) for s in lines]
    band = max(m.shape[0] for m in masks) + 10
    canvas.frames[:, :band] = 0.1
    canvas.taken.append((0, band, canvas.cols, 2))  # nothing else in the band's bottom line
    x, style = 8, _style(rng, "US")
    style = Style(style.color)  # the band is the backing
    px = 11 if font_name == PILLOW_BITMAP else size
    for s, m in zip(lines, masks, strict=True):
        h, w = m.shape
        if x + w > canvas.cols - 8:
            break
        y = (band - h) // 2
        tags = ("kind:US", "banner", size_tag(px), f"font:{font_label(font_name)}", f"color:{style.color}")
        draw_text(
            canvas,
            range(canvas.frames.shape[0]),
            x,
            y,
            m,
            style,
            text=s.text,
            is_phi=s.is_phi,
            matches=s.matches,
            tags=tags,
        )
        x += w + rng.randint(16, 40)


def compose(spec: Spec, fonts: list[str]) -> Composed:
    rng = random.Random(spec.seed)
    nrng = np.random.default_rng(spec.seed)
    who = make_identity(rng)
    grey = np.stack([background(spec.kind, spec.rows, spec.cols, nrng) for _ in range(spec.frames)])
    canvas = Canvas(np.repeat(grey[..., None], 3, axis=3))
    if spec.clean:
        edges(canvas, rng, tuple(rng.sample(["grid", "calipers", "ruler", "bone"], rng.randint(2, 3))))
        return Composed(canvas.frames, [], who)
    if rng.random() < 0.35:
        edges(canvas, rng, (rng.choice(["calipers", "ruler", "bone", "grid"]),))
    font_name = rng.choice(fonts)
    size = rng.choice(SIZES)
    kind_tag = (f"kind:{spec.kind}",)
    every = range(spec.frames)

    def jitter() -> int:
        return min(28, max(8, size + rng.randint(-2, 2)))

    phi = phi_spellings(who, rng)
    rng.shuffle(phi)
    phi = phi[: rng.randint(2, 6)]
    harmless = [Spelling(t, False, None) for t in rng.sample(HARMLESS[spec.kind], rng.randint(1, 4))]
    if spec.kind == "US":
        _banner(canvas, rng, phi, font_name, size)
        phi = []
    corners = ["tl", "tr"] if spec.kind != "CR" else [rng.choice(["tl", "tr", "bl", "br"])]
    for k, corner in enumerate(corners):
        block, style, stack = phi[k :: len(corners)], _style(rng, spec.kind), 0
        for s in block:
            stack += _line(canvas, rng, s, font_name, jitter(), corner, style, every, kind_tag, stack) + 3
    style, stack = _style(rng, spec.kind), 0
    for s in harmless[:-1]:
        stack += _line(canvas, rng, s, font_name, jitter(), "bl", style, every, kind_tag, stack) + 3
    _line(canvas, rng, harmless[-1], font_name, jitter(), "any", _style(rng, spec.kind), every, kind_tag)
    if rng.random() < 0.4:  # one identifier touching an edge
        s = rng.choice(phi_spellings(who, rng))
        _line(
            canvas,
            rng,
            s,
            rng.choice(fonts),
            jitter(),
            "edge",
            _style(rng, spec.kind),
            every,
            (*kind_tag, "edge"),
        )
    if spec.frames > 1:
        _cine(canvas, rng, spec, who, font_name, size)
    return Composed(canvas.frames, canvas.boxes, who)


def _cine(canvas: Canvas, rng: random.Random, spec: Spec, who: Identity, font_name: str, size: int) -> None:
    """Per-frame time stamp and frame counter (same place, new text each frame); one frame-only identifier."""
    font = load_font(font_name, size)
    style = _style(rng, spec.kind)
    stamps = [clock(who, f * FRAME_TIME_MS / 1000) for f in range(spec.frames)]
    widest = max(text_mask(t, font).shape[1] for t in stamps)
    tall = max(text_mask(t, font).shape[0] for t in stamps)
    spot = place(canvas, widest, tall, "br", rng)
    if spot is not None:
        for f, t in enumerate(stamps):
            m = text_mask(t, font)
            tags = (f"kind:{spec.kind}", "cine_stamp", size_tag(size), f"font:{font_label(font_name)}")
            draw_text(
                canvas,
                range(f, f + 1),
                spot[0],
                spot[1],
                m,
                style,
                text=t,
                is_phi=True,
                matches=None,
                tags=tags,
            )
    counters = [f"Fr {f + 1}/{spec.frames}" for f in range(spec.frames)]
    widest = max(text_mask(t, font).shape[1] for t in counters)
    tall = max(text_mask(t, font).shape[0] for t in counters)
    spot = place(canvas, widest, tall, "tr" if spec.kind == "US" else "bl", rng, stack=tall * 6)
    if spot is not None:
        for f, t in enumerate(counters):
            draw_text(
                canvas,
                range(f, f + 1),
                spot[0],
                spot[1],
                text_mask(t, font),
                style,
                text=t,
                is_phi=False,
                matches=None,
                tags=(f"kind:{spec.kind}", "frame_counter", size_tag(size)),
            )
    one = rng.randrange(spec.frames)
    s = rng.choice(phi_spellings(who, rng)[:3])
    _line(
        canvas,
        rng,
        s,
        font_name,
        max(size, 12),
        "any",
        Style("yellow"),
        range(one, one + 1),
        (f"kind:{spec.kind}", "single_frame"),
    )
