"""The built page (``dist/``): explicit media types, strong ETags, and a cache policy per folder.

ETags are the sha256 of the content: hashing a whole dist at start-up takes ~25 ms for Pyodide's 14 MB,
so they are computed rather than read from a build manifest that could be stale. A file changed on disk
while serving (a rebuild) is noticed by its stat (size, mtime, inode) and hashed again.
"""

from __future__ import annotations

import hashlib
import os
import stat
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
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.startswith("."):
                    self._lookup(Path(dirpath) / name)

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
        if etag_matches(request.headers.get("if-none-match", ""), etag):
            return Response(status_code=304, headers=headers)
        return FileResponse(self.root / rel, headers=headers, media_type=media_type(rel), stat_result=st)
