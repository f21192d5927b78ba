"""`--forward URL`: send every accepted instance on to a DICOMweb PACS (STOW-RS), in the background.

For users who outgrow one machine: Orthanc, dcm4chee, a cloud healthcare API. Each stored instance is queued;
a worker thread posts it alone (app/stow_client.py) and records the outcome (app/forward_state.py):
- delivered: the PACS's answer lists it as stored;
- failed, final: a redirect, a 4xx other than 408/429, or a refusal the PACS does not mean as temporary;
  recorded with the PACS's reason, and the queue goes on with the next instance;
- retried: 408, 429, 5xx, no answer, or a temporary refusal (out of resources): the same instance again
  after a back-off (1 s doubling to 5 min, or the PACS's Retry-After). The PACS is then unwell for every
  instance alike, so the others wait behind it rather than hammer it.
Outcomes are in the store's SQLite index: after a restart everything queued or being retried is sent again
(at least once; a PACS receiving the same SOP Instance twice keeps one); nothing failed for good is.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from app import forward_state
from app.forward_target import ForwardTarget
from app.stow_answer import Outcome, Verdict
from app.stow_client import send

log = logging.getLogger("pacsbin.forward")
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 300.0


class Forwarder:
    def __init__(
        self,
        target: ForwardTarget,
        db_path: Path,
        *,
        timeout: float = 60.0,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self.target = target
        self.db_path = db_path
        self.timeout = timeout
        self.first_backoff, self.max_backoff = first_backoff, max_backoff
        self.queue: queue.Queue[tuple[str, Path]] = queue.Queue()
        self.stopping = threading.Event()
        self.wait = wait or self.stopping.wait  # tests give their own clock
        with forward_state.connect(db_path):
            pass  # the forwarding columns exist before the first upload
        self.thread = threading.Thread(target=self._run, name="forward", daemon=True)

    def start(self, root: Path) -> None:
        """Queue what an earlier run stored but did not deliver nor fail for good, then start sending."""
        with forward_state.connect(self.db_path) as db:
            pending = forward_state.queued(db)
        for sop, study, series in pending:
            self.queue.put((sop, root / "instances" / study / series / f"{sop}.dcm"))
        log.info("forwarding to %s: %d instance(s) queued from before", self.target.stow_url, len(pending))
        self.thread.start()

    def submit(self, sop: str, path: Path) -> None:
        self.queue.put((sop, path))

    def stop(self) -> None:
        self.stopping.set()

    def idle(self, timeout: float) -> bool:
        """True once every queued instance has an outcome (delivered or failed for good)."""
        with self.queue.all_tasks_done:
            return self.queue.all_tasks_done.wait_for(lambda: not self.queue.unfinished_tasks, timeout)

    def deliver(self, sop: str, path: Path) -> Outcome | None:
        """Send one instance until it is delivered or failed for good; None if stopped first or if the file
        is gone (replaced by a newer copy, which was queued on its own)."""
        delay, attempts = self.first_backoff, 0
        while not self.stopping.is_set():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                log.info("forward: %s is gone (replaced by a newer copy?); skipped", path)
                return None
            attempts += 1
            outcome = send(self.target, data, sop, timeout=self.timeout)
            with forward_state.connect(self.db_path) as db:
                forward_state.record(db, sop, self.target.stow_url, outcome, attempts)
            if outcome.verdict is Verdict.DELIVERED:
                return outcome
            if outcome.verdict is Verdict.FAILED:
                log.warning("forward of %s failed for good (not retried): %s", sop, outcome.reason)
                return outcome
            pause = outcome.retry_after if outcome.retry_after is not None else delay
            log.warning("forward of %s: %s; retrying in %.0f s", sop, outcome.reason, pause)
            self.wait(pause)
            delay = min(delay * 2, self.max_backoff)
        return None

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                sop, path = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self.deliver(sop, path)
            except Exception:  # a bug or a broken index must not end forwarding for the whole run
                log.exception("forward of %s: unexpected error; it stays queued for the next start", sop)
            finally:
                self.queue.task_done()
