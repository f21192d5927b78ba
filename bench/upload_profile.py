"""Where the server's CPU time goes per uploaded instance (issue 13), stage by stage.

    .venv/bin/python bench/upload_profile.py [--files 200] [--top 25]    # or bench/upload.py --profile

Each stage of the STOW-RS path is run alone on the benchmark's instances, without a profiler, and timed in
CPU time per instance: the multipart parse, the re-check (the fail-closed read, the stored form, the
engine's plan, each check of anonymizer.verification.verify.CHECKS), the SHA-256 of the stored form, the trip
to a
re-check process and back (app/recheck.py's own, with a check that does nothing), and the store (the file
written and fsync'd, the index in SQLite, the rename, the folder's fsync). "The rest" is the real server's
CPU time per instance (measured by bench/upload.py in the same command) minus those: HTTP (uvicorn), the
event loop, the thread hops, tokens, the answer.

--top N also profiles the STOW-RS path in-process (Starlette's TestClient, the re-check in a thread) with
cProfile in every thread (CPU time per thread) and lists the N functions with the most cumulative time: where
to look inside a stage. cProfile slows Python code several times more than C code, so its milliseconds are
not the server's.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from page_upload import cpu_seconds  # noqa: E402
from upload import PER_REQUEST, corpus  # noqa: E402

from anonymizer.reading.reader import read_dataset  # noqa: E402
from anonymizer.verification.stored_form import stored_form_of  # noqa: E402
from anonymizer.verification.verify import CHECKS, Policy, Verdict, _planned, check_deidentified  # noqa: E402
from anonymizer.verification.verify_upload import Upload  # noqa: E402
from app.multipart import related  # noqa: E402
from app.multipart_reader import SLICE_BYTES, RelatedReader, boundary_of  # noqa: E402
from app.store import Store  # noqa: E402

REST = "rest (HTTP, event loop, thread hops, tokens, answer)"


def _per_instance(work: Callable[[bytes], object], files: list[bytes]) -> float:
    """CPU milliseconds per instance of `work` on each of `files` (after one untimed call)."""
    work(files[0])
    t = time.process_time()
    for data in files:
        work(data)
    return (time.process_time() - t) / len(files) * 1000


def _accepts(data: bytes, policy: Policy, max_inflated: int) -> tuple[Verdict, str]:
    """A re-check that accepts the upload as its own stored form without looking at it."""
    return Verdict(sop_instance_uid="1.2", stored=data), "0" * 64


def pool_trip(files: list[bytes]) -> float:
    """CPU ms per instance of the server's trip to a re-check process and back (app/recheck.py's own, one
    process, with a check that does nothing), both processes counted."""
    import asyncio

    from app.recheck import Recheck

    async def trips() -> float:
        recheck = Recheck(Policy(), workers=1, memory=0, check=_accepts)
        try:
            await recheck(files[0], 1 << 30)
            cpu = cpu_seconds(os.getpid())
            for data in files:
                await recheck(data, 1 << 30)
            return cpu_seconds(os.getpid()) - cpu
        finally:
            recheck.close()

    return asyncio.run(trips()) / len(files) * 1000


def stages(files: list[bytes]) -> dict[str, float]:
    """Each stage alone, CPU ms per instance. Names starting with two spaces are part of the stage above."""
    policy = Policy()
    read = {id(d): read_dataset(d) for d in files}
    planned = {id(d): _planned(Upload.read(read_dataset(d), policy))[0] for d in files}
    firsts = files[::PER_REQUEST]
    bodies = {id(files[i]): related(files[i : i + PER_REQUEST]) for i in range(0, len(files), PER_REQUEST)}

    def parse(first: bytes) -> None:  # a request's body, sliced as the server feeds it
        body, content_type = bodies[id(first)]
        reader = RelatedReader(boundary_of(content_type), 10_000)
        for start in range(0, len(body), SLICE_BYTES):
            for part in reader.feed(body[start : start + SLICE_BYTES]):
                part.read()
        reader.finish()

    out = {"multipart parse": _per_instance(parse, firsts) / PER_REQUEST}
    recheck = "re-check (anonymizer.verification.verify)"
    out[recheck] = _per_instance(lambda d: check_deidentified(d, policy), files)
    out["  read (fail-closed reader)"] = _per_instance(read_dataset, files)
    out["  stored form (meta written)"] = _per_instance(lambda d: stored_form_of(d, read[id(d)]), files)
    out["  plan (the engine's)"] = _per_instance(lambda d: _planned(Upload.read(read[id(d)], policy)), files)
    for check in CHECKS:
        out[f"  check: {check.name}"] = _per_instance(lambda d, c=check: c.run(planned[id(d)]), files)
    out["SHA-256 of the stored form"] = _per_instance(lambda d: hashlib.sha256(d).hexdigest(), files)
    out["trip to a re-check process and back"] = pool_trip(files)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))

        def put(data: bytes) -> None:
            ds = read[id(data)]
            store.put(
                data, study=str(ds.StudyInstanceUID), series=str(ds.SeriesInstanceUID),
                sop=str(ds.SOPInstanceUID), sop_class=str(ds.SOPClassUID), token_id=1, attributes="{}",
                digest="0" * 64,
            )  # fmt: skip

        out["store (file, fsync, SQLite, rename, folder fsync)"] = _per_instance(put, files)
    return out


def _profile_threads() -> tuple[list[cProfile.Profile], Callable[[], None]]:
    """A cProfile (CPU time of its thread) in every thread started from now on; the profiles, and a
    function that stops them."""
    profiles: list[cProfile.Profile] = []

    def start(frame: Any, event: str, arg: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        profiles.append(profile)
        profile.enable()  # replaces this hook in this thread

    threading.setprofile(start)  # type: ignore[arg-type]

    def stop() -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        for p in profiles:
            p.disable()

    return profiles, stop


def profiled(files: list[bytes]) -> pstats.Stats:
    """Upload `files` through the app in-process under cProfile; the merged stats of every thread but this
    one (the client's)."""
    from starlette.testclient import TestClient

    from app.dicomweb import DicomWeb
    from app.server import create_app
    from app.tokens import Tokens

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "dist").mkdir()
        (tmp / "dist" / "index.html").write_text("<!doctype html><title>bench</title>")
        tokens = Tokens(tmp / "data" / "tokens.sqlite")
        token = tokens.create(
            "bench", per_minute=100_000, max_request_bytes=1 << 30, per_minute_bytes=1 << 40
        )
        dicomweb = DicomWeb(Store(tmp / "data"), tokens, Policy())
        bodies = [related(files[i : i + PER_REQUEST]) for i in range(0, len(files), PER_REQUEST)]
        profiles, stop = _profile_threads()
        try:
            with TestClient(create_app(tmp / "dist", dicomweb.routes())) as client:
                for body, content_type in bodies:
                    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
                    r = client.post("/dicomweb/studies", content=body, headers=headers)
                    if r.status_code != 200:
                        raise RuntimeError(f"answered {r.status_code}: {r.text[:300]}")
        finally:
            stop()
    stats = pstats.Stats(profiles[0])
    for p in profiles[1:]:
        stats.add(p)
    return stats


def run(count: int = 200, top: int = 0, server_ms: float | None = None) -> dict[str, Any]:
    """The split (JSON-ready; `summary`: lines to print). `server_ms`: the real server's CPU ms per
    instance (measured here when not given); with `top`, cProfile's top functions are printed too."""
    files = corpus(count, seed=99)
    if server_ms is None:
        from upload import measure_ours

        server_ms = measure_ours(files)["cpu_ms_per_instance"]
    split = stages(files)
    split[REST] = server_ms - sum(v for k, v in split.items() if not k.startswith("  "))
    lines = [f"server CPU {server_ms:.2f} ms an instance; its stages, each timed alone (ms, share):"]
    lines += [f"  {name:<52} {ms:6.2f}  {ms / server_ms:5.1%}" for name, ms in split.items()]
    if top:
        profiled(files).sort_stats("cumulative").print_stats(top)
    return {
        "server_ms": round(server_ms, 2),
        "stages_ms": {k: round(v, 3) for k, v in split.items()},
        "summary": lines,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--top", type=int, default=0, help="also list cProfile's top N functions")
    args = parser.parse_args()
    print("\n".join(run(args.files, args.top)["summary"]))
