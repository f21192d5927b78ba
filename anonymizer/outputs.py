"""Writing the CLI's outputs: each file at most once, the first input (in input order) winning a name.

Output names come from the new SOP Instance UID, so two inputs can want one name: the same instance given
twice (identical output: written once, the later reported as a duplicate of the first), or two different
instances carrying one SOP Instance UID (MR_small's transfer syntax variants, a re-edited copy: a
conflict; the first is written, the later is not, and both are named). Workers (one or many processes)
write each output under a temporary name beside its final one; the parent settles the outcomes in input
order, so which input wins never depends on which process finished first. Two outputs of one name are
compared byte for byte when that happens (rare) rather than every output hashed (a SHA-256 of a 210 MB
file costs as much CPU as de-identifying it).
"""

from __future__ import annotations

import filecmp
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["Outcome", "Settler", "Status", "write_pending"]


class Status(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    DUPLICATE = "duplicate"  # the same output as an earlier input: written once
    CONFLICT = "conflict"  # another instance already has this output name: not written


@dataclass(frozen=True)
class Outcome:
    source: str
    status: Status
    detail: str = ""
    output: str = ""  # the output's path relative to OUTDIR
    pending: str = ""  # a written-but-unsettled output (temporary name), until the parent settles it
    notes: tuple[str, ...] = ()  # lines for the report, printed as the outcome is settled (found text)


def write_pending(out: Path, rel: Path, parts: Iterable[bytes | memoryview], tag: str) -> str:
    """Write the file made of `parts` beside OUTDIR/rel under a temporary name; its path. The parts are
    written one by one: the file is never joined in memory."""
    final = out / rel
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{tag}.tmp")
    with tmp.open("wb") as f:
        for part in parts:
            f.write(part)
    return str(tmp)


class Settler:
    """Settles outcomes in input order: renames the first of each name into place, drops the rest."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.claimed: dict[str, str] = {}  # output name -> the source that has it

    def settle(self, outcome: Outcome) -> Outcome:
        if not outcome.pending:
            return outcome
        pending, final = Path(outcome.pending), self.out / outcome.output
        name = self.claimed.get(outcome.output)
        if name is None and final.exists():
            name = ""  # from an earlier run
        if name is None:
            os.replace(pending, final)
            self.claimed[outcome.output] = outcome.source
            return Outcome(outcome.source, Status.DONE, output=outcome.output)
        same = filecmp.cmp(pending, final, shallow=False)
        pending.unlink()
        if same:
            if not name:  # the same file an earlier run wrote: nothing to do, nothing lost
                self.claimed[outcome.output] = outcome.source
                return Outcome(outcome.source, Status.DONE, output=outcome.output)
            return Outcome(
                outcome.source, Status.DUPLICATE, f"duplicate of {name} (written once)", outcome.output
            )
        where = name or f"{final}, already in the output folder"
        return Outcome(
            outcome.source,
            Status.CONFLICT,
            f"same SOP Instance UID as {where}, different content: {name or 'that file'} was written, "
            "this one was not (keep one of them, or give one a new SOP Instance UID)",
            outcome.output,
        )
