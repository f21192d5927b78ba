"""The planting machinery: :class:`_Source`, a seeded supply of unique tokens, UIDs, dates, times
and numbers, and :class:`_Planter`, which puts VR-shaped identifying values into a data set, records
each one in a :class:`PlantedFile` and encodes the result (:func:`encode`).

The leading underscores mean private to the ``synthetic`` package: the generators use these, tests
do not.
"""

from __future__ import annotations

import datetime as _dt
import io
import random
import string
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence

from .e11_table import _loc, _vm_count, vr_vm
from .planted import PlantedFile

PLANTED_UID_ROOT = "1.2.826.0.1.3680043.10.999"


class _Source:
    """Deterministic supply of unique tokens, UIDs, dates, times and numbers."""

    def __init__(self, seed: int, salt: str) -> None:
        self.seed = seed
        self._rng = random.Random(f"pacsbin-synthetic/{seed}/{salt}")
        self._uid_prefix = f"{PLANTED_UID_ROOT}.{abs(seed)}.{zlib.crc32(salt.encode()) % 1000}"
        self._n = 0
        self._used: set[str] = set()

    def _fresh(self, make: Callable[[], str]) -> str:
        for _ in range(100_000):
            value = make()
            if value not in self._used:
                self._used.add(value)
                return value
        raise RuntimeError("value space exhausted")

    def _next(self) -> int:
        self._n += 1
        if self._n > 9999:
            raise RuntimeError("more than 9999 plantings in one source")
        return self._n

    def token(self) -> str:
        n = self._next()
        letters = "".join(self._rng.choice(string.ascii_uppercase) for _ in range(4))
        return f"PHIx{n:04d}{letters}"

    def uid(self) -> str:
        n = self._next()
        return f"{self._uid_prefix}.1{n:05d}{self._rng.randrange(100_000):05d}"

    def _day(self, first: _dt.date, last: _dt.date) -> _dt.date:
        return first + _dt.timedelta(days=self._rng.randrange((last - first).days + 1))

    def date(self) -> str:
        return self._fresh(lambda: self._day(_dt.date(1931, 1, 1), _dt.date(1969, 12, 31)).strftime("%Y%m%d"))

    def key_dates(self, offsets: Iterable[int]) -> list[str]:
        """Dates at the given day offsets from a seeded base day in 1977-1989."""
        offs = list(offsets)
        for _ in range(1000):
            base = self._day(_dt.date(1977, 1, 1), _dt.date(1989, 6, 30))
            days = [(base + _dt.timedelta(days=o)).strftime("%Y%m%d") for o in offs]
            if not self._used.intersection(days):
                self._used.update(days)
                return days
        raise RuntimeError("no free key dates")

    def time(self) -> str:
        return self._fresh(
            lambda: (
                f"{self._rng.randrange(7, 20):02d}{self._rng.randrange(60):02d}"
                f"{self._rng.randrange(60):02d}.{self._rng.randrange(100_000, 1_000_000)}"
            )
        )

    def number(self) -> str:
        return self._fresh(lambda: str(self._rng.randrange(4_200_000, 4_300_000)))

    def age(self) -> str:
        return f"{self._rng.randrange(18, 99):03d}Y"


def _blob(token: str, *, utf16: bool = False, size: int = 0) -> bytes:
    raw = token.encode("utf-16-le") if utf16 else token.encode("ascii")
    data = b"PHI:" + raw + b"\x00"
    data = data.ljust(max(size, len(data)), b"\x00")
    return data + b"\x00" * (-len(data) % 8)


def _text(token: str) -> str:
    return f"Free text: {token} lives at 42 Elm Street, phone 555-0199."


_SINGLE_VALUED = frozenset({"LT", "ST", "UT", "UR", "SQ", "OB", "OW", "UN", "OF", "OD", "OL", "OV"})


class _Planter:
    """Records plantings for one file; draws values from a (possibly shared) :class:`_Source`."""

    def __init__(self, src: _Source) -> None:
        self.src = src
        self.out = PlantedFile(data=b"")

    @staticmethod
    def _note(book: dict[str, str], key: str, where: str) -> None:
        book[key] = f"{book[key]} | {where}" if key in book else where

    # -- primitives ---------------------------------------------------------------------------
    def tok(self, where: str, *, upper: bool = False, value: str | None = None) -> str:
        token = value if value is not None else self.src.token()
        token = token.upper() if upper else token
        self._note(self.out.markers, token, where)
        return token

    def uid(self, where: str, value: str | None = None) -> str:
        uid = value if value is not None else self.src.uid()
        self._note(self.out.uids, uid, where)
        return uid

    def date(self, where: str, value: str | None = None) -> str:
        date = value if value is not None else self.src.date()
        self._note(self.out.dates, date, where)
        return date

    def time(self, where: str, value: str | None = None) -> str:
        time = value if value is not None else self.src.time()
        self._note(self.out.times, time, where)
        return time

    def dt(self, where: str, date: str | None = None, time: str | None = None) -> str:
        return f"{self.date(where, date)}{self.time(where, time)}+0130"

    def number(self, where: str) -> str:
        number = self.src.number()
        self._note(self.out.numbers, number, where)
        return number

    def opaque(self, where: str, value: Any) -> Any:
        self.out.values[where] = str(value)
        return value

    def keep(self, ds: Dataset, path: str, keyword: str, value: Any) -> None:
        setattr(ds, keyword, value)
        self.out.kept[f"{path}{keyword}"] = value

    # -- VR-driven values ---------------------------------------------------------------------
    def one(self, vr: str, where: str) -> Any:
        if vr == "PN":
            return f"{self.tok(where)}^Given"
        if vr in ("LO", "SH", "UC"):
            return self.tok(where)
        if vr in ("CS", "AE"):
            return self.tok(where, upper=True)
        if vr in ("LT", "ST", "UT"):
            return _text(self.tok(where))
        if vr == "UR":
            return f"http://{self.tok(where).lower()}.example/"
        if vr == "DA":
            return self.date(where)
        if vr == "TM":
            return self.time(where)
        if vr == "DT":
            return self.dt(where)
        if vr == "UI":
            return self.uid(where)
        if vr in ("IS", "DS"):
            return self.number(where)
        if vr == "AS":
            return self.opaque(where, self.src.age())
        if vr in ("US", "SS", "UL", "SL", "UV", "SV"):
            return self.opaque(where, 1)
        if vr in ("FL", "FD"):
            return self.opaque(where, 42.42)
        if vr == "AT":
            return self.opaque(where, 0x00100010)
        if vr in ("OB", "OW", "UN", "OF", "OD", "OL", "OV"):
            return _blob(self.tok(where))
        if vr == "SQ":
            return Sequence([self.marker_item(f"{where}[0]")])
        raise ValueError(f"no planting rule for VR {vr} at {where}")

    def value(self, vr: str, vm: str, where: str) -> Any:
        count = 1 if vr in _SINGLE_VALUED else _vm_count(vm)
        if count == 1:
            return self.one(vr, where)
        return [self.one(vr, f"{where} value {i + 1}") for i in range(count)]

    def put(
        self,
        ds: Dataset,
        tag: int,
        prefix: str,
        make: Callable[[str], Any] | None = None,
        *,
        vr: str | None = None,
        label: str | None = None,
    ) -> str:
        """Plant ``tag`` in ``ds`` (a generic VR-driven marker unless ``make`` is given); return
        where it was planted."""
        dict_vr, vm = vr_vm(tag) if vr is None else (vr, "1")
        where = _loc(prefix, tag, label)
        ds.add_new(tag, dict_vr, make(where) if make else self.value(dict_vr, vm, where))
        return where

    def marker_item(self, prefix: str) -> Dataset:
        """A sequence item with a PN, LO, DA and UI marker."""
        item = Dataset()
        for tag in (0x00100010, 0x00080080, 0x00080020, 0x00081155):
            self.put(item, tag, prefix)
        return item

    def private(
        self,
        ds: Dataset,
        prefix: str,
        group: int,
        creator: str,
        entries: Iterable[tuple[int, str, Callable[[str], Any]]],
    ) -> None:
        block = ds.private_block(group, creator, create=True)
        for offset, vr, make in entries:
            tag = block.get_tag(offset)
            where = _loc(prefix, tag, f"private [{creator}] {vr}")
            block.add_new(offset, vr, make(where))

    def finish(self, ds: Dataset, meta: FileMetaDataset, preamble: bytes | None = None) -> PlantedFile:
        self.out.data = encode(ds, meta, preamble)
        return self.out


def encode(ds: Dataset, meta: FileMetaDataset, preamble: bytes | None = None) -> bytes:
    """Write ``ds`` as a Part 10 file (preamble, DICM, file meta, data set) and return the bytes."""
    ds.file_meta = meta
    ds.preamble = (preamble or b"").ljust(128, b"\x00")[:128]
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()
