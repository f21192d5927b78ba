"""List the dictionary's unlisted public text/binary attributes that anonymizer/data/unlisted_attributes.csv
has not decided, and its rows whose attribute is no longer unlisted.

"Unlisted": an attribute of pydicom's DicomDictionary that is public (even group), not in groups
0000/0002/FFFE, not a repeating group (50xx, 60xx, RepeatersDictionary), not covered by Table E.1-1 or
extra_rules.csv (anonymizer.rules.table.load_table().lookup), and whose dictionary VR includes a text VR
(LO SH ST LT UT UC) or a binary VR (OB OW OF OD OL OV). Run it after upgrading pydicom or editing the tables.

Usage: .venv/bin/python tools/gen_unlisted_attributes.py [--draft]

Prints what needs deciding and what is stale; exit status 1 if anything does. --draft appends the new
attributes as rows with action X and reason "NOT YET DECIDED" (a safe default that the loader and the test
refuse until someone writes the decision); it never rewrites or removes a row: stale rows are for a person.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from pydicom.datadict import DicomDictionary  # type: ignore[attr-defined]  # (re-exported, untyped)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from anonymizer.rules.table import is_repeating_group, load_table  # noqa: E402
from anonymizer.rules.unlisted import UNDECIDED, decided_vrs  # noqa: E402

CSV = ROOT / "anonymizer" / "data" / "unlisted_attributes.csv"
COLUMNS = ("tag", "keyword", "name", "vr", "retired", "action", "reason")


@dataclass(frozen=True)
class Attribute:
    tag: int
    keyword: str
    name: str
    vr: str
    retired: bool

    def row(self, action: str, reason: str) -> dict[str, str]:
        return {
            "tag": f"{self.tag >> 16:04X},{self.tag & 0xFFFF:04X}",
            "keyword": self.keyword,
            "name": self.name,
            "vr": self.vr,
            "retired": "Y" if self.retired else "N",
            "action": action,
            "reason": reason,
        }


def unlisted_attributes() -> list[Attribute]:
    """The dictionary's unlisted public text/binary attributes, by tag."""
    table = load_table()
    out = []
    for tag, (vr, _vm, name, retired, keyword) in sorted(DicomDictionary.items()):
        group = tag >> 16
        if group % 2 or group in (0x0000, 0x0002, 0xFFFE):
            continue
        if is_repeating_group(group, 0x5000) or is_repeating_group(group, 0x6000):
            continue  # PS3.5 7.6 (their RepeatersDictionary masks are not in DicomDictionary)
        if table.lookup(tag) is not None or not decided_vrs(vr):
            continue
        out.append(Attribute(tag, keyword, name, vr, bool(retired)))
    return out


def read_rows(path: Path = CSV) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def differences(rows: list[dict[str, str]]) -> tuple[list[Attribute], list[str]]:
    """(attributes that need a decision, descriptions of stale rows)."""
    current = {a.tag: a for a in unlisted_attributes()}
    written = {int(r["tag"].replace(",", ""), 16): r for r in rows}
    missing = [a for tag, a in current.items() if tag not in written]
    stale = []
    for tag, r in written.items():
        attr = current.get(tag)
        if attr is None:
            stale.append(f"({r['tag']}) {r['keyword']}: no longer an unlisted text/binary attribute")
        elif attr.vr != r["vr"] or attr.keyword != r["keyword"]:
            stale.append(
                f"({r['tag']}) {r['keyword']}: the dictionary now says {attr.keyword} VR {attr.vr} "
                f"(the row says VR {r['vr']}): check the decision"
            )
    return missing, stale


def draft(missing: list[Attribute], path: Path = CSV) -> None:
    """Append undecided rows (X, NOT YET DECIDED) for `missing`; the rows already written stay as they are."""
    new_file = not path.exists() or path.stat().st_size == 0
    if not new_file and not path.read_bytes().endswith(b"\n"):
        with path.open("a", encoding="utf-8") as f:
            f.write("\n")  # a last row without its newline would merge with the first draft row
    with path.open("a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        if new_file:
            writer.writeheader()
        for a in missing:
            writer.writerow(a.row("X", UNDECIDED))


def main(argv: list[str]) -> int:
    rows = read_rows()
    missing, stale = differences(rows)
    for a in missing:
        print(f"needs a decision: ({a.row('', '')['tag']}) {a.keyword} {a.vr} {a.name}")
    for s in stale:
        print(f"stale row: {s}")
    undecided = [r for r in rows if r["reason"] == UNDECIDED]
    for r in undecided:
        print(f"drafted, still undecided: ({r['tag']}) {r['keyword']}")
    if "--draft" in argv and missing:
        draft(missing)
        print(f"appended {len(missing)} draft rows (X, {UNDECIDED!r}) to {CSV}: decide each")
    if not (missing or stale or undecided):
        print(f"{CSV.name}: every unlisted text/binary attribute of pydicom's dictionary is decided")
        return 0
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
