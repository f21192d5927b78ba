"""filters.keep_read: which boxes are kept once read (redaction/text_finder/filters.py)."""

from __future__ import annotations

import pytest

from redaction.text_finder.filters import MIN_READ_SCORE, keep_read


@pytest.mark.parametrize(
    ("text", "score", "kept"),
    [
        ("DOE, JOHN", 0.93, True),
        ("L", 0.99, True),  # an orientation marker: one letter, read surely, is text
        ("8", MIN_READ_SCORE, True),
        ("", 0.0, False),  # reads nothing: a lung field, a bone oval
        (" ", 0.95, False),
        ("幸", 0.05, False),  # texture read as a Chinese character, unsure
        ("RS", 0.32, False),
        ("8", MIN_READ_SCORE - 1e-4, False),
    ],
)
def test_keep_read(text: str, score: float, kept: bool) -> None:
    assert keep_read(text, score) is kept
