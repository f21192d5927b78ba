// Text recognition (PaddleOCR PP-OCRv4 rec, CTC) in the page: the port of redaction/text_finder/recognize.py,
// step for step and with its constants, so the page reads what the CLI reads (the header match needs it).
// The tensor of a box is the native one bit for bit (every float32 step rounded with Math.fround as numpy
// computes it); tests/test_text_finder_parity.py checks the strings on rendered frames under Node.
// No DOM; the model is run by onnxruntime-web handed in by the caller (`ort`), its bytes too.

import { resizeBilinear } from "./resize.mjs";

export const HEIGHT = 48; // PaddleOCR rec_image_shape 3,48,320
export const MIN_WIDTH = 320;
export const MAX_WIDTH = 3200; // a line longer than 66 times its height is read squeezed rather than at any cost
export const VERTICAL_RATIO = 1.5;
export const BATCH = 6; // PaddleOCR rec_batch_num

const f32 = Math.fround;

// models.read_characters: class 0 is the CTC blank, then each line of the keys file, then a space
// (use_space_char). Python reads the file in text mode, so "\r\n" and "\r" end lines as "\n" does.
export function readCharacters(keysText) {
  const keys = keysText.replace(/\r\n?/g, "\n").split("\n");
  if (keys.length && keys[keys.length - 1] === "") keys.pop(); // a final newline ends the last line
  return ["", ...keys, " "];
}

// Step 1: the box's pixels, (h, w, 3) RGB; turned 90 degrees counter-clockwise (np.rot90) when its height
// is at least VERTICAL_RATIO times its width (PaddleOCR's rule for vertical text).
function crop(rgb, width, box) {
  const { x, y, width: w, height: h } = box;
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) out.set(rgb.subarray(((y + r) * width + x) * 3, ((y + r) * width + x + w) * 3), r * w * 3);
  if (h < VERTICAL_RATIO * w) return { pixels: out, h, w };
  const turned = new Uint8Array(w * h * 3); // (w, h): turned[i][j] = out[j][w - 1 - i]
  for (let i = 0; i < w; i++) {
    for (let j = 0; j < h; j++) {
      const from = (j * w + (w - 1 - i)) * 3;
      const to = (i * h + j) * 3;
      turned[to] = out[from];
      turned[to + 1] = out[from + 1];
      turned[to + 2] = out[from + 2];
    }
  }
  return { pixels: turned, h: w, w: h };
}

// Steps 1-3: {data: (3, HEIGHT, T) Float32Array, t, T} of one box of an (height, width, 3) RGB image:
// resized to (HEIGHT, t), B, G, R, (v / 255 - 0.5) / 0.5 in float32, columns t..T-1 left 0.
export function recognitionInput(rgb, width, box) {
  const { pixels, h, w } = crop(rgb, width, box);
  const t = Math.min(MAX_WIDTH, Math.max(1, Math.ceil((HEIGHT * w) / h)));
  const T = Math.max(MIN_WIDTH, t);
  const resized = resizeBilinear(pixels, h, w, 3, HEIGHT, t);
  const data = new Float32Array(3 * HEIGHT * T);
  for (let c = 0; c < 3; c++) {
    const source = 2 - c; // B, G, R from R, G, B
    for (let yy = 0; yy < HEIGHT; yy++) {
      const row = (c * HEIGHT + yy) * T;
      for (let xx = 0; xx < t; xx++) {
        data[row + xx] = f32(f32(f32(resized[(yy * t + xx) * 3 + source] / 255) - 0.5) / 0.5);
      }
    }
  }
  return { data, t, T };
}

// Steps 4-5 on one item's (columns, classes) probabilities at `offset` of `probs`: the class of the highest
// probability per column (the first on a tie), a repeat of the previous column's class dropped, then the
// blank (0). Returns the text (the score is the native's concern: the page needs what a box reads).
export function ctcGreedy(probs, offset, columns, classes, characters) {
  let text = "";
  let previous = -1;
  let sum = 0; // the confidence: the mean top probability of the kept columns (recognize.ctc_greedy)
  let kept = 0;
  for (let col = 0; col < columns; col++) {
    const base = offset + col * classes;
    let best = 0;
    let top = probs[base];
    for (let k = 1; k < classes; k++) {
      if (probs[base + k] > top) {
        top = probs[base + k];
        best = k;
      }
    }
    if (best !== previous && best !== 0) {
      text += characters[best];
      sum += top;
      kept += 1;
    }
    previous = best;
  }
  return { text, score: kept ? sum / kept : 0 };
}

// The boxes run together: equal widths, in the boxes' order, BATCH at most; batches in order of width,
// then of their first box (recognize.batches).
export function batches(widths) {
  const groups = new Map();
  widths.forEach((w, i) => {
    if (!groups.has(w)) groups.set(w, []);
    groups.get(w).push(i);
  });
  const out = [];
  for (const w of [...groups.keys()].sort((a, b) => a - b)) {
    const group = groups.get(w);
    for (let start = 0; start < group.length; start += BATCH) out.push(group.slice(start, start + BATCH));
  }
  return out;
}

// recognize.crop_key: what a box's read depends on, its crop's samples and shape (SHA-256, Web Crypto).
async function cropKey(rgb, width, box) {
  const { x, y, width: w, height: h } = box;
  const bytes = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) bytes.set(rgb.subarray(((y + r) * width + x) * 3, ((y + r) * width + x + w) * 3), r * w * 3);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
  return `${h}x${w}:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// loadRecognizer(ort, modelBytes, keysText, sessionOptions) -> { read, release }.
// read(rgb, width, height, boxes, known?) -> Promise<{text, score}[]>: what each box reads (not trimmed, as
// the native read_boxes) and how sure the model is (0..1: filters.mjs keepRead), in the order of `boxes`. `rgb` is toRgb8's (height, width, 3) image, `boxes` detect's.
// `known`: an optional Map (crop -> {text, score}) the caller keeps across the frames of one image, as find_text
// does natively: a crop read before is not run again.
export async function loadRecognizer(ort, model, keysText, sessionOptions = {}) {
  const characters = readCharacters(keysText);
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"], ...sessionOptions });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];

  async function read(rgb, width, height, boxes, known = new Map()) {
    if (rgb.length !== width * height * 3) {
      throw new Error(`a ${width}x${height} RGB image has ${width * height * 3} samples, not ${rgb.length}`);
    }
    const keys = await Promise.all(boxes.map((box) => cropKey(rgb, width, box)));
    const todo = new Map(); // a crop not yet read -> the first box with it
    keys.forEach((key, i) => {
      if (!known.has(key) && !todo.has(key)) todo.set(key, i);
    });
    const order = [...todo.values()];
    const tensors = order.map((i) => recognitionInput(rgb, width, boxes[i]));
    for (const batch of batches(tensors.map((t) => t.T))) {
      const T = tensors[batch[0]].T;
      const size = 3 * HEIGHT * T;
      const data = new Float32Array(batch.length * size);
      batch.forEach((j, row) => data.set(tensors[j].data, row * size));
      const results = await session.run({ [inputName]: new ort.Tensor("float32", data, [batch.length, 3, HEIGHT, T]) });
      const out = results[outputName];
      try {
        const [, columns, classes] = out.dims;
        if (classes !== characters.length) {
          throw new Error(`the recognition model has ${classes} classes but the keys file gives ${characters.length}`);
        }
        batch.forEach((j, row) => {
          known.set(keys[order[j]], ctcGreedy(out.data, row * columns * classes, columns, classes, characters));
        });
      } finally {
        out.dispose?.();
      }
    }
    return keys.map((key) => known.get(key));
  }
  return { read, release: () => session.release() };
}
