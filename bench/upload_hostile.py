"""Does a hostile client slow the honest ones down? (issue 13: by less than 20%)

    .venv/bin/python bench/upload_hostile.py [--per-client 160] [--repeat 1]   # or part of bench/upload.py

Seven honest clients each upload their own de-identified 512x512 CT slices (8 a request, one request at a
time: seven requests in flight, under the server's 16 STOW-RS requests at once) into a server (`python -m
app serve --body-timeout 3`, as tests/test_hostile.py's load test starts it), first alone, then (the same
instances, a fresh server) while one hostile client attacks over and over with the load test's attacks, one
after the other: 200,000 empty parts in one request, a deflate bomb inflating to 1 GiB (cut at the token's
512 MB), a body sent a byte every half second. The attacks' bodies are built beforehand: a hostile client is
on another machine, and its own CPU (compressing the bomb's 1 GiB takes seconds) is not the server's. A
round of attacks takes ~15 s, most of it the slow body and waiting for the server to close connections; an
honest run (160 instances a client, ~590 MB) spans about one. The figure: the honest clients' MB/s (all
their bytes over the time until the last of them is answered) with the hostile client over without it.
Every honest request must be answered 200.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from reader_helpers import deflate_bomb  # noqa: E402
from test_hostile import _answer, _connect, _head, deidentified  # noqa: E402  (the load test's builders)
from upload import _dist, corpus, send_all  # noqa: E402

from app.launch import ServerProcess, launch_server  # noqa: E402
from app.multipart import related  # noqa: E402
from app.tokens import Tokens  # noqa: E402

HONEST = 7
GOAL = 0.8  # honest throughput with the hostile client over without it


def honest_run(server: ServerProcess, tokens: list[str], work: list[list[bytes]]) -> float:
    """The honest clients at once, each sending its instances one request at a time; seconds until the last
    is answered."""
    url = f"{server.url}/dicomweb/studies"
    t = time.perf_counter()
    with ThreadPoolExecutor(len(tokens)) as pool:
        list(pool.map(lambda i: send_all(url, tokens[i], work[i], in_flight=1), range(len(tokens))))
    return time.perf_counter() - t


@dataclass(frozen=True)
class Attacks:
    """The load test's three attacks as bodies, built once (outside the timed runs: compressing the bomb's
    1 GiB of zeros takes this process seconds of CPU, which on loopback would be taken from the server)."""

    tiny_parts: tuple[bytes, str]
    bomb: tuple[bytes, str]
    slow_body: tuple[bytes, str]

    @classmethod
    def build(cls) -> Attacks:
        return cls(
            related([b""] * 200_000),  # 1.8 MB
            related([deflate_bomb(1 << 30)]),  # ~1 MB, inflating to 1 GiB
            related([deidentified("CT_small.dcm")]),
        )


def attack_once(server: ServerProcess, token: str, attacks: Attacks) -> dict[str, str]:
    """Many tiny parts, a deflate bomb, a slow body, one after the other (tests/test_hostile.py's
    `_hostile`, from bodies built beforehand); the start of each answer."""
    outcomes: dict[str, str] = {}
    body, content_type = attacks.tiny_parts
    with _connect(server) as sock:
        with suppress(OSError):  # the server stops reading at its part cap and closes
            sock.sendall(_head(token, content_type, len(body)) + body)
        outcomes["tiny parts"] = _answer(sock)[:12].decode("latin-1")
    body, content_type = attacks.bomb
    with _connect(server) as sock:
        sock.sendall(_head(token, content_type, len(body)) + body)
        outcomes["bomb"] = _answer(sock)[:12].decode("latin-1")
    body, content_type = attacks.slow_body
    with _connect(server) as sock:
        sock.sendall(_head(token, content_type, len(body)) + body[:1000])
        with suppress(OSError):
            for byte in body[1000:]:
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
        outcomes["slow body"] = _answer(sock)[:12].decode("latin-1")
    return outcomes


def attacking(
    server: ServerProcess, token: str, attacks: Attacks, stop: threading.Event
) -> list[dict[str, str]]:
    """The hostile client's attacks, over and over until `stop` (the round under way is finished)."""
    rounds = []
    while not stop.is_set():
        rounds.append(attack_once(server, token, attacks))
    return rounds


def one_run(work: list[list[bytes]], attacks: Attacks | None) -> tuple[float, list[dict[str, str]]]:
    """A fresh server (a data folder of its own, so that no upload is a duplicate), the honest clients with
    or without the hostile one; (seconds, the hostile rounds' answers)."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        tokens = Tokens(tmp / "data" / "tokens.sqlite")
        honest = [tokens.create(f"client {i}", per_minute_bytes=1 << 40) for i in range(HONEST)]
        # The load test's hostile token: a rate high enough that each attack reaches its defence.
        attacker = tokens.create("hostile", per_minute=100_000)
        server = launch_server(_dist(tmp), data=tmp / "data", extra=["--body-timeout", "3"])
        try:
            if attacks is None:
                return honest_run(server, honest, work), []
            stop = threading.Event()
            with ThreadPoolExecutor(1) as pool:
                rounds = pool.submit(attacking, server, attacker, attacks, stop)
                time.sleep(1.0)  # the attacks under way before the honest clients start
                seconds = honest_run(server, honest, work)
                stop.set()
                return seconds, rounds.result()
        finally:
            server.stop()


def run(per_client: int = 160, repeat: int = 1) -> dict[str, Any]:
    """Alone, then with the hostile client, `repeat` times in turn (the machine's other load moves between
    runs); the ratio of the summed times."""
    work = [corpus(per_client, seed=1000 + i) for i in range(HONEST)]
    mb = sum(len(d) for w in work for d in w) / 1e6
    attacks = Attacks.build()
    alone: list[float] = []
    attacked: list[float] = []
    rounds: list[dict[str, str]] = []
    for _ in range(repeat):
        alone.append(one_run(work, None)[0])
        seconds, answers = one_run(work, attacks)
        attacked.append(seconds)
        rounds += answers
    ratio = sum(alone) / sum(attacked)
    result = {
        "honest_clients": HONEST,
        "instances_per_client": per_client,
        "mb_per_run": round(mb, 1),
        "alone_mb_per_s": [round(mb / s, 1) for s in alone],
        "with_hostile_mb_per_s": [round(mb / s, 1) for s in attacked],
        "ratio": round(ratio, 2),
        "hostile_rounds": rounds,
    }
    verdict = "met" if ratio >= GOAL else "NOT met"
    result["summary"] = [
        f"{HONEST} honest clients ({mb:.0f} MB a run): {', '.join(map(str, result['alone_mb_per_s']))} MB/s "
        f"alone, {', '.join(map(str, result['with_hostile_mb_per_s']))} MB/s with a hostile client "
        f"({len(rounds)} rounds of empty parts, deflate bomb, slow body): {result['ratio']}x "
        f"(goal >= {GOAL}: {verdict})"
    ]
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-client", type=int, default=160, help="instances each honest client uploads")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of runs (alone, with), in turn")
    args = parser.parse_args()
    result = run(args.per_client, args.repeat)
    print("\n".join(result["summary"]))
    print(json.dumps(result["hostile_rounds"]))
