// The page's text worker (issue 14): finds burned-in text in frames, off the main thread and offline.
// A module worker of its own (not the engine's: a frame being searched never holds up the engine).
// Messages are {id, cmd, ...payload} one way and {id, ok, reply | error} back, as for the engine worker:
//
//   load  {numThreads?}  -> {ms, bytes, numThreads}
//        imports onnxruntime-web and fetches the models from this server, only now (never at page load:
//        ~11 MB sent gzipped), and creates the sessions. Later loads reuse the first; a failed one is tried again.
//   find  {samples, width, height, channels, photometric, image}
//           -> {boxes: [{x, y, width, height, score, text}], ms, detectionMs}
//        samples as prepare.mjs takes them (8-bit grey/RGB/RGBA as stored, deeper grey); the page
//        transfers the buffer; `image` names the image the frame belongs to (reads are reused within it).
//        Loads first if `load` was not sent. Each box is read, kept only if keepRead, and fitted to its
//        ink (text_finder/tighten.mjs), as the CLI's are (redaction/text_finder/finder.py).
//
// Everything comes from dist/text/ (tools/dist_text.py): ort's wasm-only module, its glue and wasm (found
// through ort.env.wasm.wasmPaths, never a CDN), the derived fp16-weight models. The glue is a same-origin
// file, so ort starts its thread workers from its URL (worker-src 'self'), never from a blob: URL; the
// page is cross-origin isolated (app/headers.py), so SharedArrayBuffer and threads are available.
// Recognition (text_finder/recognize.mjs) reads each box, in finder.py's order: read the detector's box,
// drop it unless keepRead(text, score) (filters.mjs: the false alarms), then fit it to its ink (tighten).
// What a crop read is kept for the frames of one image (`image` in `find`), as find_text does natively: a
// name on every frame of a cine is read once.

import { keepRead, loadDetector, loadRecognizer, tighten, toRgb8 } from "./text_finder/index.mjs";

const TEXT = new URL("./text/", import.meta.url);
const ORT_MODULE = new URL("ort/ort.wasm.min.mjs", TEXT).href;
const ORT_FILES = new URL("ort/", TEXT).href;
export const DETECTION_MODEL = new URL("models/ch_PP-OCRv4_det_infer.fp16.onnx", TEXT).href;
export const RECOGNITION_MODEL = new URL("models/ch_PP-OCRv4_rec_infer.fp16.onnx", TEXT).href;
export const KEYS = new URL("models/ppocr_keys_v1.txt", TEXT).href;
// Two threads where the computer has two cores or more (the page is cross-origin isolated): on the 2-core
// test machine 545 against 778 ms a frame with recognition (tests/e2e/test_text_worker.py). The scan runs
// only while the engine workers are idle (textscan.mjs), so the two do not compete.
const DEFAULT_THREADS = Math.max(1, Math.min(2, self.navigator?.hardwareConcurrency || 1));

let loaded = null; // Promise of {detector, reader, ms, bytes, numThreads}
let known = { image: null, reads: new Map() }; // crop -> {text, score}, for the frames of one image

class TextFinderError extends Error {}

async function fetchModel(url, what) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch (err) {
    throw new TextFinderError(`The text finder could not be loaded: ${what} did not download (${err}).`);
  }
  if (!response.ok) {
    throw new TextFinderError(
      `The text finder could not be loaded: ${what} is not on this server (HTTP ${response.status} for ${url}).`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function load({ numThreads = DEFAULT_THREADS } = {}) {
  const started = performance.now();
  let ort;
  try {
    ort = await import(ORT_MODULE);
  } catch (err) {
    throw new TextFinderError(`The text finder could not be loaded: its runtime did not start (${err}).`);
  }
  ort.env.wasm.wasmPaths = ORT_FILES; // our own server, never a CDN
  ort.env.wasm.numThreads = numThreads;
  ort.env.wasm.proxy = false; // already in a worker; ort's proxy worker would be one more
  const [model, recModel, keys] = await Promise.all([
    fetchModel(DETECTION_MODEL, "the text detection model"),
    fetchModel(RECOGNITION_MODEL, "the text recognition model"),
    fetchModel(KEYS, "the recognition model's characters"),
  ]);
  let detector;
  let reader;
  try {
    detector = await loadDetector(ort, model);
  } catch (err) {
    throw new TextFinderError(`The text finder could not be loaded: the detection model did not open (${err}).`);
  }
  try {
    reader = await loadRecognizer(ort, recModel, new TextDecoder().decode(keys));
  } catch (err) {
    throw new TextFinderError(`The text finder could not be loaded: the recognition model did not open (${err}).`);
  }
  const bytes = model.byteLength + recModel.byteLength + keys.byteLength;
  return { detector, reader, ms: Math.round(performance.now() - started), bytes, numThreads };
}

function ensureLoaded(payload) {
  if (!loaded) {
    loaded = load(payload).catch((err) => {
      loaded = null; // a later `load` tries again (a server that was restarting, say)
      throw err;
    });
  }
  return loaded;
}

const handlers = {
  async load(payload) {
    const { ms, bytes, numThreads } = await ensureLoaded(payload);
    return { ms, bytes, numThreads };
  },
  async find({ samples, width, height, channels = 1, photometric = "MONOCHROME2", image = null }) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new TextFinderError(`The frame cannot be searched for text: its size ${width}x${height} is not valid.`);
    }
    const { detector, reader } = await ensureLoaded({});
    const started = performance.now();
    const found = await detector.detect(samples, width, height, { channels, photometric });
    const detected = performance.now();
    const rgb = toRgb8(samples, width, height, channels, photometric); // the detector's own input
    if (image === null || image !== known.image) known = { image, reads: new Map() };
    const reads = await reader.read(rgb, width, height, found, known.reads);
    const boxes = [];
    found.forEach((box, i) => {
      const { text, score: readScore } = reads[i];
      if (!keepRead(text, readScore)) return; // read as nothing, or unsure: not text (filters.mjs)
      const { x, y, width: w, height: h, score } = tighten(rgb, width, box);
      boxes.push({ x, y, width: w, height: h, score, text: text.trim() });
    });
    const ms = performance.now() - started;
    return { boxes, ms, detectionMs: detected - started };
  },
};

self.onmessage = async (event) => {
  const { id, cmd, ...payload } = event.data || {};
  try {
    const handler = Object.hasOwn(handlers, cmd) ? handlers[cmd] : null;
    if (!handler) throw new TextFinderError(`unknown text worker command ${JSON.stringify(cmd)}`);
    self.postMessage({ id, ok: true, reply: await handler(payload) });
  } catch (err) {
    const message = err instanceof TextFinderError ? err.message : `The text finder failed: ${err && err.stack || err}`;
    self.postMessage({ id, ok: false, error: message });
  }
};
