"""Keep the copied rest of a scan byte-aligned by choosing which black DC values the blanked blocks get.

A walk that stops after the last blanked block copies the rest of the interval bit-shifted, with the
source's padding. Shifted, that padding can end in a whole byte of 1-bits, which a decoder cannot tell from
data (F.1.2.3 pads with fewer than eight); walking the interval to its end would re-pad it, at the cost of
walking every block. Instead: black is not one DC value but a range (every d with d * Q <= -1024 shows 0,
as decoders clamp; MONOCHROME1's white the same upwards), and the coded length of the new DC differences
depends on which one each blanked block gets. The last blanked blocks' values are chosen, nearest to the
plain fill first, so that the new codes change the length by a multiple of 8 bits: the rest is then copied
byte for byte, its padding the source's, and nothing more is walked.
"""

from __future__ import annotations

from itertools import product

from .huffman import EOB, category
from .scan import COPY, DC, END_OF_BLOCK, TAIL, Piece

# A DC value stays within twice the least black (d * Q within +-2048: sample -256 or +383 before the level
# shift; IJG's range limit clamps -640..-129 to 0), and within this many steps of it: few to try.
_STEPS = 12
_VARIED = 2  # blanked blocks whose value is chosen (up to _STEPS ** _VARIED combinations tried)


def black_values(fill: int, q: int) -> tuple[int, ...]:
    """The quantised DC values that show the same black as `fill` (its own first, then further from 0)."""
    if fill == 0:
        return (0,)  # chroma: exactly no colour
    if fill < 0:
        lowest = min(fill, max(-(2048 // q), fill - _STEPS))  # the fill itself even past 2048 (q > 1024)
        return tuple(range(fill, lowest - 1, -1))
    highest = max(fill, min(2047 // q, fill + _STEPS))
    return tuple(range(fill, highest + 1))


def _length(value: int, codes: dict[int, tuple[int, int]]) -> int | None:
    size = category(value)
    coded = codes.get(size)
    return None if coded is None else coded[1] + size


def realigned(
    pieces: list[Piece],
    choices: tuple[tuple[int, ...], ...],
    dc_codes: tuple[dict[int, tuple[int, int]], ...],
    ac_codes: tuple[dict[int, tuple[int, int]], ...],
) -> list[Piece] | None:
    """The pieces with some blanked blocks' DC values changed (within `choices` per scan component, and only
    to categories the tables code) so that the bits before the TAIL piece are as many as the source's
    modulo 8; None if there is no tail, or no choice does it."""
    if not pieces or pieces[-1][0] != TAIL:
        return None
    length = 0
    for kind, a, b in pieces[:-1]:
        if kind == COPY:
            length += b - a
        elif kind == DC:
            n = _length(b, dc_codes[a])
            assert n is not None  # the tables were fitted to every piece
            length += n
        else:
            length += ac_codes[a][EOB][1]
    off = (length - pieces[-1][1]) % 8
    if off == 0:
        return None
    # Each component's DC pieces in order: a blanked block's is followed by its EOB (scan.walk emits the
    # next block's DC after a blanked one even when unchanged, so every neighbour's difference is explicit).
    chains: dict[int, list[int]] = {}
    for i, (kind, k, _) in enumerate(pieces):
        if kind == DC:
            chains.setdefault(k, []).append(i)
    varied: list[tuple[int, int, int]] = []  # (piece index, next piece index of the component, component)
    for k, chain in sorted(chains.items(), reverse=True):
        if len(choices[k]) < 2:
            continue
        for at in range(len(chain) - 2, -1, -1):
            i = chain[at]
            if pieces[i + 1][0] == END_OF_BLOCK and len(varied) < _VARIED:
                varied.append((i, chain[at + 1], k))
    if not varied:
        return None
    varied.reverse()  # in coding order: a varied block's value shifts the next one's difference
    return _search(pieces, varied, choices, dc_codes, off)


def _search(
    pieces: list[Piece],
    varied: list[tuple[int, int, int]],
    choices: tuple[tuple[int, ...], ...],
    dc_codes: tuple[dict[int, tuple[int, int]], ...],
    off: int,
) -> list[Piece] | None:
    """The first combination, nearest to the plain fill, whose new lengths make up `off` modulo 8."""
    touched = sorted({i for i, _, _ in varied} | {j for _, j, _ in varied})
    before = 0
    for i in touched:
        n = _length(pieces[i][2], dc_codes[pieces[i][1]])
        assert n is not None
        before += n
    combos = sorted(product(*(range(len(choices[k])) for _, _, k in varied)), key=sum)
    for combo in combos[1:]:
        trial = {i: pieces[i][2] for i in touched}
        for (i, j, k), c in zip(varied, combo, strict=True):
            shift = choices[k][c] - choices[k][0]  # the block's value moves by shift:
            trial[i] += shift  # its own difference grows by it, the next block's shrinks by it
            trial[j] -= shift
        after = 0
        for i in touched:
            n = _length(trial[i], dc_codes[pieces[i][1]])
            if n is None:
                break
            after += n
        else:
            if (after - before + off) % 8 == 0:
                out = list(pieces)
                for i, value in trial.items():
                    out[i] = (DC, pieces[i][1], value)
                return out
    return None


__all__ = ["black_values", "realigned"]
