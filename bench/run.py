"""Benchmark: our CLI against dicognito and deid, on the same generated corpus, in the same run.

    .venv/bin/python bench/run.py             # 2,000 CT slices (~1 GB) + 3 Enhanced CT files of ~210 MB
    .venv/bin/python bench/run.py --small     # 200 slices + one ~52 MB file: a quick run
    .venv/bin/python bench/run.py --profile 300   # cProfile our CLI (--jobs 1) on 300 slices, top functions
    .venv/bin/python bench/run.py --sets page     # only the page in headless Chromium (bench/page.py)
    .venv/bin/python bench/run.py --sets viewer   # frames shown in the page, cine redaction (bench/viewer.py)
    .venv/bin/python bench/run.py --sets upload   # STOW-RS into our server vs a raw POST (bench/upload.py)

(`python3 build.py bench [args]` runs this with the project's venv.) Every tool writes into a fresh output
folder; the wall clock covers the whole command (interpreter start-up, imports, reading, writing), best of
--repeat runs. The corpus is read once before timing so every tool sees a warm page cache. Outputs are
counted (a tool that silently skips files would look fast) and a sample is checked. No pass/fail: the
table and bench/out/results.json report. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import gen_corpus
import page

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
SECRET = "bench"
TOOLS = ("ours-j1", "ours-j2", "dicognito", "deid")
BASELINE = "dicognito"
SAMPLE = 12  # outputs read back per run


@dataclass
class Run:
    """One timed run of one tool on one set."""

    set: str
    tool: str
    attempt: int
    command: list[str]
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    exit_code: int | None = None
    files_in: int = 0
    bytes_in: int = 0
    files_out: int = 0
    bytes_out: int = 0
    problems: list[str] = field(default_factory=list)
    other_cpu_seconds: float = 0.0  # CPU time the rest of the machine used meanwhile: noise
    log: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Tool:
    name: str
    argv: Callable[[Path, Path], list[str]]
    marks_identity_removed: bool  # we check PatientIdentityRemoved=YES on its outputs


def _ours(jobs: int) -> Callable[[Path, Path], list[str]]:
    def argv(src: Path, out: Path) -> list[str]:
        return [PY, "-m", "anonymizer", str(src), "-o", str(out), "--secret", SECRET, "--jobs", str(jobs)]

    return argv


def _tools(ours_jobs: list[int]) -> dict[str, Tool]:
    tools = {f"ours-j{jobs}": Tool(f"ours-j{jobs}", _ours(jobs), True) for jobs in ours_jobs}
    # `python -m dicognito`: the 0.19.0 console script calls main() without its required argument.
    tools["dicognito"] = Tool(
        "dicognito",
        lambda src, out: [PY, "-m", "dicognito", str(src), "--output-directory", str(out), "--quiet"],
        False,
    )
    tools["deid"] = Tool(
        "deid", lambda src, out: [PY, str(BENCH / "deid_runner.py"), str(src), str(out)], False
    )
    return tools


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def warm_up(folder: Path) -> float:
    """Read every file once so that all tools start from the same warm page cache."""
    start = time.monotonic()
    for path in _files(folder):
        with path.open("rb", buffering=0) as f:
            while f.read(16 << 20):
                pass
    return time.monotonic() - start


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting for I/O), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _run_timed(argv: list[str], log: Path, timeout: float) -> dict[str, float]:
    """seconds, cpu_seconds, peak_rss_mb, exit_code of one command, measured by bench/timed.py."""
    report = log.with_suffix(".json")
    report.unlink(missing_ok=True)
    launcher = [PY, "-I", str(BENCH / "timed.py"), str(report), str(log), *argv]
    proc = subprocess.Popen(launcher, cwd=ROOT, start_new_session=True)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return {"seconds": timeout, "cpu_seconds": 0.0, "peak_rss_mb": 0.0, "exit_code": -signal.SIGKILL}
    except BaseException:  # Ctrl-C or SIGTERM: take the tool down with us
        _kill_group(proc)
        raise
    if proc.returncode != 0 or not report.exists():
        raise OSError(f"the launcher failed (exit {proc.returncode})")
    data: dict[str, float] = json.loads(report.read_text())
    report.unlink()
    return data


def _sample(paths: list[Path], n: int) -> list[Path]:
    if len(paths) <= n:
        return paths
    step = len(paths) / n
    return [paths[int(i * step)] for i in range(n)]


def _patient_names(inputs: list[Path]) -> set[str]:
    import pydicom

    names = set()
    for path in _sample(inputs, 50):
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["PatientName"])
        names.add(str(ds.get("PatientName", "")))
    return names - {""}


def check_outputs(run: Run, tool: Tool, out: Path, inputs: list[Path], names: set[str]) -> None:
    import pydicom

    outputs = [p for p in _files(out) if not p.name.startswith(".")]
    run.files_out, run.bytes_out = len(outputs), sum(p.stat().st_size for p in outputs)
    if run.exit_code != 0:
        run.problems.append(f"exit code {run.exit_code}")
    if run.files_out != run.files_in:
        run.problems.append(f"{run.files_out} outputs for {run.files_in} inputs")
    if run.bytes_out < 0.9 * run.bytes_in * run.files_out / max(run.files_in, 1):
        run.problems.append(f"outputs hold {run.bytes_out / 1e6:.0f} MB for {run.bytes_in / 1e6:.0f} MB in")
    for path in _sample(outputs, SAMPLE):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception as exc:  # a peer's unreadable output is a finding, not a crash of the benchmark
            run.problems.append(f"{path.name}: unreadable: {exc}")
            continue
        if str(ds.get("PatientName", "")) in names:
            run.problems.append(f"{path.name}: Patient's Name kept")
        if tool.marks_identity_removed and ds.get("PatientIdentityRemoved") != "YES":
            run.problems.append(
                f"{path.name}: PatientIdentityRemoved is {ds.get('PatientIdentityRemoved')!r}"
            )


def bench_set(
    info: gen_corpus.SetInfo,
    tools: list[Tool],
    repeat: int,
    work: Path,
    logs: Path,
    timeout: float,
    keep: bool,
) -> list[Run]:
    inputs = _files(info.path)
    names = _patient_names(inputs)
    print(
        f"\n== {info.name}: {len(inputs)} files, {info.bytes / 1e6:.0f} MB; warm-up read "
        f"{warm_up(info.path):.1f} s",
        flush=True,
    )
    runs = []
    for attempt in range(1, repeat + 1):
        for tool in tools:
            out = work / f"{info.name}-{tool.name}"
            shutil.rmtree(out, ignore_errors=True)
            log = logs / f"{info.name}-{tool.name}-{attempt}.log"
            run = Run(
                info.name,
                tool.name,
                attempt,
                tool.argv(info.path, out),
                files_in=len(inputs),
                bytes_in=info.bytes,
                log=str(log.relative_to(ROOT)),
            )
            busy = _busy_seconds()
            try:
                timing = _run_timed(run.command, log, timeout)
                run.other_cpu_seconds = max(0.0, _busy_seconds() - busy - timing["cpu_seconds"])
                run.seconds, run.cpu_seconds = timing["seconds"], timing["cpu_seconds"]
                run.peak_rss_mb, run.exit_code = timing["peak_rss_mb"], int(timing["exit_code"])
            except OSError as exc:
                run.problems.append(f"cannot start: {exc}")
            if run.exit_code is not None and run.exit_code < 0:
                run.problems.append(
                    f"killed by signal {-run.exit_code}"
                    + (f" (timeout {timeout:.0f} s)" if run.seconds >= timeout else "")
                )
            if out.exists():
                check_outputs(run, tool, out, inputs, names)
            else:
                run.problems.append("no output folder")
            status = "ok" if run.ok else "PROBLEM: " + "; ".join(run.problems[:3])
            print(
                f"  [{attempt}/{repeat}] {tool.name:10s} {run.seconds:8.2f} s  {run.files_out:5d} files  "
                f"(CPU {run.cpu_seconds:.1f} s; others used {run.other_cpu_seconds:.1f} CPU s)  {status}",
                flush=True,
            )
            if not run.ok:
                tail = log.read_text(errors="replace").strip().splitlines()[-8:]
                print("\n".join(f"      | {line}" for line in tail), flush=True)
            if not keep:
                shutil.rmtree(out, ignore_errors=True)
            runs.append(run)
    return runs


def best(runs: list[Run]) -> dict[tuple[str, str], Run]:
    """The fastest run per (set, tool): among clean runs when there are any."""
    chosen: dict[tuple[str, str], Run] = {}
    for run in runs:
        key = (run.set, run.tool)
        cur = chosen.get(key)
        if cur is None or (run.ok, -run.seconds) > (cur.ok, -cur.seconds):
            chosen[key] = run
    return chosen


def table(runs: list[Run], sets: list[str], tools: list[str]) -> tuple[str, list[dict[str, object]]]:
    chosen = best(runs)
    rows: list[dict[str, object]] = []
    lines = []
    head = (
        f"{'set':14s} {'tool':10s} {'files':>6s} {'MB':>8s} {'seconds':>8s} {'files/s':>8s} {'MB/s':>8s} "
        f"{'x ' + BASELINE:>12s} {'CPU s':>7s} {'RSS MB':>7s} {'other':>6s}  check"
    )
    for set_name in sets:
        lines += ["", head, "-" * len(head)]
        base = chosen.get((set_name, BASELINE))
        for tool in tools:
            run = chosen.get((set_name, tool))
            if run is None:
                continue
            secs = max(run.seconds, 1e-9)
            ratio = base.seconds / secs if base is not None and base.ok and run.ok else None
            row: dict[str, object] = {
                "set": set_name,
                "tool": tool,
                "files": run.files_in,
                "mb": round(run.bytes_in / 1e6, 1),
                "seconds": round(run.seconds, 3),
                "files_per_s": round(run.files_in / secs, 2),
                "mb_per_s": round(run.bytes_in / 1e6 / secs, 2),
                "vs_baseline": round(ratio, 2) if ratio is not None else None,
                "cpu_seconds": round(run.cpu_seconds, 2),
                "peak_rss_mb": round(run.peak_rss_mb, 1),
                "other_cpu_seconds": round(run.other_cpu_seconds, 2),
                "ok": run.ok,
                "problems": run.problems,
            }
            rows.append(row)
            ratio_text = f"{ratio:.2f}x" if ratio is not None else "-"
            check = "ok" if run.ok else "PROBLEM: " + "; ".join(run.problems[:2])
            lines.append(
                f"{set_name:14s} {tool:10s} {run.files_in:6d} {run.bytes_in / 1e6:8.0f} {run.seconds:8.2f} "
                f"{run.files_in / secs:8.1f} {run.bytes_in / 1e6 / secs:8.1f} {ratio_text:>12s} "
                f"{run.cpu_seconds:7.1f} {run.peak_rss_mb:7.0f} {run.other_cpu_seconds:6.1f}  {check}"
            )
    return "\n".join(lines), rows


def targets(rows: list[dict[str, object]], ct: str | None, large: str | None) -> list[str]:
    """The goals, reported (not asserted)."""
    out = []
    for row in rows:
        if row["set"] == ct and row["tool"] == "ours-j1" and row["vs_baseline"] is not None:
            out.append(f"CT slices, ours --jobs 1: {row['vs_baseline']}x dicognito files/s (target >= 2x)")
        if row["set"] == ct and row["tool"] == "ours-j2" and row["vs_baseline"] is not None:
            out.append(f"CT slices, ours --jobs 2: {row['vs_baseline']}x dicognito files/s (target >= 2x)")
        if row["set"] == large and row["tool"] == "ours-j2":
            out.append(f"large files, ours --jobs 2: {row['mb_per_s']} MB/s (target >= 100 MB/s)")
    return out


def _versions() -> dict[str, str]:
    found = {}
    for name in ("pydicom", "dicognito", "deid", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "anonymizer"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        found["git"] = commit + ("+dirty" if dirty else "")
    except OSError:
        found["git"] = "unknown"
    return found


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
        default="ct,large,page,viewer,upload",
        help="any of ct, large, page, viewer, upload (default: all)",
    )
    p.add_argument("--page-files", type=int, help="page: CT slices dropped on the page (default: --slices)")
    p.add_argument("--page-launches", type=int, default=5, help="page: launches per cold-start figure (5)")
    p.add_argument("--page-no-large", action="store_true", help="page: skip the large-file run")
    p.add_argument("--page-no-upload", action="store_true", help="page: skip uploading to the server")
    p.add_argument("--page-rebuild", action="store_true", help="page: rebuild dist/ (default: if missing)")
    p.add_argument(
        "--timeout", type=float, default=3600, help="seconds before a run is killed (default 3600)"
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
    available = _tools(ours_jobs)
    unknown = [t for t in wanted if t not in available]
    if unknown:
        print(
            f"error: unknown tool(s) {', '.join(unknown)}; known: ours-jN, dicognito, deid", file=sys.stderr
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
    if "upload" in sets:  # STOW-RS into our server vs a raw POST: bench/out/upload.json
        import upload

        print("upload:", flush=True)
        upload.run(out)
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
