"""The page's zip writer (static/zip.mjs), run under Node: Python's zipfile (which checks every CRC) and
Info-ZIP read back exactly the entries written, with and without Zip64 records."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVER = """
import fs from "node:fs";
import { zipStream } from "%s";
const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const entries = spec.entries.map((e) => ({
  name: e.name,
  bytes: Uint8Array.from(Buffer.from(e.data, "base64")),
  ...(e.crc32 === null ? {} : { crc32: e.crc32 }),
}));
function* many() {
  yield* entries;
  for (let i = 0; i < spec.empty; i++) yield { name: `empty/${i}`, bytes: new Uint8Array(0), crc32: 0 };
}
const chunks = [];
const reader = zipStream(many(), spec.limit ? { zip64Limit: spec.limit } : {}).getReader();
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  chunks.push(value);
}
fs.writeFileSync(process.argv[3], Buffer.concat(chunks));
"""
CONTENTS = {
    "1.2.3/4.5/6.7.dcm": bytes(range(256)) * 41,
    "ünïcode/ñame.json": b'{"a": 1}',
    "empty.dcm": b"",
    "deidentification-report.json": b"report without a CRC from the engine",
}


def _write(tmp_path: Path, limit: int | None, empty: int = 0) -> Path:
    entries = [
        {
            "name": name,
            "data": base64.b64encode(data).decode(),
            "crc32": None if name.startswith("deidentification") else zlib.crc32(data),
        }
        for name, data in CONTENTS.items()
    ]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"entries": entries, "limit": limit, "empty": empty}))
    driver = tmp_path / "driver.mjs"
    driver.write_text(DRIVER % (ROOT / "static" / "zip.mjs").as_uri())
    out = tmp_path / "out.zip"
    subprocess.run(["node", str(driver), str(spec), str(out)], check=True, timeout=120)
    return out


@pytest.mark.parametrize("limit", [None, 1], ids=["plain", "zip64-everywhere"])
def test_entries_read_back_byte_for_byte(tmp_path: Path, limit: int | None) -> None:
    out = _write(tmp_path, limit)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None  # every CRC checked
        assert [i.filename for i in z.infolist()] == list(CONTENTS)
        for info in z.infolist():
            assert z.read(info) == CONTENTS[info.filename]
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (2000, 1, 1, 0, 0, 0)  # no real time leaks into the archive
            assert info.external_attr >> 16 == 0o100644
            # Zip64 extra fields only where a size or offset reaches the limit
            needs_zip64 = limit is not None and max(info.file_size, info.header_offset) >= limit
            assert (info.extra != b"") == needs_zip64
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-tq", str(out)], check=True, capture_output=True)


def test_more_entries_than_a_16_bit_count(tmp_path: Path) -> None:
    out = _write(tmp_path, None, empty=70_000)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    assert len(names) == len(CONTENTS) + 70_000
    assert names[-1] == "empty/69999"
    assert out.read_bytes()[-22:-18] == b"PK\x05\x06"
    assert b"PK\x06\x06" in out.read_bytes()[-100:]  # the Zip64 end record carries the count
