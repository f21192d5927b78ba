"""A script run both natively and under Pyodide: de-identify every file of a folder with a fixed key and
clock, writing <name>.dcm or <name>.err. test_pyodide_engine.py compares the two runs byte for byte."""

import os
import sys
from datetime import UTC, datetime

from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.errors import DeidentificationError
from anonymizer.keys import SecretKey


def main(src: str, dst: str, profile: str) -> None:
    script = None
    if profile == "pacsbin":
        from anonymizer.legacy.ctp_script import load_builtin_pacsbin

        script = load_builtin_pacsbin()
    config = Config(
        key=SecretKey(bytes(range(32))),
        profile=profile,
        script=script,
        clock=lambda: datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC),
    )
    os.makedirs(dst, exist_ok=True)
    for name in sorted(os.listdir(src)):
        with open(os.path.join(src, name), "rb") as f:
            data = f.read()
        try:
            out, ext = deidentify(data, config, path=name).data, ".dcm"
        except DeidentificationError as exc:
            out, ext = f"{type(exc).__name__}: {exc.reason}".encode(), ".err"
        with open(os.path.join(dst, name + ext), "wb") as f:
            f.write(out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
