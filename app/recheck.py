"""The re-check of each uploaded instance (anonymizer.verification.verify), off the event loop, in a pool of
processes.

The re-check is CPU-bound pydicom work on bytes a stranger sent: it runs in `workers` processes (the
server's throughput scales with cores), each with an address-space limit (RLIMIT_AS, `memory` bytes), so
that a file that needs more memory than that is refused (a MemoryError in the check) instead of exhausting
the machine. If a process dies all the same (killed, a crash in a native library), the pool is broken:
the instances being checked in it at that moment get a failure, and the next check gets a new pool (until
issue 13 every later upload got 500).

What travels between the server and a re-check process costs CPU on both sides. Through the pool's pipe
(64 KiB at a time, pickled, a thread on each side woken for every piece) half a megabyte costs about 1 ms
each way; so the upload is handed over in a file (written once into a private folder, read once by the
re-check process, deleted when the check returns), and the verdict comes back with its stored form only when
that differs from the upload: for an engine output the stored form is the upload itself (stored_form.py),
and the server puts its own bytes back. (bench/upload.py measures the server's CPU per instance.)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from functools import partial
from itertools import count

from starlette.concurrency import run_in_threadpool

from anonymizer.verification.verify import Policy, Verdict, check_deidentified

Check = Callable[[bytes, Policy, int], tuple[Verdict, str]]

# Uploads up to this size are written to their hand-off file on the event loop (a page-cache write of about
# 0.1 ms for a CT slice, less than a trip to a thread); larger ones in a thread.
HANDOFF_INLINE_BYTES = 1 << 20


def check_and_hash(data: bytes, policy: Policy, max_inflated: int) -> tuple[Verdict, str]:
    """The re-check and the SHA-256 of what is stored, both in a re-check process (off the event loop).
    What is stored is the verdict's stored form (anonymizer/verification/stored_form.py), not the upload:
    nothing the
    client put in the file meta or the preamble is kept. `max_inflated`: the most a deflated data set may
    inflate to (the token's size limit)."""
    verdict = check_deidentified(data, policy, max_inflated=max_inflated)
    return verdict, hashlib.sha256(verdict.stored).hexdigest()


def check_in_process(
    check: Check, data: bytes, policy: Policy, max_inflated: int
) -> tuple[Verdict, str, bool]:
    """`check` as run in a re-check process: its verdict, its digest, and whether the stored form is the
    upload itself, in which case the verdict comes back without it (the server has those bytes already)."""
    verdict, digest = check(data, policy, max_inflated)
    same = bool(verdict.stored) and verdict.stored == data
    return (replace(verdict, stored=b"") if same else verdict), digest, same


def check_file(check: Check, path: str, policy: Policy, max_inflated: int) -> tuple[Verdict, str, bool]:
    """In a re-check process: the upload read from its hand-off file, then `check_in_process`."""
    with open(path, "rb") as f:
        data = f.read()
    return check_in_process(check, data, policy, max_inflated)


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as f:
        f.write(data)


class RecheckFailed(Exception):
    """The check could not be done (not: the file was refused); the reason in words."""


def _init_worker(parent: int, memory: int) -> None:
    """Initializer of the re-check processes: their memory limit; and they end when the server ends, even
    when it is killed (-9) and cannot shut its pool down (Linux PR_SET_PDEATHSIG; elsewhere the pool's own
    shutdown applies)."""
    if memory:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the server died before the line above took effect
        os._exit(0)


class Recheck:
    def __init__(self, policy: Policy, workers: int, memory: int, check: Check = check_and_hash) -> None:
        """`workers` > 0: that many processes, each limited to `memory` bytes (0: unlimited); 0: in a thread
        of this process (tests; no memory limit). `check`: the function run (a module-level one)."""
        self.policy, self.workers, self.memory, self.check = policy, workers, memory, check
        self._pool: ProcessPoolExecutor | None = None
        self._handoff: str | None = None  # the private folder of hand-off files (0700), made on first use
        self._names = count()

    @property
    def window(self) -> int:
        """Instances one request has in the re-check at a time: one per process keeps every core busy and
        a request's memory bounded."""
        return max(1, self.workers)

    def _new_pool(self) -> ProcessPoolExecutor:
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(), self.memory),
        )
        return self._pool

    def _drop(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)

    async def __call__(self, data: bytes, max_inflated: int) -> tuple[Verdict, str]:
        """The verdict and SHA-256 of `data`; RecheckFailed when the check itself could not be done."""
        if not self.workers:
            return await run_in_threadpool(self.check, data, self.policy, max_inflated)
        path = await self._hand_off(data)
        try:
            verdict, digest, same = await self._in_pool(
                partial(check_file, self.check, path, self.policy, max_inflated)
            )
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return (replace(verdict, stored=data) if same else verdict), digest

    async def _hand_off(self, data: bytes) -> str:
        """`data` written to a new file in the private hand-off folder; its path."""
        try:
            if self._handoff is None:
                self._handoff = tempfile.mkdtemp(prefix="pacsbin-recheck-")  # 0700
            path = os.path.join(self._handoff, f"{next(self._names)}.dcm")
            if len(data) <= HANDOFF_INLINE_BYTES:
                _write_private(path, data)
            else:
                await run_in_threadpool(_write_private, path, data)
        except OSError as exc:
            raise RecheckFailed(
                f"not stored: the server could not hand it to a re-check process (a temporary file): {exc}"
            ) from None
        return path

    async def _in_pool(self, work: Callable[[], tuple[Verdict, str, bool]]) -> tuple[Verdict, str, bool]:
        pool = self._pool or self._new_pool()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(pool, work)
        except BrokenProcessPool:  # broken before this instance: by another, or killed while idle
            self._drop(pool)
            pool = self._new_pool()
            future = loop.run_in_executor(pool, work)
        try:
            return await future
        except BrokenProcessPool:
            self._drop(pool)
            raise RecheckFailed(
                "not stored: the re-check process ended while this instance was being checked (out of memory "
                "or a crash, perhaps caused by another instance checked at the same time); send it again"
            ) from None
        except MemoryError:
            raise RecheckFailed(
                f"not stored: checking it needs more than the {self.memory >> 20} MiB a re-check may use"
            ) from None
        except Exception as exc:  # a fault in the check: fail closed, this instance only
            raise RecheckFailed(f"not stored: the re-check failed: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._handoff is not None:
            shutil.rmtree(self._handoff, ignore_errors=True)
            self._handoff = None
