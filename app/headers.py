"""Security headers on every response, the Content-Security-Policy first.

The page and its worker load only their own files; nothing comes from or goes to another origin.

- ``default-src 'self'``: anything not listed below (fonts, manifest, media, frames) only from here.
- ``script-src 'self' 'wasm-unsafe-eval'``: our modules and Pyodide's (``pyodide.mjs`` imports
  ``pyodide.asm.mjs`` with ``import()``). ``'wasm-unsafe-eval'`` allows ``WebAssembly.compile`` /
  ``instantiate(Streaming)`` of ``pyodide.asm.wasm``, and nothing else; Pyodide has needed only that since
  0.22 (pyodide/pyodide#3141). ``'unsafe-eval'`` is *not* given: Pyodide 314's only string evaluations are
  Emscripten's ``emscripten_run_script*`` and the EM_ASM bodies of dynamically loaded ``.so`` side modules;
  neither the core, its stdlib (no ``.so`` in ``python_stdlib.zip``) nor pure-Python wheels (pydicom) reach
  them, and ``pyodide.code.run_js`` is not used. No ``'unsafe-inline'``: no inline scripts or handlers.
- ``worker-src 'self'``: the worker is our own module script (``new Worker(url, {type: "module"})``;
  Pyodide 314 refuses classic workers). No ``blob:``: a worker built from a blob would be the one way
  around script-src.
- ``connect-src 'self'``: fetch of Pyodide's lock file, stdlib zip, wasm and wheels, and later the
  DICOMweb STOW-RS upload to this same server; no data can leave for another origin.
- ``img-src 'self' blob:``: our icons, and viewer images the page makes itself with
  ``URL.createObjectURL`` (blob: URLs can only be minted by our own scripts). Canvas drawing
  (``putImageData``) needs no source. No ``data:``: nothing uses it.
- ``style-src 'self'``: our stylesheet; no inline ``<style>`` or ``style=`` attributes (setting
  ``element.style`` from script stays allowed).
- ``object-src 'none'``: no plug-ins. ``base-uri 'none'``: no ``<base>`` re-pointing relative URLs.
- ``frame-ancestors 'none'``: the page cannot be framed (clickjacking); ``X-Frame-Options: DENY`` for old
  browsers. ``form-action 'self'``: forms submit only here.

A worker's CSP comes from its own response, so every response carries the same policy.

DICOMweb answers (everything under ``/dicomweb/``, errors included) also carry ``Cache-Control: no-store``:
they list what a token uploaded and say what was refused, and no cache (browser, proxy) may keep or replay
them (RFC 9111 5.2.2.5).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_DIRECTIVES: Mapping[str, str] = {
    "default-src": "'self'",
    "script-src": "'self' 'wasm-unsafe-eval'",
    "worker-src": "'self'",
    "connect-src": "'self'",
    "img-src": "'self' blob:",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
CSP = "; ".join(f"{name} {value}" for name, value in CSP_DIRECTIVES.items())

# Powerful features the page never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
)

HSTS = "max-age=31536000"

# Paths whose answers are never stored by a cache (see the module's docstring).
NO_STORE_PREFIX = "/dicomweb/"

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    # With COOP this makes the page cross-origin isolated (SharedArrayBuffer, e.g. Pyodide's interrupt
    # buffer to cancel a running job); everything is same-origin, so nothing is blocked by it.
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",
}


def _is_local_host(host: str) -> bool:
    """Browsers ignore HSTS from IP literals (RFC 6797 8.1); on localhost it would stick to other apps."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def security_headers(scheme: str, host: str) -> dict[str, str]:
    """The headers for one response; Strict-Transport-Security only over TLS under a real host name."""
    headers = dict(SECURITY_HEADERS)
    if scheme == "https" and not _is_local_host(host):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def _scope_host(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host: str = value.decode("latin-1")
            return host.rsplit(":", 1)[0] if not host.endswith("]") else host
    server = scope.get("server")
    return str(server[0]) if server else ""


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: adds the security headers to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers(scope.get("scheme", "http"), _scope_host(scope)).items()
        ]
        path: str = scope.get("path", "")
        no_store = path.startswith(NO_STORE_PREFIX) or path == NO_STORE_PREFIX.rstrip("/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if no_store:  # whatever the route set: these answers are never cached
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                present = {name.lower() for name, _ in headers}
                message["headers"] = [*headers, *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)
