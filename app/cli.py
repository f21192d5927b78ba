"""``python -m app serve [--host H] [--port P] [--dist DIR] [--data DIR] [--certfile F --keyfile F]
[--accept-option NAME ...] [--accept-other-deidentifiers] [--accept-documents] [--allow-legacy-pacsbin]
[--forward URL [--forward-credentials FILE]]``, ``python -m app token create --name NAME`` (prints a bearer
token for uploads), ``token list``, ``token revoke ID`` and ``python -m app forward status [--data DIR]``
(what was forwarded to the PACS, what failed and why)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from anonymizer.verification.verify_policy import IDENTITY_OPTIONS, PAGE_OPTIONS, Policy
from app import limits as server_limits
from app.connections import uvicorn_options
from app.dicomweb import DicomWeb
from app.forward import Forwarder
from app.forward_status import report as forward_report
from app.forward_target import ForwardConfigError, ForwardTarget, forward_target
from app.listen import InsecureListenError, check_listen
from app.server import create_app
from app.store import Store
from app.tokens import DEFAULT_PER_MINUTE, DEFAULT_PER_MINUTE_BYTES, TokenInfo, Tokens

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
    serve.add_argument(
        "--accept-option",
        action="append",
        default=[],
        metavar="NAME",
        choices=sorted(o.value for o in IDENTITY_OPTIONS),
        help="also accept uploads that claim this identity-keeping PS3.15 option (repeatable); by default "
        "only what the page writes is accepted: " + ", ".join(sorted(o.value for o in PAGE_OPTIONS)),
    )
    serve.add_argument(
        "--accept-other-deidentifiers",
        action="store_true",
        help="accept files de-identified by other tools (the removal checks only, not our method's shapes)",
    )
    serve.add_argument(
        "--accept-documents",
        action="store_true",
        help="accept encapsulated documents (PDF, CDA, STL, OBJ, MTL), whose content is not checked",
    )
    serve.add_argument("--forward", metavar="URL", help="also send accepted instances to this DICOMweb root")
    serve.add_argument(
        "--forward-credentials",
        type=Path,
        metavar="FILE",
        help="the PACS's credentials: PACSBIN_FORWARD_TOKEN=... or PACSBIN_FORWARD_USER=... and "
        "PACSBIN_FORWARD_PASSWORD=... lines (or the same names in the environment)",
    )
    server_limits.add_arguments(serve)
    token = commands.add_parser("token", help="manage upload tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token (printed once)")
    create.add_argument("--name", required=True, help="who or what the token is for")
    create.add_argument(
        "--max-request-mb", type=int, default=512, help="largest request body (default 512 MB)"
    )
    create.add_argument(
        "--per-minute",
        type=int,
        default=DEFAULT_PER_MINUTE,
        help=f"requests per minute, one per 8 instances (default {DEFAULT_PER_MINUTE})",
    )
    create.add_argument(
        "--per-minute-mb",
        type=int,
        default=DEFAULT_PER_MINUTE_BYTES >> 20,
        help=f"megabytes per minute, at least --max-request-mb (default {DEFAULT_PER_MINUTE_BYTES >> 20})",
    )
    create.add_argument(
        "--expires-days",
        type=float,
        metavar="N",
        help="the token stops working N days from now (default: never)",
    )
    token_commands.add_parser("list", help="every token: id, name, dates and limits (never the token itself)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by its id (see `token list`)")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="the token's id, as `token list` shows it")
    which.add_argument("--name", help="revoke every token with this name instead")
    for command in token_commands.choices.values():
        command.add_argument(
            "--data", type=Path, default=DEFAULT_DATA, help=f"the server's data folder ({DEFAULT_DATA})"
        )
    forward = commands.add_parser("forward", help="forwarding to a PACS (--forward)")
    forward_commands = forward.add_subparsers(dest="forward_command", required=True)
    status = forward_commands.add_parser("status", help="what is queued, delivered, failed (and why)")
    status.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"the server's data folder ({DEFAULT_DATA})"
    )
    status.add_argument("--list-delivered", action="store_true", help="list every delivered instance")
    return parser


def _listing(tokens: list[TokenInfo]) -> str:
    """`token list`: one line per token, columns aligned."""
    header = ("ID", "NAME", "CREATED", "LAST USED", "EXPIRES", "LIMITS", "STATUS")
    rows = [
        (
            str(t.id),
            t.name,
            t.created,
            t.last_used or "never",
            t.expires or "never",
            f"{t.max_request_bytes >> 20} MB/request, {t.per_minute}/min, {t.per_minute_bytes >> 20} MB/min",
            "revoked" if t.revoked else "expired" if t.expired() else "active",
        )
        for t in tokens
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    )


def _token(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    tokens = Tokens(args.data / "tokens.sqlite")
    if args.token_command == "create":
        try:
            secret = tokens.create(
                args.name,
                max_request_bytes=args.max_request_mb << 20,
                per_minute=args.per_minute,
                per_minute_bytes=args.per_minute_mb << 20,
                expires_days=args.expires_days,
            )
        except ValueError as exc:
            parser.error(str(exc))
        print(secret)
        return 0
    if args.token_command == "list":
        print(_listing(tokens.list()))
        return 0
    if args.name is not None:
        count = tokens.revoke_named(args.name)
        print(f"revoked {count} token(s) named {args.name!r}", file=sys.stderr)
        return 0 if count else 1
    names = {t.id: t.name for t in tokens.list()}
    if not tokens.revoke(args.id):
        print(f"error: no active token with id {args.id} (see `token list`)", file=sys.stderr)
        return 1
    print(f"revoked token {args.id} ({names[args.id]})", file=sys.stderr)
    return 0


def serve_policy(args: argparse.Namespace) -> Policy:
    """The re-check's policy from `serve`'s flags."""
    return Policy.from_flags(
        args.accept_option,
        allow_legacy_pacsbin=args.allow_legacy_pacsbin,
        accept_other_deidentifiers=args.accept_other_deidentifiers,
        accept_documents=args.accept_documents,
    )


def build_app(
    dist: Path,
    data: Path,
    *,
    allow_legacy_pacsbin: bool = False,
    forward: ForwardTarget | None = None,
    check_workers: int = 0,
    policy: Policy | None = None,
    limits: server_limits.Limits | None = None,
) -> Starlette:
    """The whole server: the page, and DICOMweb backed by `data` (stored instances, index, tokens).
    `policy`: what the re-check accepts (default: what the page writes, plus `allow_legacy_pacsbin`)."""
    store = Store(data)
    forwarder = None
    if forward:
        forwarder = Forwarder(forward, store.db_path)
        forwarder.start(store.root)
    dicomweb = DicomWeb(
        store,
        Tokens(data / "tokens.sqlite"),
        policy or Policy(allow_legacy_pacsbin=allow_legacy_pacsbin),
        forwarder,
        check_workers=check_workers,
        limits=limits,
    )
    return create_app(dist, dicomweb.routes())


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "token":
        return _token(args, parser)
    if args.command == "forward":
        print(forward_report(args.data, list_delivered=args.list_delivered))
        return 0
    if (args.certfile is None) != (args.keyfile is None):
        parser.error("--certfile and --keyfile go together")
    for tls_file in (args.certfile, args.keyfile):
        if tls_file is not None and not tls_file.is_file():
            parser.error(f"file not found: {tls_file}")
    try:
        check_listen(args.host, tls=args.certfile is not None)
    except InsecureListenError as exc:
        parser.error(str(exc))
    target = None
    if args.forward_credentials is not None and args.forward is None:
        parser.error("--forward-credentials is for --forward URL")
    if args.forward is not None:
        try:
            target = forward_target(args.forward, args.forward_credentials, os.environ)
        except ForwardConfigError as exc:
            parser.error(str(exc))
    if not (args.dist / "index.html").is_file():
        print(f"error: {args.dist / 'index.html'} not found: build the page first", file=sys.stderr)
        return 2
    limits = server_limits.from_arguments(args)
    app = build_app(
        args.dist,
        args.data,
        forward=target,
        check_workers=os.cpu_count() or 1,
        policy=serve_policy(args),
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
