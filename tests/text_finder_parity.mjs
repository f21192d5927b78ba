// Node host for tests/test_text_finder_parity.py: runs static/text_finder (the page's detector, and its
// recogniser when the manifest names one) with onnxruntime-web's wasm backend on raw frames and prints
// their boxes, what they read and the times as JSON.
//
//   node tests/text_finder_parity.mjs MANIFEST.json
// MANIFEST: {"model": path of ch_PP-OCRv4_det_infer.onnx, "frames": [{"path", "width", "height",
//   "channels", "photometric", "bits", "boxes"?}], "repeat"?, "threads"?,
//   "recognition"?: {"model": path of ch_PP-OCRv4_rec_infer.onnx, "keys": path of ppocr_keys_v1.txt}};
// each frame file holds the samples, little-endian, unsigned. Each frame gets `detection_tensor`, the
// SHA-256 of the detector's input tensor. With "recognition", each frame also gets
// `texts` (what its boxes read), `native_texts` and `tensors` (SHA-256 of each box's input tensor) for the
// frame's native "boxes", and `ms` covers detection and recognition (`rec_ms` the recognition alone).
// `tightened`: the detector's boxes fitted to their ink (tighten.mjs), as the native finder fits them.
// `cpu_ms`: the process's CPU time over the same span (all its threads: a figure less bent by a busy
// machine than the wall time, though not immune to it).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-web";
import {
  detectionInput, loadDetector, loadRecognizer, padded, recognitionInput, tighten, toRgb8,
} from "../static/text_finder/index.mjs";

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
ort.env.wasm.numThreads = Number(manifest.threads || process.env.PACSBIN_TEXT_THREADS || 1);
const started = performance.now();
const finder = await loadDetector(ort, readFileSync(manifest.model));
const rec = manifest.recognition;
const reader = rec ? await loadRecognizer(ort, readFileSync(rec.model), readFileSync(rec.keys, "utf8")) : null;
const loadMs = performance.now() - started;
const sha256 = (floats) => createHash("sha256").update(new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength)).digest("hex");
const sameBoxes = (a, b) => a.length === b.length && a.every((p, i) => ["x", "y", "width", "height"].every((k) => p[k] === b[i][k]));
const frames = [];
for (const frame of manifest.frames) {
  const bytes = readFileSync(frame.path);
  const samples = frame.bits === 16
    ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2)
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const times = [];
  const cpu = [];
  const recTimes = [];
  let boxes = [];
  let texts = null;
  for (let run = 0; run < (manifest.repeat || 1); run++) {
    const t = performance.now();
    const c = process.cpuUsage();
    boxes = await finder.detect(samples, frame.width, frame.height, frame);
    if (reader) {
      const r = performance.now();
      const rgb = toRgb8(samples, frame.width, frame.height, frame.channels, frame.photometric);
      texts = await reader.read(rgb, frame.width, frame.height, boxes); // a fresh `known` per run: all read
      recTimes.push(performance.now() - r);
    }
    times.push(performance.now() - t);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  const entry = { boxes, ms: times, cpu_ms: cpu };
  const frameRgb = toRgb8(samples, frame.width, frame.height, frame.channels, frame.photometric);
  const big = padded(frameRgb, frame.height, frame.width);
  entry.detection_tensor = sha256(detectionInput(big.rgb, big.height, big.width).data);
  entry.tightened = boxes.map((box) => tighten(frameRgb, frame.width, box));
  if (reader) {
    entry.texts = texts.map((r) => r.text);
    entry.scores = texts.map((r) => r.score);
    entry.rec_ms = recTimes;
    if (frame.boxes) {
      const rgb = toRgb8(samples, frame.width, frame.height, frame.channels, frame.photometric);
      const reads = sameBoxes(boxes, frame.boxes) ? texts : await reader.read(rgb, frame.width, frame.height, frame.boxes);
      entry.native_texts = reads.map((r) => r.text);
      entry.native_scores = reads.map((r) => r.score);
      entry.tensors = frame.boxes.map((box) => sha256(recognitionInput(rgb, frame.width, box).data));
    }
  }
  frames.push(entry);
}
await finder.release();
if (reader) await reader.release();
process.stdout.write(JSON.stringify({ load_ms: loadMs, frames }));
