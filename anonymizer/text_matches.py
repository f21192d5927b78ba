"""Which of a file's own identifiers a piece of burned-in text spells (issue 14: "matches Patient's Name").

The text finder (redaction.text_finder, native; the page's worker later) reads text lines in the pixels;
this marks each with the attributes of the same file whose values it spells: names and their parts, IDs,
accession and order numbers, dates in common spellings (2024-03-11, 11.03.2024, 03/11/2024...),
institution and its two-word shortenings. The identifiers and the matching are those of the C action's
cleaning (scrub.py): folded (case, accents), separators optional, short name parts standing alone. Pure
Python (no numpy): the page can use it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

from .rules.scrub import IDENTIFIER_KEYWORDS, Scrubber, compile_scrubber, identifiers_by_attribute

# The order matches are listed in: the patient's own identifiers first, as the issue proposes them first.
_ORDER = {keyword: i for i, keyword in enumerate(IDENTIFIER_KEYWORDS)}


@dataclass(frozen=True)
class HeaderMatcher:
    """One compiled matcher per attribute that holds identifiers."""

    by_attribute: tuple[tuple[str, Scrubber], ...]

    def matches(self, text: str) -> tuple[str, ...]:
        """The keywords of the attributes whose identifiers `text` spells, patient's first."""
        if not text.strip():
            return ()
        return tuple(keyword for keyword, scrubber in self.by_attribute if scrubber.finds(text))


def header_matcher(ds: Dataset) -> HeaderMatcher:
    compiled = []
    for keyword, terms in identifiers_by_attribute(ds).items():
        scrubber = compile_scrubber(terms)
        if scrubber is not None:
            compiled.append((keyword, scrubber))
    compiled.sort(key=lambda pair: (_ORDER.get(pair[0], len(_ORDER)), pair[0]))
    return HeaderMatcher(tuple(compiled))
