// Which detected boxes are kept once recognition has read them: the port of redaction/text_finder/filters.py
// (the rule and why are written there). The page calls it after its recogniser, on each box's reading.

export const MIN_READ_SCORE = 0.7;

// Whether a box that read `text` with confidence `score` (0..1, the CTC mean) is kept as text.
export function keepRead(text, score) {
  return text.trim() !== "" && score >= MIN_READ_SCORE;
}
