"""``python -m app serve [--host H] [--port P] [--dist DIR] [--data DIR] [--certfile F --keyfile F]``
and ``python -m app token create --name NAME`` (prints a bearer token for uploads)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from anonymizer.verify import Policy
from app import limits as server_limits
from app.connections import uvicorn_options
from app.dicomweb import DicomWeb
from app.forward import Forwarder
from app.listen import InsecureListenError, check_listen
from app.server import create_app
from app.store import Store
from app.tokens import DEFAULT_PER_MINUTE, Tokens

DEFAULT_DATA = Path("server-data")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Pacsbin Uploader server.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the built page (dist/)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--dist", type=Path, default=Path("dist"), help="the built page (default: ./dist)")
    serve.add_argument("--certfile", type=Path, help="TLS certificate chain (PEM); enables HTTPS")
    serve.add_argument("--keyfile", type=Path, help="TLS private key (PEM)")
    serve.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"stored uploads and tokens ({DEFAULT_DATA})"
    )
    serve.add_argument(
        "--allow-legacy-pacsbin",
        action="store_true",
        help="accept uploads de-identified by the legacy Pacsbin script",
    )
    serve.add_argument("--forward", metavar="URL", help="also send accepted instances to this DICOMweb root")
    server_limits.add_arguments(serve)
    token = commands.add_parser("token", help="manage upload tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token (printed once)")
    create.add_argument("--name", required=True, help="who or what the token is for")
    create.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"the server's data folder ({DEFAULT_DATA})"
    )
    create.add_argument(
        "--max-request-mb", type=int, default=512, help="largest request body (default 512 MB)"
    )
    create.add_argument(
        "--per-minute",
        type=int,
        default=DEFAULT_PER_MINUTE,
        help=f"requests per minute (default {DEFAULT_PER_MINUTE})",
    )
    revoke = token_commands.add_parser("revoke", help="revoke every token with this name")
    revoke.add_argument("--name", required=True)
    revoke.add_argument("--data", type=Path, default=DEFAULT_DATA)
    return parser


def _token(args: argparse.Namespace) -> int:
    tokens = Tokens(args.data / "tokens.sqlite")
    if args.token_command == "create":
        print(
            tokens.create(args.name, max_request_bytes=args.max_request_mb << 20, per_minute=args.per_minute)
        )
        return 0
    count = tokens.revoke(args.name)
    print(f"revoked {count} token(s) named {args.name!r}", file=sys.stderr)
    return 0 if count else 1


def build_app(
    dist: Path,
    data: Path,
    *,
    allow_legacy_pacsbin: bool = False,
    forward: str | None = None,
    check_workers: int = 0,
    limits: server_limits.Limits | None = None,
) -> Starlette:
    """The whole server: the page, and DICOMweb backed by `data` (stored instances, index, tokens)."""
    store = Store(data)
    forwarder = None
    if forward:
        forwarder = Forwarder(forward, store.db_path)
        forwarder.start(store.root)
    dicomweb = DicomWeb(
        store,
        Tokens(data / "tokens.sqlite"),
        Policy(allow_legacy_pacsbin=allow_legacy_pacsbin),
        forwarder,
        check_workers=check_workers,
        limits=limits,
    )
    return create_app(dist, dicomweb.routes())


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "token":
        return _token(args)
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
    limits = server_limits.from_arguments(args)
    app = build_app(
        args.dist,
        args.data,
        allow_legacy_pacsbin=args.allow_legacy_pacsbin,
        forward=args.forward,
        check_workers=os.cpu_count() or 1,
        limits=limits,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
        server_header=False,
        **uvicorn_options(limits),
    )
    return 0
