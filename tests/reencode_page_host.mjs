// Node host for tests/test_reencode_page.py and bench/reencode.py: a redacted compressed file through the
// page's path, as static/worker.mjs runs it (decodeAll, then deidentify): the engine under Pyodide lists the
// frames' codestreams, the page's codecs (the codecs.js bundle, built for Node) decode them, the engine
// redacts and encodes again, calling CharLS's encoder through the JS module `pacsbin_codecs`.
//
//   node tests/reencode_page_host.mjs BUNDLE_URL MOUNT_DIR MANIFEST.json
// MANIFEST (paths under MOUNT_DIR, seen as /mnt): {"settings": {...}, "jobs": [{"path", "out", "regions",
// "jpeg_ls": false to go without the encoder, "view": true to decode the output's first and last frames
// as the viewer does, into MOUNT_DIR/<out>.frame<k>}]}; each job gets "result" (the engine's answer), "decode_ms" and "engine_ms".

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bootPyodide } from "../tools/pyodide_run.mjs";

const [bundle, mountDir, manifestPath] = process.argv.slice(2);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const codecs = await import(bundle);
const py = await bootPyodide({ wheelsDir: path.join(root, "vendor-wheels"), srcDir: root, mountDir });
py.registerJsModule("pacsbin_codecs", { encodeJpegLs: await codecs.loadJpegLsEncoder() });
const handle = py.pyimport("anonymizer.browser_api").handle;
const call = (request) => JSON.parse(handle(JSON.stringify(request)));
py.FS.mkdirTree("/work");

const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
for (const job of manifest.jobs) {
  const t0 = performance.now();
  const listed = call({ cmd: "codestreams", path: job.path, out: "/work" });
  if (listed.status !== "ok") {
    job.result = listed;
    continue;
  }
  const info = listed.image;
  const parts = [];
  let bits = info.bits_allocated;
  let photometric = info.photometric;
  for (let i = 0; i < info.frames; i++) {
    const decoded = await codecs.decodeFrame(py.FS.readFile(`/work/${i}`), info);
    py.FS.unlink(`/work/${i}`);
    parts.push(decoded.data);
    bits = decoded.bitsAllocated;
    photometric = decoded.photometric;
  }
  const total = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    total.set(part, offset);
    offset += part.length;
  }
  py.FS.writeFile("/work/decoded", total);
  const t1 = performance.now();
  const pixels = {
    regions: job.regions,
    reviewed: false,
    transfer_syntax: info.transfer_syntax,
    decoded: {
      path: "/work/decoded", rows: info.rows, columns: info.columns, frames: info.frames, samples: info.samples,
      bits_allocated: bits, bits_stored: Math.min(info.bits_stored, bits), signed: info.signed, photometric,
    },
    // As the worker: the encoder is offered for every source but RLE (which stays RLE).
    ...(job.jpeg_ls !== false && info.transfer_syntax !== "1.2.840.10008.1.2.5" ? { encode: "jpeg-ls" } : {}),
  };
  job.result = call({ cmd: "deidentify", path: job.path, out: job.out, settings: manifest.settings, pixels });
  job.decode_ms = t1 - t0;
  job.engine_ms = performance.now() - t1;
  job.frames = info.frames;
  py.FS.unlink("/work/decoded");
  if (job.view && job.result.status === "ok") {
    // The viewer's path on the written file: the engine's "image" command and the page's decoder.
    for (const frame of [0, info.frames - 1]) {
      const shown = call({ cmd: "image", path: job.out, frame, out: "/work/frame" });
      const decoded = await codecs.decodeFrame(py.FS.readFile("/work/frame"), shown.image);
      py.FS.unlink("/work/frame");
      writeFileSync(path.join(mountDir, `${path.basename(job.out)}.frame${frame}`), decoded.data);
    }
  }
}
writeFileSync(manifestPath, JSON.stringify(manifest));
