"""``python -m app serve [--host H] [--port P] [--dist DIR] [--certfile F --keyfile F]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from app.listen import InsecureListenError, check_listen
from app.server import create_app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Pacsbin Uploader server.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the built page (dist/)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--dist", type=Path, default=Path("dist"), help="the built page (default: ./dist)")
    serve.add_argument("--certfile", type=Path, help="TLS certificate chain (PEM); enables HTTPS")
    serve.add_argument("--keyfile", type=Path, help="TLS private key (PEM)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if (args.certfile is None) != (args.keyfile is None):
        parser.error("--certfile and --keyfile go together")
    for tls_file in (args.certfile, args.keyfile):
        if tls_file is not None and not tls_file.is_file():
            parser.error(f"file not found: {tls_file}")
    try:
        check_listen(args.host, tls=args.certfile is not None)
    except InsecureListenError as exc:
        parser.error(str(exc))
    if not (args.dist / "index.html").is_file():
        print(f"error: {args.dist / 'index.html'} not found: build the page first", file=sys.stderr)
        return 2
    app = create_app(args.dist)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        server_header=False,
    )
    return 0
