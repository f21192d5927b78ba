"""Which detected boxes are kept once recognition has read them: a pure function of what was read, so the
page (static/text_finder/filters.mjs, after its own recognition) applies the very same rule.

Rule: a box is kept when the recogniser reads at least one character with a mean confidence (its CTC
score: the mean of the kept characters' highest probabilities, recognize.py step 6) >= MIN_READ_SCORE.
Why: the detector's false alarms on images without text (lung fields, bone ovals, vessel trees, mosaic
lines: edges that look like strokes) read nothing, or one or two characters the model is unsure of, often
a Chinese character (the model's 6,625 classes are mostly those) made from texture. Burned-in text reads
with confidence: on the burned-in set (the shipped float16-weight models), 34 of the 35 boxes on no text
are dropped and 1,892 of the 1,899 boxes on text kept (bench/README.md "Burned-in text"; the threshold
chosen on half the set: at 0.5 or 0.6, two more of its 15 clean images were touched).
A box that reads one letter with confidence ("L", "R" orientation markers) is kept: it is text.
Without recognition (find_text(recognise=False), the page before its recogniser runs) nothing is filtered:
more false alarms, never fewer finds.
"""

from __future__ import annotations

MIN_READ_SCORE = 0.7


def keep_read(text: str, score: float) -> bool:
    """Whether a box that read `text` with confidence `score` (0..1) is kept as text."""
    return bool(text.strip()) and score >= MIN_READ_SCORE
