"""JPEG baseline (1.2.840.10008.1.2.4.50) redacted in the compressed domain: no decoding, no re-compression.

- `markers`: the codestream's segments (what is blanked in place, and what is refused: NotInPlaceError).
- `huffman`: canonical codes, lookup tables to walk the data, DC tables extended for the fill.
- `scan`: one restart interval walked and re-coded around the blanked blocks.
- `align`: which black DC values keep the copied rest of a scan byte-aligned.
- `blank`: one frame's codestream with every block (MCU) under a rectangle black; `grid` its MCU size.
- `coefficients`: every block's quantised coefficients (the tests compare source and output with it).
Pure Python, no numpy: the page runs the same code under Pyodide.
"""

from .blank import Blanked, blank_frame, grid
from .markers import NotInPlaceError

# Transfer syntaxes whose regions are blanked in the codestream (the page does not decode them to redact).
IN_PLACE = frozenset({"1.2.840.10008.1.2.4.50"})

__all__ = ["IN_PLACE", "Blanked", "NotInPlaceError", "blank_frame", "grid"]
