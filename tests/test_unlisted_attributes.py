"""data/unlisted_attributes.csv: a decision for every public text/binary attribute E.1-1 does not list.

The expected set is computed here from pydicom's dictionary (not by the generator tool), so a new dictionary
release, or a new row in ps315_e11.csv / extra_rules.csv, fails this test and names what needs deciding.
"""

from __future__ import annotations

import csv
import fnmatch
import importlib.util
import sys
import tomllib
from dataclasses import FrozenInstanceError
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest
from pydicom.datadict import DicomDictionary

from anonymizer.rules.table import load_table
from anonymizer.rules.unlisted import UNDECIDED, Action, Decision, decision, parse

ROOT = Path(__file__).resolve().parent.parent
CSV_PATH = ROOT / "anonymizer" / "data" / "unlisted_attributes.csv"
TEXT = {"LO", "SH", "ST", "LT", "UT", "UC"}
BINARY = {"OB", "OW", "OF", "OD", "OL", "OV"}


def _rows() -> list[dict[str, str]]:
    with CSV_PATH.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _tag(text: str) -> int:
    return int(text.replace(",", ""), 16)


def _expected() -> dict[int, tuple[str, str, str, str]]:
    """tag -> (keyword, name, VR, retired Y/N) of every unlisted public text/binary attribute."""
    # RepeatersDictionary's masks (50xx, 60xx, 7Fxx, "002804x0") are a dictionary of their own: not iterated.
    # A DicomDictionary entry a mask also matches (Transform Label (0028,0400)) is its own attribute.
    table = load_table()
    out = {}
    for tag, (vr, _vm, name, retired, keyword) in DicomDictionary.items():
        group = tag >> 16
        if group % 2 or group in (0x0000, 0x0002, 0xFFFE):
            continue
        if (0x5000 <= group <= 0x501E) or (0x6000 <= group <= 0x601E):
            continue
        if table.lookup(tag) is not None:
            continue
        if set(vr.split(" or ")) & (TEXT | BINARY):
            out[tag] = (keyword, name, vr, "Y" if retired else "N")
    return out


def test_covers_exactly_the_dictionarys_unlisted_text_and_binary_attributes() -> None:
    expected = _expected()
    written = {_tag(r["tag"]): r for r in _rows()}
    missing = [
        f"({t >> 16:04X},{t & 0xFFFF:04X}) {kw} {vr}"
        for t, (kw, _n, vr, _r) in sorted(expected.items())
        if t not in written
    ]
    extra = [f"({r['tag']}) {r['keyword']}" for t, r in sorted(written.items()) if t not in expected]
    assert not missing, (
        f"{len(missing)} unlisted attributes have no written decision (run tools/gen_unlisted_attributes.py "
        f"--draft and decide each): {missing}"
    )
    assert not extra, f"rows for attributes that are no longer unlisted text/binary: {extra}"


def test_rows_match_the_dictionary() -> None:
    expected = _expected()
    wrong = [
        r["tag"]
        for r in _rows()
        if (r["keyword"], r["name"], r["vr"], r["retired"]) != expected.get(_tag(r["tag"]))
    ]
    assert not wrong, f"keyword, name, VR or retired differ from pydicom's dictionary: {wrong}"


def test_some_rows_are_text_and_some_binary() -> None:
    # the two kinds the engine treats; the numbers are about 450 and 80 for pydicom 3.0's dictionary
    kinds = [set(r["vr"].split(" or ")) for r in _rows()]
    assert sum(bool(k & TEXT) for k in kinds) > 400
    assert sum(bool(k & BINARY) and not k & TEXT for k in kinds) > 60


def test_every_row_is_decided_with_a_reason() -> None:
    rows = _rows()
    assert rows
    assert not [r["tag"] for r in rows if r["reason"].strip() in ("", UNDECIDED)]
    assert not [r["tag"] for r in rows if r["action"] not in ("K", "X")]
    assert not [r["tag"] for r in rows if len(r["reason"]) < 20], "a reason says why, in a sentence"


def test_tags_are_unique_and_sorted() -> None:
    tags = [_tag(r["tag"]) for r in _rows()]
    assert len(tags) == len(set(tags))
    assert tags == sorted(tags)


def test_no_row_names_an_attribute_the_tables_cover() -> None:
    table = load_table()
    covered = [r["tag"] for r in _rows() if table.lookup(_tag(r["tag"])) is not None]
    assert not covered, f"Table E.1-1 or extra_rules.csv already decides these: {covered}"


@pytest.mark.parametrize("tag", [
        0x00100033,
        0x00100034,
        0x00181803,
        0x00181801,
        0x01000424,
        0x01000426,
        0x00620005,
        0x00620006,
        0x300A00C2,
        0x300A0183,
        0x00209453,
        0x00281055,
        0x00400032,
        0x00420010,
    ], ids=lambda v: f"{v:08X}")
def test_leaks_the_issue_names_are_product_rules(tag: int) -> None:
    """These need an action by Type or an option (X/Z/D, C under Clean Descriptors), so they are rows
    of extra_rules.csv, each with its reason, and not decisions of this file."""
    row = load_table().lookup(tag)
    assert row is not None and row.reason and row.basic != "K"
    assert decision(tag) is None


@pytest.mark.parametrize(
    ("tag", "action"),
    [
        (0x7FE00010, Action.KEEP),  # Pixel Data
        (0x7FE00008, Action.KEEP),  # Float Pixel Data
        (0x00281201, Action.KEEP),  # Red Palette Color Lookup Table Data
        (0x00283006, Action.KEEP),  # LUT Data ("US or OW")
        (0x00282000, Action.KEEP),  # ICC Profile
        (0x54001010, Action.KEEP),  # Waveform Data
        (0x00181210, Action.KEEP),  # Convolution Kernel
        (0x00180024, Action.KEEP),  # Sequence Name
        (0x00080104, Action.KEEP),  # Code Meaning
        (0x00281054, Action.KEEP),  # Rescale Type
        # leaks issue 12 found (the others are product rules in extra_rules.csv: see below)
        (0x04000120, Action.REMOVE),  # Signature
        (0x04000520, Action.REMOVE),  # Encrypted Content
        (0x00080202, Action.REMOVE),  # a retired OB with no keyword
    ],
    ids=lambda v: f"{v:08X}" if isinstance(v, int) else v.name,
)
def test_loader_answers_for_known_tags(tag: int, action: Action) -> None:
    d = decision(tag)
    assert d is not None
    assert d.action is action
    assert d.reason
    assert d.keyword == DicomDictionary[tag][4]


@pytest.mark.parametrize(
    "tag",
    [
        0x00100010,  # Patient's Name: Table E.1-1 decides it
        0x00700080,  # Content Label: extra_rules.csv decides it
        0x00080060,  # Modality: CS, not a text VR here
        0x00091010,  # private
        0x60003000,  # Overlay Data: a repeating group
    ],
    ids=lambda v: f"{v:08X}",
)
def test_loader_has_no_decision_outside_the_unlisted_set(tag: int) -> None:
    assert decision(tag) is None


def test_decision_is_frozen() -> None:
    d = decision(0x7FE00010)
    assert isinstance(d, Decision)
    with pytest.raises(FrozenInstanceError):
        d.action = Action.REMOVE  # type: ignore[misc]


HEADER = "tag,keyword,name,vr,retired,action,reason\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('"0018,1210",ConvolutionKernel,Convolution Kernel,SH,N,X,NOT YET DECIDED\n', "no decision"),
        ('"0018,1210",ConvolutionKernel,Convolution Kernel,SH,N,K,\n', "no decision"),
        ('"0018,1210",ConvolutionKernel,Convolution Kernel,SH,N,K,a reason\n' * 2, "repeats"),
        ('"0018,1210",ConvolutionKernel,Convolution Kernel,SH,N,Z,a reason\n', "'Z'"),
    ],
)
def test_parse_refuses_undecided_repeated_or_unknown_rows(body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(HEADER + body)


def test_csv_is_package_data() -> None:
    # the wheel (and so the page's build, tools/build_dist.py) takes anonymizer's data by these globs
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["anonymizer"]
    assert any(fnmatch.fnmatch("data/unlisted_attributes.csv", g) for g in globs)
    assert resources.files("anonymizer").joinpath("data/unlisted_attributes.csv").is_file()


# ---------------------------------------------------------------------------------------------------
# tools/gen_unlisted_attributes.py


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_gen_unlisted", ROOT / "tools" / "gen_unlisted_attributes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_tool_agrees_with_the_csv() -> None:
    tool = _tool()
    assert {a.tag for a in tool.unlisted_attributes()} == set(_expected())
    assert tool.differences(tool.read_rows()) == ([], [])


def test_tool_lists_missing_and_stale_rows_and_drafts_without_overwriting(tmp_path: Path) -> None:
    tool = _tool()
    rows = tool.read_rows()
    kernel = next(r for r in rows if r["keyword"] == "ConvolutionKernel")
    stale = dict(kernel, tag="0010,0010", keyword="PatientName")  # Table E.1-1 lists it
    kept = [r for r in rows if r is not kernel]
    missing, stale_found = tool.differences([*kept, stale])
    assert [a.keyword for a in missing] == ["ConvolutionKernel"]
    assert len(stale_found) == 1 and "PatientName" in stale_found[0]

    path = tmp_path / "unlisted.csv"
    path.write_text(HEADER + '"0018,1250",ReceiveCoilName,Receive Coil Name,SH,N,K,a written reason')  # no \n
    tool.draft(missing, path)
    drafted = tool.read_rows(path)
    assert [(r["keyword"], r["action"], r["reason"]) for r in drafted] == [
        ("ReceiveCoilName", "K", "a written reason"),
        ("ConvolutionKernel", "X", UNDECIDED),
    ]
    assert drafted[1]["tag"] == "0018,1210" and drafted[1]["vr"] == "SH"
