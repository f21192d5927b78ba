"""The page's pixels, as its worker hands them to the engine: the reviewer's regions and decision, frames
the page's codecs decoded, and the worker's lossless encoders (issue 16). Split from browser_api.py; no
de-identification logic: it builds a redaction.PixelEdit.
"""

from __future__ import annotations

from typing import Any

from redaction.apply import PixelEdit
from redaction.decoded import DecodedPixels
from redaction.errors import UnsupportedPixelsError
from redaction.reencode import Encoders, FrameEncoder, FrameFormat
from redaction.regions import regions_from_json


def read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def page_encoder(name: str, what: str) -> FrameEncoder:
    """One of the worker's lossless encoders (static/codecs.mjs: CharLS's `encodeJpegLs`, OpenJPEG's
    `encodeJ2k`), which static/worker.mjs registers on the JS module `pacsbin_codecs`: a codec, called
    synchronously from inside this call (issue 16)."""
    import pacsbin_codecs  # type: ignore[import-not-found]  # only in the page's worker
    from pyodide.ffi import to_js  # type: ignore[import-not-found]

    function = getattr(pacsbin_codecs, name)

    def encode(frame: bytes, fmt: FrameFormat) -> bytes:
        try:
            shape = (fmt.rows, fmt.columns, fmt.samples, fmt.bits_allocated, fmt.bits_stored, fmt.signed)
            out = function(to_js(memoryview(frame)), *shape)
            return bytes(out.to_bytes())
        except Exception as exc:
            raise UnsupportedPixelsError(f"cannot encode the redacted pixels as {what}: {exc}") from None

    return encode


def page_encoders(raw: Any) -> Encoders:
    """The encoders the worker says it has: "encode" lists "jpeg-ls" and/or "j2k" (a string: one)."""
    wanted = raw.get("encode") or []
    names = {wanted} if isinstance(wanted, str) else set(wanted)
    return Encoders(
        jpeg_ls=page_encoder("encodeJpegLs", "JPEG-LS") if "jpeg-ls" in names else None,
        j2k=page_encoder("encodeJ2k", "JPEG 2000") if "j2k" in names else None,
    )


class DecodeInPage:
    """The engine's decoder in the page: Python has none there (no numpy), the worker's codecs decode.
    Asked (a JPEG baseline codestream that cannot be blanked in place: progressive, 12-bit, arithmetic
    coded), it remembers it and fails, so that nothing is written; the worker then decodes and asks again."""

    def __init__(self) -> None:
        self.asked = False

    def __call__(self, ds: Any) -> DecodedPixels:
        self.asked = True
        raise UnsupportedPixelsError("the page's codecs decode these pixels first")


def pixel_edit(raw: Any, decode: DecodeInPage | None = None) -> PixelEdit | None:
    """The page's decision about one file's pixels: {"regions": [REGIONS.json entries], "reviewed": bool,
    "decoded": {"path": MEMFS file of every decoded frame, "rows", "columns", "frames", "samples",
    "bits_allocated", "bits_stored", "signed", "photometric"}} (decoded: compressed pixels, page codecs),
    "encode": ["jpeg-ls", "j2k"]: the worker's encoders for the redacted frames (else RLE). Without
    "decoded", pixels the engine would have to decode (the JPEG it cannot blank in place) make the answer
    {"status": "decode"}: the worker decodes every frame and asks again (browser_api._deidentify)."""
    if not raw:
        return None
    decoded = None
    if raw.get("decoded"):
        d = raw["decoded"]
        decoded = DecodedPixels(
            data=read_file(d["path"]),
            rows=int(d["rows"]),
            columns=int(d["columns"]),
            frames=int(d["frames"]),
            samples=int(d["samples"]),
            bits_allocated=int(d["bits_allocated"]),
            bits_stored=int(d["bits_stored"]),
            signed=bool(d["signed"]),
            photometric=str(d["photometric"]),
        )
    return PixelEdit(
        regions=tuple(regions_from_json(raw.get("regions") or [])),
        reviewed=bool(raw.get("reviewed")),
        decoded=decoded,
        encoders=page_encoders(raw),
        decode=decode or DecodeInPage(),
    )
