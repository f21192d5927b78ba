// Node host for tests/test_text_finder_parity.py: runs static/text_finder (the page's detector) with
// onnxruntime-web's wasm backend on raw frames and prints their boxes and times as JSON.
//
//   node tests/text_finder_parity.mjs MANIFEST.json
// MANIFEST: {"model": path of ch_PP-OCRv4_det_infer.onnx, "frames": [{"path", "width", "height",
//   "channels", "photometric", "bits"}]}; each frame file holds the samples, little-endian, unsigned.

import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-web";
import { loadDetector } from "../static/text_finder/index.mjs";

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
ort.env.wasm.numThreads = Number(process.env.PACSBIN_TEXT_THREADS || 1);
const started = performance.now();
const finder = await loadDetector(ort, readFileSync(manifest.model));
const loadMs = performance.now() - started;
const frames = [];
for (const frame of manifest.frames) {
  const bytes = readFileSync(frame.path);
  const samples = frame.bits === 16
    ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2)
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const times = [];
  let boxes = [];
  for (let run = 0; run < (manifest.repeat || 1); run++) {
    const t = performance.now();
    boxes = await finder.detect(samples, frame.width, frame.height, frame);
    times.push(performance.now() - t);
  }
  frames.push({ boxes, ms: times });
}
await finder.release();
process.stdout.write(JSON.stringify({ load_ms: loadMs, frames }));
