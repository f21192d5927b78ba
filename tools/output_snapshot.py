"""Same results, proven: snapshot every output of the engine, then compare after a change.

    python tools/output_snapshot.py snapshot /tmp/snap-before     # before the change
    python tools/output_snapshot.py compare /tmp/snap-before      # after: every output that differs

Inputs: the public test files (tests/corpus.py), the synthetic corpus (every Table E.1-1 row, JPEG, SR,
presentation state, embedded overlay, a study), and, when `--bench DIR` names the benchmark corpus
(bench/corpus), its first `--bench-count` CT slices and a generated Enhanced CT. Each input is de-identified
and planned under several configurations (Basic, Basic with pixels cleaned, every retain option, without
modified dates, the legacy Pacsbin script) with the tests' key and a fixed clock. Recorded per output: the
sha256 of the written bytes, the plan's JSON, the result's UIDs; the written bytes themselves (deduplicated
by sha256) so that an output whose bytes differ is compared element by element after parsing.
tools/plan_diff.py compares plans only, grouped by rule.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pydicom  # noqa: E402
from corpus import public_files  # noqa: E402
from pydicom.dataset import Dataset  # noqa: E402
from synthetic.all_table_rows import all_table_rows_file  # noqa: E402
from synthetic.embedded_overlay import embedded_overlay_ct  # noqa: E402
from synthetic.jpeg import jpeg_file  # noqa: E402
from synthetic.presentation_state import presentation_state_file  # noqa: E402
from synthetic.sr import sr_file  # noqa: E402
from synthetic.study import study_of_files  # noqa: E402

from anonymizer.config import PACSBIN, Config  # noqa: E402
from anonymizer.engine import deidentify, plan_bytes  # noqa: E402
from anonymizer.errors import DeidentificationError  # noqa: E402
from anonymizer.keys import SecretKey  # noqa: E402
from anonymizer.legacy.ctp_script import load_builtin_pacsbin  # noqa: E402
from anonymizer.rules.options import DEFAULT_OPTIONS, Option  # noqa: E402

KEY = SecretKey(bytes(range(32)))  # the tests' key (tests/conftest.py TEST_KEY)
CLOCK = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ALL_RETAIN = frozenset(
    DEFAULT_OPTIONS
    | {
        Option.RETAIN_SAFE_PRIVATE,
        Option.RETAIN_DEVICE_IDENTITY,
        Option.RETAIN_INSTITUTION_IDENTITY,
        Option.RETAIN_PATIENT_CHARACTERISTICS,
        Option.CLEAN_DESCRIPTORS,
        Option.CLEAN_STRUCTURED_CONTENT,
        Option.CLEAN_GRAPHICS,
    }
)


def _configs() -> dict[str, Config]:
    def clock() -> datetime:
        return CLOCK

    return {
        "basic": Config(key=KEY, clock=clock),
        "basic-clean": Config(key=KEY, clock=clock, pixels_cleaned=True),
        "retain": Config(key=KEY, options=ALL_RETAIN, clock=clock),
        "nodates": Config(
            key=KEY, options=frozenset(DEFAULT_OPTIONS - {Option.RETAIN_MODIFIED_DATES}), clock=clock
        ),
        "pacsbin": Config(key=KEY, profile=PACSBIN, script=load_builtin_pacsbin(), clock=clock),
    }


def _inputs(bench: Path | None, bench_count: int) -> Iterator[tuple[str, Callable[[], bytes]]]:
    for p in public_files():
        yield p.name, p.read_bytes
    yield "syn-all", lambda: all_table_rows_file(0).data
    yield "syn-jpeg", lambda: jpeg_file(0).data
    yield "syn-sr", lambda: sr_file(0).data
    yield "syn-ps", lambda: presentation_state_file(0).data
    yield "syn-overlay", lambda: embedded_overlay_ct()[0]
    for i, f in enumerate(study_of_files(0)):
        yield f"syn-study{i}", lambda f=f: f.data  # type: ignore[misc]
    if bench is not None:
        slices = sorted((bench / "ct-2000").rglob("*.dcm"))[:bench_count]
        for p in slices:
            yield f"bench-{p.relative_to(bench)}", p.read_bytes
        for p in sorted(bench.glob("large-*/*.dcm"))[:1]:
            yield f"bench-{p.relative_to(bench)}", p.read_bytes


def snapshot(out_dir: Path, bench: Path | None, bench_count: int) -> dict[str, Any]:
    outputs = out_dir / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    configs = _configs()
    record: dict[str, Any] = {}
    for name, read in _inputs(bench, bench_count):
        data = read()
        for cname, cfg in configs.items():
            key = f"{cname}/{name}"
            try:
                record[key + "/plan"] = json.loads(plan_bytes(data, cfg, path=name).to_json())
            except DeidentificationError as exc:
                record[key + "/plan"] = "refused " + str(exc)
            try:
                r = deidentify(data, cfg, path=name)
            except DeidentificationError as exc:
                record[key + "/out"] = "refused " + str(exc)
                continue
            sha = hashlib.sha256(r.data).hexdigest()
            if not (outputs / sha).exists():
                (outputs / sha).write_bytes(r.data)
            uids = [r.sop_instance_uid, r.study_instance_uid, r.series_instance_uid]
            record[key + "/out"] = [sha, json.loads(r.plan.to_json()), uids]
    return record


def _elements(ds: Dataset, path: str = "") -> Iterator[tuple[str, str, object]]:
    for elem in ds:
        where = f"{path}{elem.tag}"
        if elem.VR == "SQ":
            yield where, "SQ", len(elem.value)
            for i, item in enumerate(elem.value):
                yield from _elements(item, f"{where}[{i}]>")
        else:
            yield where, elem.VR, elem.value


def parsed_difference(a: bytes, b: bytes) -> list[str]:
    """Elements (file meta and data set, every depth) whose VR or value differs between two outputs."""
    da, db = (pydicom.dcmread(BytesIO(x), force=False) for x in (a, b))
    out = []
    for what, xa, xb in (("meta", da.file_meta, db.file_meta), ("data set", da, db)):
        ea = {p: (vr, v) for p, vr, v in _elements(xa)}
        eb = {p: (vr, v) for p, vr, v in _elements(xb)}
        for p in sorted(set(ea) | set(eb)):
            if ea.get(p) != eb.get(p):
                va, vb = (repr(e)[:80] if e is not None else "absent" for e in (ea.get(p), eb.get(p)))
                out.append(f"{what} {p}: {va} -> {vb}")
    if da.preamble != db.preamble:
        out.append("preamble differs")
    return out


def compare(before_dir: Path, after: dict[str, Any], after_dir: Path) -> int:
    before = json.loads((before_dir / "record.json").read_text())
    byte_equal = parsed_equal = differ = 0
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if key.endswith("/plan") or not isinstance(a, list) or not isinstance(b, list):
            if a != b:
                differ += 1
                print(f"{key}: {str(a)[:200]} -> {str(b)[:200]}")
            continue
        if a[1:] != b[1:]:
            differ += 1
            print(f"{key}: plan or UIDs differ")
        if a[0] == b[0]:
            byte_equal += 1
            continue
        lines = parsed_difference(
            (before_dir / "outputs" / a[0]).read_bytes(), (after_dir / "outputs" / b[0]).read_bytes()
        )
        if lines:
            differ += 1
            print(f"{key}: {len(lines)} element(s) differ after parsing")
            print("\n".join("    " + line for line in lines[:20]))
        else:
            parsed_equal += 1
    print(f"\n{byte_equal} outputs byte-equal, {parsed_equal} equal after parsing, {differ} differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["snapshot", "compare"])
    parser.add_argument("dir", type=Path, help="where the snapshot is (written by snapshot, read by compare)")
    parser.add_argument("--bench", type=Path, help="the benchmark corpus (bench/corpus) to include")
    parser.add_argument("--bench-count", type=int, default=20, help="CT slices of the benchmark corpus")
    parser.add_argument("--after", type=Path, help="compare: where to write this run's outputs")
    args = parser.parse_args()
    if args.command == "snapshot":
        record = snapshot(args.dir, args.bench, args.bench_count)
        (args.dir / "record.json").write_text(json.dumps(record, indent=0, sort_keys=True, default=str))
        print(f"{len(record)} plans and outputs recorded in {args.dir}")
        return 0
    after_dir = args.after or args.dir.with_name(args.dir.name + "-after")
    after = snapshot(after_dir, args.bench, args.bench_count)
    (after_dir / "record.json").write_text(json.dumps(after, indent=0, sort_keys=True, default=str))
    return compare(args.dir, json.loads((after_dir / "record.json").read_text()), after_dir)


if __name__ == "__main__":
    raise SystemExit(main())
