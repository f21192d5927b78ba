"""Where the public test files are: pydicom's bundled files and the pydicom-data package, walked on disk.

(pydicom's get_testdata_files() tries to download missing files, which hangs without a network.)
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _pydicom_data_root() -> Path | None:
    from importlib import metadata

    try:
        dist = metadata.distribution("pydicom-data")  # installs as the module `data_store`
    except metadata.PackageNotFoundError:
        return None
    root = Path(str(dist.locate_file("data_store"))) / "data"
    return root if root.is_dir() else None


def public_files() -> list[Path]:
    """Every file in both corpora (not only *.dcm: some have no extension), sorted."""
    roots = [PYDICOM_FILES, _pydicom_data_root()]
    files: list[Path] = []
    for root in roots:
        if root is None:
            continue
        files += [
            p
            for p in root.rglob("*")
            if p.is_file() and p.suffix.lower() not in {".py", ".pyc", ".txt", ".json", ".icc", ".gz"}
        ]
    return sorted(files)


def public_headers(syntaxes: Collection[str]) -> list[tuple[Path, Dataset]]:
    """The public files whose file meta names one of `syntaxes`, each with its header (no Pixel Data read);
    files pydicom cannot read at all are passed over (other tests cover them)."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in public_files():
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:
                continue
            meta = getattr(ds, "file_meta", None)
            if meta is not None and str(meta.get("TransferSyntaxUID", "")) in syntaxes:
                out.append((path, ds))
    return out


def file(name: str) -> Path:
    return PYDICOM_FILES / name


def data_file(name: str) -> Path:
    """A file of either corpus by name (pydicom's own first, then pydicom-data)."""
    for root in (PYDICOM_FILES, _pydicom_data_root()):
        if root is not None and (root / name).is_file():
            return root / name
    raise FileNotFoundError(f"{name} is in neither pydicom's test files nor pydicom-data")
