"""How people write names: the forms of a Person Name to look for, and the folding that makes spellings equal.

A PN value (PS3.5 6.2) is up to three component groups separated by "=" (alphabetic, ideographic,
phonetic), each of up to five components separated by "^" (family, given, middle, prefix, suffix). Free
text uses none of that structure: "García-Núñez^José" is written "Garcia Nunez", "GARCIANUNEZ" or "José";
"Müßig" is written "MÜSSIG" or "Muessig"; "山田^太郎" is written "山田太郎様". So a name contributes each
word of each component, runs of words as written together, and the whole name; the scrub compares them
with the text after both are folded (`fold`): Unicode case folding (ß -> ss), compatibility decomposition
with the accents removed, the letters Unicode does not decompose (data/name_letters.csv), and invisible
format characters dropped. `spellings` adds the transliterations of data/name_letters.csv (ü -> ue) both ways.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

# Where one word of a name ends and the next begins, in a PN value and in free text: the PN delimiters,
# blanks (the ideographic space folds to a space), and the punctuation inside names: O'Brien, García-Núñez,
# St. John. Typographic apostrophes and hyphens and the middle dots of foreign names in kana (ジョン・スミス)
# fold to their ASCII forms, so that the class a pattern repeats between words stays ASCII (a class with
# other characters takes six times as long to compile, once per file).
SEPARATOR_CLASS = "[\\s^=,\\-'./_]"
_PUNCTUATION = {
    "\u2018": "'",
    "\u2019": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u00b7": ".",
    "\u30fb": ".",
}
_SEPARATOR = re.compile("[\\s^=,\\-'./_" + "".join(_PUNCTUATION) + "]+")
# A component group of more words is no name as people write it (PS3.5 6.2 gives a group 64 characters):
# its words are looked for one by one, without the joined forms, which would make the scrub's pattern
# grow with the square of the value's length (a 100,000-character name).
MAX_NAME_WORDS = 8

# Scripts written without spaces between words (CJK ideographs, kana, Hangul): a part of any length is a
# name there (山, 홍), and it is found inside other text, as there are no word boundaries to wait for.
_EAST_ASIAN = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # 々 〆 〇 (佐々木)
    (0x3040, 0x30FA),  # Hiragana, Katakana (not the middle dot, a separator)
    (0x30FC, 0x31FF),  # prolonged sound mark, Bopomofo, Hangul compatibility Jamo, Katakana extension
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo Extended-B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFFDC),  # halfwidth katakana and Hangul
    (0x20000, 0x3FFFF),  # CJK Extensions B-H
)


def is_east_asian(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _EAST_ASIAN)


@cache
def _letters() -> dict[str, tuple[str, str]]:
    """data/name_letters.csv: letter -> (folded, also written)."""
    text = resources.files("anonymizer").joinpath("data/name_letters.csv").read_text("utf-8")
    return {r["letter"]: (r["folded"], r["also_written"]) for r in csv.DictReader(text.splitlines())}


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """One character as the scrub compares it: possibly empty (an accent, a soft hyphen) or longer (ß)."""
    out = []
    for c in char.casefold():
        if c in _PUNCTUATION:
            out.append(_PUNCTUATION[c])
        elif c in _letters():
            out.append(_letters()[c][0])
        elif is_east_asian(c):
            # NFKC, not NFKD: the voicing marks of kana (が) and Hangul syllables stay whole.
            out.append(unicodedata.normalize("NFKC", c))
        elif unicodedata.category(c) == "Cf":
            continue  # soft hyphen, zero-width space, bidi controls: invisible, they must not hide a name
        else:
            decomposed = unicodedata.normalize("NFKD", c)
            out.append("".join(d for d in decomposed if not unicodedata.combining(d)).casefold())
    return "".join(out)


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()  # the same as folding each character, much faster
    return "".join(map(fold_char, text))


def words(text: str) -> list[str]:
    return [w for w in _SEPARATOR.split(text) if w]


def spellings(term: str) -> set[str]:
    """The folded ways to write a term: as folded, transliterated (Müßig -> muessig) and, for a term
    written transliterated, with the letter back (Mueller -> muller, which is how Müller folds)."""
    folded = fold(term)
    found = {folded}
    letters = _letters()
    if any(c in letters for c in term.casefold()):
        found.add(fold("".join(letters[c][1] or c if c in letters else c for c in term.casefold())))
    back = folded
    for letter_folded, also in sorted({(f, a) for f, a in letters.values() if a}):
        back = back.replace(also, letter_folded)
    found.add(back)
    return found


def _is_part(word: str, shortest: int) -> bool:
    if word.isdigit():
        return False
    if any(is_east_asian(c) for c in word):
        return True
    return len(fold(word)) >= shortest


@lru_cache(maxsize=4096)
def name_forms(value: str) -> frozenset[str]:
    """Every form of a PN value to look for in text (the scrub makes separators between words optional).
    Cached: the files of a patient, a study, a series carry the same names (~50 µs a name)."""
    forms: set[str] = set()
    for group in value.split("="):
        components = [words(c) for c in group.split("^")]
        every = [w for ws in components for w in ws]
        for i, ws in enumerate(components):
            # Family, given and middle names: a part of two letters is a name (Li, Wu, Ng), found as a whole
            # word only. A lone initial identifies no one and would blank "A" in "A/P"; prefixes and
            # suffixes of two letters (Dr, Jr, MD) are titles, not names.
            shortest = 2 if i < 3 else 3
            forms.update(w for w in ws if _is_part(w, shortest))
        if not every or len(every) > MAX_NAME_WORDS:
            continue  # its words are enough; joined forms would grow with the square of its length
        if len(every) > 1 or _is_part(every[0], 2):
            forms.add(group.strip("^ "))
        for ws in components:
            # One component's words written together: O'Brien as OBrien, O Brien; García-Núñez as GarciaNunez.
            for start in range(len(ws)):
                for end in range(start + 2, len(ws) + 1):
                    forms.add(" ".join(ws[start:end]))
        if len(components) > 1 and components[0] and components[1]:
            family, given = components[0], components[1]
            forms.add(" ".join(family + given))  # Yamada Tarou, 山田太郎
            forms.add(" ".join(given + family))  # Tarou Yamada
    return frozenset(forms)
