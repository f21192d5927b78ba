// The page's text worker (issue 14): finds burned-in text in frames, off the main thread and offline.
// A module worker of its own (not the engine's: a frame being searched never holds up the engine).
// Messages are {id, cmd, ...payload} one way and {id, ok, reply | error} back, as for the engine worker:
//
//   load  {numThreads?}  -> {ms, bytes, numThreads}
//        imports onnxruntime-web and fetches the models from this server, only now (never at page load:
//        ~11 MB sent gzipped), and creates the sessions. Later loads reuse the first; a failed one is tried again.
//   find  {samples, width, height, channels, photometric}  -> {boxes: [{x, y, width, height, score}], ms}
//        samples as prepare.mjs takes them (8-bit grey/RGB/RGBA as stored, deeper grey); the page
//        transfers the buffer. Loads first if `load` was not sent. Each box is fitted to its ink
//        (text_finder/tighten.mjs), as the CLI's are (redaction/text_finder/finder.py).
//
// Everything comes from dist/text/ (tools/dist_text.py): ort's wasm-only module, its glue and wasm (found
// through ort.env.wasm.wasmPaths, never a CDN), the derived fp16-weight models. The glue is a same-origin
// file, so ort starts its thread workers from its URL (worker-src 'self'), never from a blob: URL; the
// page is cross-origin isolated (app/headers.py), so SharedArrayBuffer and threads are available.
// Recognition (the text read in each box) is added by static/text_finder/recognize.mjs (not here yet). The
// order is finder.py's: read the detector's box, drop it unless keepRead(text, score) (filters.mjs: the
// false alarms), then fit it to its ink (tighten).

import { loadDetector, tighten, toRgb8 } from "./text_finder/index.mjs";

const TEXT = new URL("./text/", import.meta.url);
const ORT_MODULE = new URL("ort/ort.wasm.min.mjs", TEXT).href;
const ORT_FILES = new URL("ort/", TEXT).href;
export const DETECTION_MODEL = new URL("models/ch_PP-OCRv4_det_infer.fp16.onnx", TEXT).href;
// Measured in tests/e2e/test_text_worker.py on the 2-core test machine (bench/README.md, "Burned-in text").
const DEFAULT_THREADS = 1;

let loaded = null; // Promise of {detector, ms, bytes, numThreads}

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
  const model = await fetchModel(DETECTION_MODEL, "the text detection model");
  let detector;
  try {
    detector = await loadDetector(ort, model);
  } catch (err) {
    throw new TextFinderError(`The text finder could not be loaded: the detection model did not open (${err}).`);
  }
  return { detector, ms: Math.round(performance.now() - started), bytes: model.byteLength, numThreads };
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
  async find({ samples, width, height, channels = 1, photometric = "MONOCHROME2" }) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new TextFinderError(`The frame cannot be searched for text: its size ${width}x${height} is not valid.`);
    }
    const { detector } = await ensureLoaded({});
    const started = performance.now();
    const found = await detector.detect(samples, width, height, { channels, photometric });
    const rgb = toRgb8(samples, width, height, channels, photometric); // the detector's own input
    const boxes = found
      .map((box) => tighten(rgb, width, box))
      .map(({ x, y, width: w, height: h, score }) => ({ x, y, width: w, height: h, score }));
    return { boxes, ms: performance.now() - started };
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
