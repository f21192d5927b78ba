"""CTP's burned-in annotation library: device signatures that propose regions to black out.

The library (data/ctp-DicomPixelAnonymizer.script, its source and the semantics we follow in
data/SOURCES.md) is parsed once. Its regions are suggestions: the page shows them for the reviewer to
accept or change, and the CLI applies them only when asked (--redact-signatures). Never silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydicom.datadict import tag_for_keyword

from .errors import SignatureScriptError
from .rectangles import Rect
from .regions import Region

_REGION = re.compile(r"\(\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>[*+!()])
      | (?P<ident>\[[0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\]|[A-Za-z][A-Za-z0-9]*)\.(?P<method>[A-Za-z]+)\s*
        \(\s*"(?P<arg>[^"]*)"\s*\)
    )""",
    re.VERBOSE,
)


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        return float("nan")


_METHODS: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda v, a: v == a,
    "equalsignorecase": lambda v, a: v.lower() == a.lower(),
    "contains": lambda v, a: a in v,
    "containsignorecase": lambda v, a: a.lower() in v.lower(),
    "startswith": lambda v, a: v.startswith(a),
    "startswithignorecase": lambda v, a: v.lower().startswith(a.lower()),
    "endswith": lambda v, a: v.endswith(a),
    "endswithignorecase": lambda v, a: v.lower().endswith(a.lower()),
    "matches": lambda v, a: re.fullmatch(a, v) is not None,
    "islessthan": lambda v, a: _number(v) < _number(a),
    "isgreaterthan": lambda v, a: _number(v) > _number(a),
}

# A condition compiled to a function of the dataset.
Condition = Callable[[Any], bool]


def _value(ds: Any, tag: int) -> str:
    elem = ds.get(tag)
    if elem is None or elem.VR == "SQ" or elem.value is None:
        return ""
    value = elem.value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("latin-1").rstrip("\0 ")
    return str(value).strip()


class _Parser:
    """expr := term ('+' term)* ; term := factor ('*' factor)* ; factor := '!' factor | '(' expr ')' | test"""

    def __init__(self, text: str, where: str) -> None:
        self.where = where
        self.tokens: list[tuple[str, ...]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                raise SignatureScriptError(f"{where}: cannot read the condition at {text[pos : pos + 30]!r}")
            if m.group("op"):
                self.tokens.append(("op", m.group("op")))
            else:
                self.tokens.append(("test", m.group("ident"), m.group("method"), m.group("arg")))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0

    def parse(self) -> Condition:
        cond = self.expr()
        if self.i != len(self.tokens):
            raise SignatureScriptError(
                f"{self.where}: unexpected {self.tokens[self.i][-1]!r} in the condition"
            )
        return cond

    def peek(self) -> tuple[str, ...] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def expr(self) -> Condition:
        terms = [self.term()]
        while self.peek() == ("op", "+"):
            self.i += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else (lambda ds: any(t(ds) for t in terms))

    def term(self) -> Condition:
        factors = [self.factor()]
        while self.peek() == ("op", "*"):
            self.i += 1
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else (lambda ds: all(f(ds) for f in factors))

    def factor(self) -> Condition:
        tok = self.peek()
        if tok is None:
            raise SignatureScriptError(f"{self.where}: the condition ends too early")
        self.i += 1
        if tok == ("op", "!"):
            inner = self.factor()
            return lambda ds: not inner(ds)
        if tok == ("op", "("):
            inner = self.expr()
            if self.peek() != ("op", ")"):
                raise SignatureScriptError(f"{self.where}: a '(' is not closed")
            self.i += 1
            return inner
        if tok[0] != "test":
            raise SignatureScriptError(f"{self.where}: unexpected {tok[1]!r} in the condition")
        _, ident, method, arg = tok
        test = _METHODS.get(method.lower())
        if test is None:
            raise SignatureScriptError(f"{self.where}: unknown method {method!r}")
        if ident.startswith("["):
            tag = int(ident[1:5] + ident[6:10], 16)
        else:
            found = tag_for_keyword(ident)
            if found is None:
                raise SignatureScriptError(f"{self.where}: unknown element {ident!r}")
            tag = found
        return lambda ds: test(_value(ds, tag), arg)


@dataclass(frozen=True)
class Signature:
    name: str  # the description line(s) before the condition in the library
    condition: Condition
    rects: tuple[tuple[int, int, int, int], ...]  # x, y may be negative: from the right / bottom edge

    def regions(self, rows: int, columns: int) -> list[Region]:
        out = []
        for x, y, w, h in self.rects:
            x = columns + x if x < 0 else x
            y = rows + y if y < 0 else y
            out.append(Region(rect=Rect(x, y, w, h), source=f"CTP signature: {self.name}"))
        return out


def parse_library(text: str) -> list[Signature]:
    signatures = []
    pos = 0
    name = ""
    while True:
        start = text.find("{", pos)
        if start < 0:
            break
        lines = [ln.strip() for ln in text[pos:start].splitlines() if ln.strip()]
        name = lines[-1] if lines else name
        end = text.find("}", start)
        if end < 0:
            raise SignatureScriptError(f"signature {name!r}: its condition has no closing '}}'")
        condition = _Parser(text[start + 1 : end], f"signature {name!r}").parse()
        pos = end + 1
        rects = []
        while True:
            m = _REGION.match(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
            if m is None:
                break
            rects.append(tuple(int(v) for v in m.groups()))
            pos = m.end()
        if not rects:
            raise SignatureScriptError(f"signature {name!r} has no regions after its condition")
        signatures.append(Signature(name, condition, tuple(rects)))  # type: ignore[arg-type]
    return signatures


@cache
def library() -> list[Signature]:
    text = resources.files("redaction").joinpath("data/ctp-DicomPixelAnonymizer.script").read_text("utf-8")
    return parse_library(text)


def suggested_regions(ds: Any, signatures: list[Signature] | None = None) -> list[Region]:
    """The regions of the first signature whose condition holds for the (original) header; [] if none."""
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    for signature in library() if signatures is None else signatures:
        if signature.condition(ds):
            return signature.regions(rows, columns)
    return []
