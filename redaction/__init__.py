"""Pixel redaction (Clean Pixel Data, PS3.15 E.3.1): pure Python, bytes in and bytes out; runs in Pyodide.

- `regions`: the REGIONS.json format (reviewer's rectangles, matched on original UIDs).
- `layout` + `rectangles`: filling rectangles of uncompressed pixel data, every layout, with "black".
- `decoded`: compressed input, decoded (page codecs or pydicom natively), written uncompressed.
- `signatures`: CTP's burned-in annotation library, proposing regions for known devices.
- `apply.redact_dataset`: the entry point the engine calls.
- `high_bits`: bits outside Bits Stored (embedded overlays) cleared in uncompressed pixel data, every file.
"""
