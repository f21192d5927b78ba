"""Command line: python -m anonymizer INPUT... -o OUTDIR [--secret KEY | --secret-file F] ...

Output names come from the new UIDs only (input folder names are often patient names):
OUTDIR/<Study Instance UID>/<Series Instance UID>/<SOP Instance UID>.dcm
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from redaction.apply import PixelEdit
from redaction.errors import RegionsError
from redaction.regions import Region, load_regions

from .config import BASIC, PACSBIN, PACSBIN_WARNING, Config, build_config
from .errors import DeidentificationError, DicomDirError, KeyFileError, NotDicomError, ScriptError
from .inputs import Source, discover
from .keys import SecretKey
from .outputs import Outcome, Settler, Status, write_pending
from .rules.options import DEFAULT_OPTIONS, Option, check_options

DEFAULT_KEY_FILE = (
    Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "pacsbin-uploader" / "key.json"
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m anonymizer",
        description="De-identify DICOM files per PS3.15 Annex E (Basic Profile, Table E.1-1 2026d).",
    )
    p.add_argument("inputs", nargs="+", type=Path, help="files, folders (recursive) and zip archives")
    p.add_argument("-o", "--output", type=Path, help="output folder (named by new UIDs only)")
    key = p.add_mutually_exclusive_group()
    key.add_argument("--secret", metavar="PASSPHRASE", help="derive the key from a passphrase")
    key.add_argument(
        "--secret-file",
        type=Path,
        metavar="F",
        help=f"key file (created when absent; default {DEFAULT_KEY_FILE})",
    )
    p.add_argument(
        "--profile",
        default=BASIC,
        metavar="basic|pacsbin|FILE",
        help="basic (default), pacsbin (legacy CTP script), or your own CTP script JSON file",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME",
        help="add a PS3.15 option: " + ", ".join(o.value for o in Option),
    )
    p.add_argument(
        "--without-option",
        action="append",
        default=[],
        metavar="NAME",
        help="drop one of the default options (" + ", ".join(sorted(o.value for o in DEFAULT_OPTIONS)) + ")",
    )
    p.add_argument(
        "--redact",
        type=Path,
        metavar="REGIONS.json",
        help="black out these regions (original UIDs; the page exports this file); claims Clean Pixel Data",
    )
    p.add_argument(
        "--redact-signatures",
        action="store_true",
        help="also black out what CTP's burned-in annotation library lists for the file's device",
    )
    p.add_argument(
        "--find-text",
        type=Path,
        metavar="REGIONS.json",
        help="look for burned-in text in every frame and write it as regions to review (the --redact "
        "format, with what each reads and the header attributes it matches); writes no DICOM",
    )
    p.add_argument(
        "--redact-found-text",
        action="store_true",
        help="with -o: look for burned-in text and black out every box found; claims Clean Pixel Data for "
        "the files it redacted; a file whose pixels cannot be looked at is not written",
    )
    p.add_argument("--jobs", type=int, default=0, help="worker processes (default: one per core)")
    p.add_argument("--what-if", action="store_true", help="print the plan for each file; write nothing")
    p.add_argument("--json", action="store_true", help="with --what-if: print plans as JSON")
    return p


def _options(args: argparse.Namespace) -> frozenset[Option]:
    chosen = set(DEFAULT_OPTIONS)
    for name, add in [(n, True) for n in args.option] + [(n, False) for n in args.without_option]:
        try:
            option = Option(name.strip().lower())
        except ValueError:
            raise SystemExit(
                f"error: unknown option {name!r}; known: {', '.join(o.value for o in Option)}"
            ) from None
        (chosen.add if add else chosen.discard)(option)
    if Option.RETAIN_FULL_DATES in chosen and "retain-modified-dates" not in args.option:
        chosen.discard(Option.RETAIN_MODIFIED_DATES)
    try:
        check_options(frozenset(chosen))
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    return frozenset(chosen)


def _key(args: argparse.Namespace) -> SecretKey:
    if args.secret is not None:
        return SecretKey.from_passphrase(args.secret)
    path: Path = args.secret_file or DEFAULT_KEY_FILE
    if path.exists():
        return SecretKey.load(path)
    if args.output is not None and path.resolve().is_relative_to(args.output.resolve()):
        raise SystemExit(f"error: refusing to write a new key inside the output folder: {path}")
    key = SecretKey.generate()
    key.save(path)
    print(
        f"generated a new secret key: {path} (keep it to map the same patients the same way)", file=sys.stderr
    )
    return key


def _config(args: argparse.Namespace) -> Config:
    profile = args.profile
    if profile == BASIC:
        return build_config(_key(args), _options(args))
    script = None
    if profile != PACSBIN:  # the user's own CTP script, run as the legacy profile
        from .legacy.ctp_script import load_script

        try:
            script = load_script(Path(profile).read_bytes())
        except (OSError, ScriptError) as exc:
            raise SystemExit(f"error: cannot load profile {profile}: {exc}") from None
    print(f"warning: {PACSBIN_WARNING}", file=sys.stderr)
    return build_config(_key(args), _options(args), PACSBIN, script=script)


def _pixel_edit(args: argparse.Namespace) -> PixelEdit | None:
    """Clean Pixel Data from the command line: the reviewer's regions file and/or the CTP library."""
    regions: tuple[Region, ...] = ()
    if args.redact is not None:
        try:
            regions = tuple(load_regions(args.redact.read_text("utf-8"), str(args.redact)))
        except OSError as exc:
            raise SystemExit(f"error: cannot read {args.redact}: {exc.strerror or exc}") from None
        except RegionsError as exc:
            raise SystemExit(f"error: {exc.reason}") from None
    if not regions and not args.redact_signatures:
        return None
    return PixelEdit(regions=regions, signatures=args.redact_signatures)


_WORKER_CONFIG: Config | None = None
_WORKER_OUT: Path | None = None
_WORKER_PIXELS: PixelEdit | None = None
_WORKER_FIND = False


def _init_worker(config: Config, out: Path, pixels: PixelEdit | None = None, find: bool = False) -> None:
    global _WORKER_CONFIG, _WORKER_OUT, _WORKER_PIXELS, _WORKER_FIND
    _WORKER_CONFIG, _WORKER_OUT, _WORKER_PIXELS, _WORKER_FIND = config, out, pixels, find


def _with_found_text(data: bytes, name: str, pixels: PixelEdit | None) -> tuple[PixelEdit | None, list[str]]:
    """--redact-found-text: the file's found text added to the regions to black out; the report's lines.
    Fail closed: pixels that cannot be looked at raise (the file is not written)."""
    from redaction.errors import RedactionError

    from .errors import UnsupportedError
    from .found_text import describe, find_in_file

    try:
        found = find_in_file(data, path=name)
    except RedactionError as exc:
        raise UnsupportedError(
            f"not written: the pixels could not be looked at for burned-in text: {exc.reason}", path=name
        ) from None
    if not found.regions:
        return pixels, []
    base = pixels or PixelEdit()
    edit = PixelEdit(regions=base.regions + found.regions, reviewed=base.reviewed, signatures=base.signatures)
    return edit, [f"text blacked out: {name}: {describe(r)}" for r in found.regions]


def process(indexed: tuple[int, Source]) -> Outcome:
    """De-identify one input; its output is written under a temporary name for the parent to settle."""
    from .engine import deidentify

    assert _WORKER_CONFIG is not None and _WORKER_OUT is not None
    index, source = indexed
    notes: list[str] = []
    try:
        data = source.read()
        pixels = _WORKER_PIXELS
        if _WORKER_FIND:
            pixels, notes = _with_found_text(data, source.name, pixels)
        result = deidentify(data, _WORKER_CONFIG, path=source.name, pixels=pixels)
    except (NotDicomError, DicomDirError) as exc:
        return Outcome(source.name, Status.SKIPPED, exc.reason)
    except DeidentificationError as exc:
        return Outcome(source.name, Status.FAILED, exc.reason)
    except OSError as exc:
        return Outcome(source.name, Status.FAILED, f"cannot read: {exc.strerror or exc}")
    rel = Path(result.study_instance_uid) / result.series_instance_uid / f"{result.sop_instance_uid}.dcm"
    pending = write_pending(_WORKER_OUT, rel, result.parts, str(index))
    return Outcome(source.name, Status.DONE, output=str(rel), pending=pending, notes=tuple(notes))


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        if self.tty:
            width = 30
            filled = width * self.done // max(self.total, 1)
            rate = self.done / max(time.monotonic() - self.start, 1e-9)
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {rate:.0f} files/s"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _what_if(sources: list[Source], config: Config, as_json: bool, pixels: PixelEdit | None) -> int:
    from .engine import plan_bytes

    status = 0
    for source in sources:
        try:
            plan = plan_bytes(source.read(), config, path=source.name, pixels=pixels)
        except DeidentificationError as exc:
            print(f"{source.name}: {exc.reason}", file=sys.stderr)
            status = 1
            continue
        print(f"== {source.name}")
        print(plan.to_json() if as_json else plan.format_text())
    return status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = _config(args)
    except KeyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pixels = _pixel_edit(args)
    found = list(discover(args.inputs))
    sources = [s for s in found if isinstance(s, Source)]
    unreadable = [
        Outcome(str(p), Status.FAILED, why) for p, why in (s for s in found if isinstance(s, tuple))
    ]
    if args.find_text is not None:
        if args.output is not None or args.redact_found_text or args.what_if:
            print(
                "error: --find-text writes regions only; it takes no -o, --what-if or --redact-found-text",
                file=sys.stderr,
            )
            return 2
        return _find_text(sources, unreadable, args.find_text)
    if args.redact_found_text:
        from .found_text import models_missing

        missing = models_missing()
        if missing is not None:
            print(f"error: cannot look for burned-in text: {missing}", file=sys.stderr)
            return 2
    if args.what_if:
        for o in unreadable:
            print(f"{o.source}: {o.detail}", file=sys.stderr)
        return max(_what_if(sources, config, args.json, pixels), 1 if unreadable else 0)
    if args.output is None:
        print("error: -o OUTDIR is required (or use --what-if)", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    outcomes = list(unreadable)
    progress = Progress(len(sources))
    settler = Settler(args.output)  # in input order: the first input with an output name wins it
    # Processes pay off past a few dozen files; below that, starting them costs more than it saves.
    jobs = args.jobs or ((os.cpu_count() or 1) if len(sources) >= 32 else 1)
    if args.redact_found_text and not args.jobs:
        jobs = 1  # onnxruntime already uses every core; one model copy per process would only add memory
    find = bool(args.redact_found_text)
    if jobs > 1:
        with ProcessPoolExecutor(
            jobs, initializer=_init_worker, initargs=(config, args.output, pixels, find)
        ) as pool:
            chunks = max(1, min(8, len(sources) // (jobs * 4)))
            for outcome in pool.map(process, enumerate(sources), chunksize=chunks):
                outcomes.append(_settle(settler, outcome))
                progress.step()
    else:
        _init_worker(config, args.output, pixels, find)
        for indexed in enumerate(sources):
            outcomes.append(_settle(settler, process(indexed)))
            progress.step()
    progress.close()
    return _summary(outcomes)


def _settle(settler: Settler, outcome: Outcome) -> Outcome:
    for note in outcome.notes:
        print(note, file=sys.stderr)
    return settler.settle(outcome)


def _find_text(sources: list[Source], unreadable: list[Outcome], out: Path) -> int:
    """--find-text: every input looked at, the regions written to `out`; no DICOM written. Per file:
    what was found (with what it reads and matches), or why it could not be looked at; the batch goes on.
    Exit status 1 if any file could not be read or looked at, 2 if the finder cannot run here."""
    from redaction.errors import RedactionError
    from redaction.regions import dump_regions

    from .found_text import describe, find_in_file, models_missing

    missing = models_missing()
    if missing is not None:
        print(f"error: cannot look for burned-in text: {missing}", file=sys.stderr)
        return 2
    regions: list[Region] = []
    failed = len(unreadable)
    for o in unreadable:
        print(f"failed: {o.source}: {o.detail}", file=sys.stderr)
    looked = without = 0
    for source in sources:
        try:
            found = find_in_file(source.read(), path=source.name)
        except (NotDicomError, DicomDirError) as exc:
            print(f"skipped: {source.name}: {exc.reason}", file=sys.stderr)
            continue
        except (DeidentificationError, RedactionError) as exc:
            print(f"failed: {source.name}: could not look for text: {exc.reason}", file=sys.stderr)
            failed += 1
            continue
        except OSError as exc:
            print(f"failed: {source.name}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            failed += 1
            continue
        if not found.frames:
            without += 1
            continue
        looked += 1
        for region in found.regions:
            print(f"text found: {source.name}: {describe(region)}", file=sys.stderr)
        regions.extend(found.regions)
    regions.sort(key=lambda r: not r.matches)  # stable: header matches first, each file's order kept
    try:
        out.write_text(dump_regions(regions) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    images = len({r.sop_instance_uid for r in regions})
    print(
        f"{len(regions)} text region(s) in {images} of {looked} image(s) written to {out} "
        f"(to review, then --redact {out}); {without} file(s) without pixels, {failed} failed",
        file=sys.stderr,
    )
    return 1 if failed else 0


def _summary(outcomes: list[Outcome]) -> int:
    """Report every outcome that is not a plain success, then the counts. Exit status: 1 if any file failed;
    else 3 if any conflict left an input unwritten (the user's data did not all get out, though nothing is
    broken); else 0. Duplicates are written once: nothing is lost."""
    counts = {k: sum(o.status == k for o in outcomes) for k in Status}
    for o in outcomes:
        if o.status != Status.DONE:
            print(f"{o.status}: {o.source}: {o.detail}", file=sys.stderr)
    done, skipped, failed = (counts[k] for k in (Status.DONE, Status.SKIPPED, Status.FAILED))
    line = f"{done} de-identified, {skipped} skipped, {failed} failed"
    extra = []
    if counts[Status.DUPLICATE]:
        n = counts[Status.DUPLICATE]
        extra.append(f"{n} duplicate{'s' if n != 1 else ''} (written once)")
    if counts[Status.CONFLICT]:
        n = counts[Status.CONFLICT]
        extra.append(f"{n} conflict{'s' if n != 1 else ''} (not written)")
    print(line + ("; " + ", ".join(extra) if extra else ""), file=sys.stderr)
    if failed:
        return 1
    return 3 if counts[Status.CONFLICT] else 0
