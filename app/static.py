"""The built page (``dist/``): explicit media types, strong ETags, and a cache policy per folder.

ETags are the sha256 of the content: hashing a whole dist at start-up takes ~25 ms for Pyodide's 14 MB,
so they are computed rather than read from a build manifest that could be stale. A file changed on disk
while serving (a rebuild) is noticed by its stat (size, mtime, inode) and hashed again.

Compressed answers (RFC 9110 8.4, 12.5.3): tools/build_dist.py writes ``X.gz`` beside large compressible
files (onnxruntime's wasm, the text models, Pyodide's wasm and stdlib). A GET of ``X`` whose
Accept-Encoding takes gzip is answered with ``X.gz``'s bytes, ``Content-Encoding: gzip`` and the ``.gz``
file's own sha256 as ETag (a representation of its own); every answer for such an ``X`` says
``Vary: Accept-Encoding`` so a cache keeps the two apart. A ``.gz`` is used only after checking once (per
stat of both files) that it inflates to exactly ``X``'s bytes: a stale or foreign ``.gz`` is never sent in
X's name, the plain file is. Range requests are answered from the plain file (byte ranges of the identity
form; no ``Accept-Ranges`` on an encoded answer), so a range is never cut out of compressed bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

# Set here, not taken from the OS table (which differs between machines and lacks .mjs or .wasm).
MEDIA_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
DEFAULT_MEDIA_TYPE = "application/octet-stream"

# Folders whose content is pinned by version and hash: cached for a year without revalidation.
IMMUTABLE_PREFIXES = ("pyodide/", "wheels/")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def media_type(path: str) -> str:
    return MEDIA_TYPES.get(PurePosixPath(path).suffix.lower(), DEFAULT_MEDIA_TYPE)


def cache_control(path: str) -> str:
    """Pinned third-party files are immutable; our own HTML, JS and CSS change between builds."""
    if path.startswith(IMMUTABLE_PREFIXES) and not path.endswith(".html"):
        return IMMUTABLE
    return REVALIDATE


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 13.1.2: weak comparison, a list of tags or ``*``."""
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or any(tag.removeprefix("W/") == etag for tag in candidates)


def safe_relative(path: str) -> str | None:
    """A URL path below the dist root, or None: no ``..``, ``.``, empty or hidden segments, no backslash."""
    if not path or "\\" in path or "\x00" in path:
        return None
    parts = path.split("/")
    if any(not part or part.startswith(".") for part in parts):
        return None
    return "/".join(parts)


GZIP_SUFFIX = ".gz"


def accepts_gzip(accept_encoding: str) -> bool:
    """RFC 9110 12.5.3: gzip (or x-gzip) listed with q > 0, or ``*`` with q > 0 and gzip not refused."""
    star = None
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


def _inflates_to(gz: Path, plain_sha256: str) -> bool:
    digest = hashlib.sha256()
    try:
        with gzip.open(gz, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return False
    return f'"{digest.hexdigest()}"' == plain_sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Entry:
    key: tuple[int, int, int]  # size, mtime_ns, inode
    etag: str


class DistFiles:
    """Serves regular files below ``root``; ``/`` is ``index.html``; no listings, nothing outside."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise FileNotFoundError(f"dist folder not found: {root}")
        self.root = root.resolve()
        self._etags: dict[Path, _Entry] = {}
        # (plain file's key, .gz file's key) -> does the .gz inflate to the plain file
        self._gz_ok: dict[tuple[Path, tuple[int, int, int], tuple[int, int, int]], bool] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.startswith("."):
                    self._lookup(Path(dirpath) / name)
        # Each .gz checked against its plain file now (~0.1 s for the site's ~30 MB inflated), not on the
        # event loop at the first request for it.
        for real in list(self._etags):
            if not real.name.endswith(GZIP_SUFFIX) and real.with_name(real.name + GZIP_SUFFIX) in self._etags:
                found = self._lookup(real)
                if found is not None:
                    self._encoded(real, *found)

    def _lookup(self, path: Path) -> tuple[os.stat_result, str] | None:
        """The file's stat and ETag, if ``path`` is a regular file inside the root (after symlinks)."""
        try:
            real = path.resolve(strict=True)
            st = real.stat()
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(self.root) or not stat.S_ISREG(st.st_mode):
            return None
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        entry = self._etags.get(real)
        if entry is None or entry.key != key:
            entry = _Entry(key, f'"{_sha256(real)}"')
            self._etags[real] = entry
        return st, entry.etag

    async def endpoint(self, request: Request) -> Response:
        url_path = request.path_params.get("path", "")
        rel = safe_relative(url_path or "index.html")
        found = self._lookup(self.root / rel) if rel is not None else None
        if rel is None or found is None:
            return PlainTextResponse("Not Found", status_code=404, headers={"Cache-Control": "no-store"})
        st, etag = found
        headers = {"ETag": etag, "Cache-Control": cache_control(rel)}
        path = self.root / rel
        encoded = self._encoded(path, st, etag)
        if encoded is not None:
            headers["Vary"] = "Accept-Encoding"
            if accepts_gzip(request.headers.get("accept-encoding", "")) and "range" not in request.headers:
                path, st, headers["ETag"] = encoded
                headers["Content-Encoding"] = "gzip"
        if etag_matches(request.headers.get("if-none-match", ""), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        response = FileResponse(path, headers=headers, media_type=media_type(rel), stat_result=st)
        if "Content-Encoding" in headers:
            del response.headers["accept-ranges"]  # ranges are served from the plain file only
        return response

    def _encoded(self, path: Path, st: os.stat_result, etag: str) -> tuple[Path, os.stat_result, str] | None:
        """``path``'s gzip form (path, stat, ETag) when a ``.gz`` beside it inflates to its bytes."""
        if path.name.endswith(GZIP_SUFFIX):
            return None
        gz = path.with_name(path.name + GZIP_SUFFIX)
        found = self._lookup(gz)
        if found is None:
            return None
        gz_st, gz_etag = found
        key = (
            path.resolve(),
            (st.st_size, st.st_mtime_ns, st.st_ino),
            (gz_st.st_size, gz_st.st_mtime_ns, gz_st.st_ino),
        )
        ok = self._gz_ok.get(key)
        if ok is None:
            ok = self._gz_ok[key] = _inflates_to(gz, etag)
        return (gz, gz_st, gz_etag) if ok else None
