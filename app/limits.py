"""The server's limits against hostile or broken clients, their command-line flags, and their defaults.

A token bounds what one uploader may send (app/tokens.py: bytes per request, requests per minute); these
bound what any client, token or not, can make the server hold or wait for:

    connections    --max-connections        uvicorn's limit_concurrency: 503 beyond it
    request heads  --header-timeout         a connection must send a whole request head within this time
                                            of opening or of its previous answer (slow or idle: closed)
                   (16 KiB)                 h11_max_incomplete_event_size: a longer head is refused (400)
    keep-alive     (5 s)                    uvicorn's timeout_keep_alive
    request bodies --body-timeout           seconds without a byte of a STOW-RS body (408), and a body
                   --min-body-rate          must average this rate over the time spent waiting for it
    STOW-RS        --max-stow-requests      requests being received and checked at once, server-wide: 503
                                            and Retry-After beyond it (the page retries)
                   --max-parts              instances in one request (413 beyond it: an empty part costs
                                            a parse and an answer item)
    re-check       --recheck-memory-mb      address space of each re-check process (RLIMIT_AS): a file
                                            that needs more is refused, the process lives on
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_connections: int = 256
    header_timeout: float = 10.0
    max_header_bytes: int = 16 * 1024
    keep_alive: int = 5
    body_timeout: float = 30.0
    # 16 KiB/s (128 kbit/s): below any uplink worth uploading images over; what a slow-body attacker must
    # keep sending to hold a STOW-RS slot.
    min_body_rate: int = 16 * 1024
    # 2 x 8 (the page sends 3 requests at once; a few uploaders at a time) on a server whose re-check
    # window is one part per core: more would wait in the window, holding their bodies.
    max_stow_requests: int = 16
    # The page sends 8 instances a request; 10,000 leaves room for other clients and bounds the answer.
    max_parts: int = 10_000
    recheck_memory: int = 2 << 30  # bytes; 0: no limit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Limits()
    parser.add_argument(
        "--max-connections", type=int, default=d.max_connections,
        help=f"open connections and requests at once; 503 beyond (default {d.max_connections})",
    )  # fmt: skip
    parser.add_argument(
        "--header-timeout", type=float, default=d.header_timeout,
        help=f"seconds a connection has to send a request head (default {d.header_timeout:g})",
    )  # fmt: skip
    parser.add_argument(
        "--body-timeout", type=float, default=d.body_timeout,
        help=f"seconds without a byte of an upload's body before it is dropped (default {d.body_timeout:g})",
    )  # fmt: skip
    parser.add_argument(
        "--min-body-rate", type=int, default=d.min_body_rate >> 10, metavar="KB_PER_S",
        help=f"slowest average upload accepted, KiB/s (default {d.min_body_rate >> 10})",
    )  # fmt: skip
    parser.add_argument(
        "--max-stow-requests", type=int, default=d.max_stow_requests,
        help=f"uploads received at once, server-wide; 503 beyond (default {d.max_stow_requests})",
    )  # fmt: skip
    parser.add_argument(
        "--max-parts", type=int, default=d.max_parts,
        help=f"instances in one upload request; 413 beyond (default {d.max_parts})",
    )  # fmt: skip
    parser.add_argument(
        "--recheck-memory-mb", type=int, default=d.recheck_memory >> 20,
        help=f"address space of each re-check process, MiB; 0 = no limit (default {d.recheck_memory >> 20})",
    )  # fmt: skip


def from_arguments(args: argparse.Namespace) -> Limits:
    return Limits(
        max_connections=args.max_connections,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        min_body_rate=args.min_body_rate << 10,
        max_stow_requests=args.max_stow_requests,
        max_parts=args.max_parts,
        recheck_memory=args.recheck_memory_mb << 20,
    )
