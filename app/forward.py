"""`--forward URL`: send every accepted instance on to a DICOMweb PACS (STOW-RS), in the background.

For users who outgrow one machine: Orthanc, dcm4chee, a cloud healthcare API. Each stored instance is queued;
a worker thread posts it as multipart/related to URL/studies, retrying with back-off (1 s doubling to 5 min).
What was delivered is recorded in the store's SQLite index, so after a restart everything not yet delivered
is sent again (at least once; a PACS receiving the same SOP Instance twice keeps one).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from app.multipart import related
from app.store import FORWARDED_SCHEMA as SCHEMA

log = logging.getLogger("pacsbin.forward")
MAX_BACKOFF = 300.0


class Forwarder:
    def __init__(self, url: str, db_path: Path, *, headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/") + "/studies"
        self.db_path = db_path
        self.headers = headers or {}
        self.queue: queue.Queue[tuple[str, Path]] = queue.Queue()
        self.stopping = threading.Event()
        with sqlite3.connect(db_path) as db:
            db.execute(SCHEMA)
        self.thread = threading.Thread(target=self._run, name="forward", daemon=True)

    def start(self, root: Path) -> None:
        """Queue what an earlier run stored but did not deliver, then start sending."""
        with sqlite3.connect(self.db_path) as db:
            rows = db.execute(
                "SELECT i.sop_instance_uid, i.study_instance_uid, i.series_instance_uid FROM instances i "
                "LEFT JOIN forwarded f ON f.sop_instance_uid = i.sop_instance_uid "
                "WHERE f.sop_instance_uid IS NULL"
            ).fetchall()
        for sop, study, series in rows:
            self.queue.put((sop, root / "instances" / study / series / f"{sop}.dcm"))
        self.thread.start()

    def submit(self, sop: str, path: Path) -> None:
        self.queue.put((sop, path))

    def stop(self) -> None:
        self.stopping.set()

    def _post(self, path: Path) -> None:
        body, content_type = related([path.read_bytes()])
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                **self.headers,
                "Content-Type": content_type,
                "Accept": "application/dicom+json",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (the admin's URL)
            if response.status not in (200, 202):
                raise urllib.error.HTTPError(self.url, response.status, "not stored", response.headers, None)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                sop, path = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            delay = 1.0
            while not self.stopping.is_set():
                try:
                    self._post(path)
                    break
                except FileNotFoundError:
                    log.warning("forward: %s is gone (replaced?); skipped", path)
                    break
                except Exception as exc:  # network, HTTP: retried with back-off
                    log.warning("forward of %s failed (%s); retrying in %.0f s", sop, exc, delay)
                    self.stopping.wait(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
            else:
                return
            with sqlite3.connect(self.db_path) as db:
                db.execute(
                    "INSERT OR REPLACE INTO forwarded VALUES (?, ?, ?)",
                    (sop, self.url, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                )
