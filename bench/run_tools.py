"""The CLI tools the benchmark compares (bench/run.py): ours (--jobs N), dicognito and deid as commands, each
run timed by bench/timed.py on one set of the corpus and its outputs counted and checked."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gen_corpus

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
SECRET = "bench"
TOOLS = ("ours-j1", "ours-j2", "dicognito", "deid", "gdcmanon")
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


def _base(jobs: int, root: Path) -> Callable[[Path, Path], list[str]]:
    """Our CLI from another checkout (`--base DIR`, e.g. main before a change), in the same run."""
    boot = (
        f"import runpy, sys; sys.path.insert(0, {str(root)!r}); "
        "runpy.run_module('anonymizer', run_name='__main__')"
    )

    def argv(src: Path, out: Path) -> list[str]:
        return [PY, "-c", boot, str(src), "-o", str(out), "--secret", SECRET, "--jobs", str(jobs)]

    return argv


def _gdcmanon(src: Path, out: Path) -> list[str]:
    """GDCM's gdcmanon (Debian libgdcm-tools): PS3.15 E.1.1 de-identify, which encrypts the original
    attributes into the file for a certificate (made here, self-signed, once per run)."""
    cert = out.parent / "gdcmanon-cert.pem"
    if not cert.exists():
        key = out.parent / "gdcmanon-key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
             str(cert), "-days", "2", "-subj", "/CN=bench"],
            check=True, capture_output=True,
        )  # fmt: skip
    return ["gdcmanon", "-e", "-r", "--continue", "-i", str(src), "-o", str(out), "-c", str(cert)]


def _tools(
    ours_jobs: list[int], base: Path | None = None, base_jobs: tuple[int, ...] = ()
) -> dict[str, Tool]:
    tools = {f"ours-j{jobs}": Tool(f"ours-j{jobs}", _ours(jobs), True) for jobs in ours_jobs}
    if base is not None:
        tools |= {f"base-j{jobs}": Tool(f"base-j{jobs}", _base(jobs, base), True) for jobs in base_jobs}
    if shutil.which("gdcmanon"):
        tools["gdcmanon"] = Tool("gdcmanon", _gdcmanon, True)
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
