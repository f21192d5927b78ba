"""`python -m app forward status [--data DIR]`: what forwarding did, for a person: how many instances were
delivered, which are queued (and why a retried one is waiting), which failed for good and the PACS's reason.

Reads the index the server writes (app/forward_state.py); safe while the server runs.
"""

from __future__ import annotations

from pathlib import Path

from app import forward_state
from app.forward_state import Row
from app.stow_answer import Verdict


def _line(row: Row) -> str:
    return f"    {row.sop}  (study {row.study})"


def report(data: Path, *, list_delivered: bool = False) -> str:
    """The status of forwarding from the server data folder `data`, as text."""
    db_path = data / "index.sqlite"
    try:
        with forward_state.connect(db_path, create=False) as db:
            rows = forward_state.rows(db)
    except FileNotFoundError:
        return f"No server data in {data} (no {db_path.name}): nothing stored, nothing forwarded."
    delivered = [r for r in rows if r.verdict is Verdict.DELIVERED]
    failed = [r for r in rows if r.verdict is Verdict.FAILED]
    retrying = [r for r in rows if r.verdict is Verdict.RETRYING]
    waiting = [r for r in rows if r.verdict is None]
    lines = [f"Forwarding of the {len(rows)} instance(s) stored in {data}:"]

    lines.append(f"  delivered: {len(delivered)}")
    if delivered:
        last = max(delivered, key=lambda r: r.at)
        lines[-1] += f" (last at {last.at}, to {last.url})"
        if list_delivered:
            lines += [f"{_line(r)} at {r.at} to {r.url}" for r in delivered]

    lines.append(f"  queued: {len(retrying) + len(waiting)}")
    if retrying or waiting:
        lines[-1] += " (sent while the server runs with --forward; after a restart too)"
    for r in retrying:
        lines.append(f"{_line(r)}: attempt {r.attempts} at {r.at} did not deliver it, to be retried:")
        lines.append(f"      {r.reason}")
    if waiting:
        lines.append(f"    {len(waiting)} not tried yet")

    lines.append(f"  failed: {len(failed)}")
    if failed:
        lines[-1] += " (final: not sent again; the queue went on without them)"
    for r in failed:
        lines.append(f"{_line(r)}: at {r.at}, to {r.url}:")
        lines.append(f"      {r.reason}")
    return "\n".join(lines)
