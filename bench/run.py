"""Benchmark: our CLI against dicognito and deid, on the same generated corpus, in the same run.

    .venv/bin/python bench/run.py             # 2,000 CT slices (~1 GB) + 3 Enhanced CT files of ~210 MB
    .venv/bin/python bench/run.py --small     # 200 slices + one ~52 MB file: a quick run
    .venv/bin/python bench/run.py --profile 300   # cProfile our CLI (--jobs 1) on 300 slices, top functions
    .venv/bin/python bench/run.py --sets page     # only the page in headless Chromium (bench/page.py)
    .venv/bin/python bench/run.py --sets viewer   # frames shown in the page, cine redaction (bench/viewer.py)
    .venv/bin/python bench/run.py --sets upload   # the server's CPU per uploaded instance (bench/upload.py)
    .venv/bin/python bench/run.py --sets text     # burned-in text finders vs Tesseract (bench/text_finder.py)

(`python3 build.py bench [args]` runs this with the project's venv.) Every tool writes into a fresh output
folder; the wall clock covers the whole command (interpreter start-up, imports, reading, writing), best of
--repeat runs. The corpus is read once before timing so every tool sees a warm page cache. Outputs are
counted (a tool that silently skips files would look fast) and a sample is checked. No pass/fail: the
table and bench/out/results.json report. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import gen_corpus
import page
from run_report import BASELINE, _versions, table, targets
from run_tools import BENCH, PY, ROOT, SECRET, TOOLS, Run, _files, _tools, bench_set, warm_up


def profile(info: gen_corpus.SetInfo, count: int, out_dir: Path, top: int) -> int:
    """cProfile our CLI (--jobs 1) on the first `count` slices; print the top functions."""
    import pstats

    files = _files(info.path)[:count]
    target = out_dir / "work" / "profile"
    shutil.rmtree(target, ignore_errors=True)
    stats_file = out_dir / "profile.pstats"
    warm_up(info.path)
    argv = [
        PY,
        "-m",
        "cProfile",
        "-o",
        str(stats_file),
        "-m",
        "anonymizer",
        *map(str, files),
        "-o",
        str(target),
        "--secret",
        SECRET,
        "--jobs",
        "1",
    ]
    start = time.perf_counter()
    code = subprocess.run(argv, cwd=ROOT, check=False).returncode
    seconds = time.perf_counter() - start
    print(
        f"\nprofiled {len(files)} files in {seconds:.2f} s under cProfile (exit {code}); stats: {stats_file}"
    )
    stats = pstats.Stats(str(stats_file))
    stats.strip_dirs()
    for key in ("tottime", "cumulative"):
        print(f"\n--- top {top} by {key} ---")
        stats.sort_stats(key).print_stats(top)
    shutil.rmtree(target, ignore_errors=True)
    return code


def run_page(args: argparse.Namespace, infos: list[gen_corpus.SetInfo], out: Path) -> dict[str, object]:
    """The page benchmark (bench/page.py): --page-files CT slices and the large set's first file."""
    ct = next((i for i in infos if i.name == f"ct-{args.page_files}"), None)
    ct = ct or gen_corpus.ct_slices(args.corpus, args.page_files)
    large = None
    if not args.page_no_large and args.large_count > 0:
        large = next((i for i in infos if i.name.startswith("large-")), None)
        large = large or gen_corpus.large_files(args.corpus, args.large_count, args.frames)
    return page.run_page_bench(
        ct=ct,
        large=large,
        launches=args.page_launches,
        out=out,
        rebuild=args.page_rebuild,
        timeout=args.timeout,
        upload=not args.page_no_upload,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    p.add_argument("--small", action="store_true", help="quick corpus: 200 slices and one ~52 MB file")
    p.add_argument("--slices", type=int, help="CT slices (default 2000; 200 with --small)")
    p.add_argument("--large-count", type=int, help="large multi-frame files (default 3; 1 with --small)")
    p.add_argument(
        "--frames", type=int, help="frames per large file, 512 KiB each (default 400; 100 with --small)"
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per tool on the CT set, best kept (default 1)")
    p.add_argument("--repeat-large", type=int, default=1, help="runs per tool on the large set (default 1)")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    p.add_argument(
        "--sets",
        default="ct,large,page,viewer,upload,text",
        help="any of ct, large, page, viewer, upload, text (default: all)",
    )
    p.add_argument("--page-files", type=int, help="page: CT slices dropped on the page (default: --slices)")
    p.add_argument("--page-launches", type=int, default=5, help="page: launches per cold-start figure (5)")
    p.add_argument("--page-no-large", action="store_true", help="page: skip the large-file run")
    p.add_argument("--page-no-upload", action="store_true", help="page: skip uploading to the server")
    p.add_argument("--page-rebuild", action="store_true", help="page: rebuild dist/ (default: if missing)")
    p.add_argument(
        "--timeout", type=float, default=3600, help="seconds before a run is killed (default 3600)"
    )
    p.add_argument(
        "--base", type=Path, help="another checkout of this project (e.g. main): tools base-jN run its CLI"
    )
    p.add_argument("--keep-outputs", action="store_true", help="keep each tool's output in bench/out/work/")
    p.add_argument(
        "--corpus", type=Path, default=BENCH / "corpus", help="corpus folder (default bench/corpus)"
    )
    p.add_argument("--out", type=Path, default=BENCH / "out", help="results folder (default bench/out)")
    p.add_argument(
        "--profile", type=int, metavar="N", help="profile our CLI on N CT slices instead, then exit"
    )
    p.add_argument("--top", type=int, default=30, help="functions shown by --profile (default 30)")
    args = p.parse_args(argv)
    args.slices = args.slices or (200 if args.small else 2000)
    args.large_count = args.large_count if args.large_count is not None else (1 if args.small else 3)
    args.frames = args.frames or (100 if args.small else 400)
    args.page_files = args.page_files or args.slices
    return args


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    ours_jobs = sorted({int(t.removeprefix("ours-j")) for t in wanted if t.startswith("ours-j")})
    base_jobs = tuple(sorted({int(t.removeprefix("base-j")) for t in wanted if t.startswith("base-j")}))
    available = _tools(ours_jobs, args.base, base_jobs)
    unknown = [t for t in wanted if t not in available]
    if unknown:
        print(
            f"error: unknown tool(s) {', '.join(unknown)}; known: ours-jN, base-jN (with --base), "
            "dicognito, deid, gdcmanon (if installed)",
            file=sys.stderr,
        )
        return 2
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    args.corpus.mkdir(parents=True, exist_ok=True)
    out: Path = args.out
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "work").mkdir(parents=True, exist_ok=True)

    print(
        f"corpus in {args.corpus} (disk free: {shutil.disk_usage(args.corpus).free / 1e9:.1f} GB)", flush=True
    )
    infos: list[gen_corpus.SetInfo] = []
    if "ct" in sets or args.profile:
        infos.append(gen_corpus.ct_slices(args.corpus, args.slices))
        print("  " + gen_corpus.describe(infos[-1]), flush=True)
    if args.profile:
        return profile(infos[0], args.profile, out, args.top)
    if "large" in sets and args.large_count > 0:
        infos.append(gen_corpus.large_files(args.corpus, args.large_count, args.frames))
        print("  " + gen_corpus.describe(infos[-1]), flush=True)

    tools = [available[t] for t in wanted]
    runs: list[Run] = []
    for info in infos:
        repeat = args.repeat if info.name.startswith("ct-") else args.repeat_large
        runs += bench_set(info, tools, repeat, out / "work", out / "logs", args.timeout, args.keep_outputs)

    if "viewer" in sets:  # frames shown in the page, cine redaction: bench/out/viewer.json
        import viewer

        print("viewer and redaction:", flush=True)
        viewer.run(out)
    if "upload" in sets:  # the server's CPU per instance, its split, a hostile client: bench/out/upload.json
        import upload

        print("upload:", flush=True)
        upload.run(out)
    if "text" in sets:  # burned-in text finders and Tesseract: bench/out/text_finder.json
        import text_finder

        print("burned-in text:", flush=True)
        text_finder.main([*(["--small"] if args.small else []), "--out", str(out / "text_finder.json")])
    if not infos and "page" not in sets:
        return 0
    if "page" in sets and not infos:  # the page alone: its results go to bench/out/page.json only
        run_page(args, infos, out)
        return 0
    set_names = [i.name for i in infos]
    text, rows = table(runs, set_names, wanted)
    ct = next((i.name for i in infos if i.name.startswith("ct-")), None)
    large = next((i.name for i in infos if i.name.startswith("large-")), None)
    goals = targets(rows, ct, large)
    print(text)
    print(
        f"\n(seconds: wall clock of the whole command, best of {args.repeat} on CT / "
        f"{args.repeat_large} on large; "
        f"x {BASELINE}: its time / this tool's time; CPU s: user+sys of the process tree; "
        f"RSS: peak of the largest process; other: CPU seconds the rest of the machine used meanwhile, "
        f"{os.cpu_count()} CPUs: when it is large, the numbers are noisy)"
    )
    for goal in goals:
        print("  " + goal)
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": _versions(),
        "corpus": [{**asdict(i), "path": str(i.path)} for i in infos],
        "summary": rows,
        "targets": goals,
        "runs": [{**asdict(r), "ok": r.ok} for r in runs],
    }
    text_json = json.dumps(results, indent=2) + "\n"
    (out / "results.json").write_text(text_json)
    history = out / "history"
    history.mkdir(exist_ok=True)
    copy = history / f"results-{time.strftime('%Y%m%d-%H%M%S')}-{'-'.join(set_names)}.json"
    copy.write_text(text_json)
    print(f"\nresults: {out / 'results.json'}; logs: {out / 'logs'}")
    if "page" in sets:
        results["page"] = run_page(args, infos, out)
        text_json = json.dumps(results, indent=2) + "\n"
        (out / "results.json").write_text(text_json)
        copy.write_text(text_json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
