// Node host for tests/test_text_finder_parity.py's model-free test of static/text_finder/recognize.mjs:
// loadRecognizer with a fake onnxruntime whose model reads each batch item from its own tensor (column c's
// class is 1 + floor(10 * the item's mean of tensor column 8c, first channel, over the rows) mod 3, so
// a box given another's tensor reads otherwise). Prints JSON: the shapes run and the reads of each step.
//
//   node tests/text_finder_recognize_fake.mjs

import { loadRecognizer } from "../static/text_finder/index.mjs";

const runs = [];
class Tensor {
  constructor(type, data, dims) {
    Object.assign(this, { type, data, dims });
  }
}
const session = {
  inputNames: ["x"],
  outputNames: ["y"],
  async run(feeds) {
    const { data, dims } = feeds.x;
    const [n, , h, w] = dims;
    runs.push(dims);
    const columns = w / 8;
    const out = new Float32Array(n * columns * 4).fill(0.1);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < columns; c++) {
        let sum = 0;
        for (let y = 0; y < h; y++) sum += data[((i * 3) * h + y) * w + 8 * c];
        const cls = 1 + (((Math.floor((10 * sum) / h) % 3) + 3) % 3);
        out[(i * columns + c) * 4 + cls] = 0.7;
      }
    }
    return { y: new Tensor("float32", out, [n, columns, 4]) };
  },
  async release() {},
};
const ort = { Tensor, InferenceSession: { create: async () => session } };

// A (60, 900) RGB image of a fixed pseudo-random pattern, and boxes: two short (one batch at width 320),
// one wide (1200), one taller than 1.5 times its width (turned), the same crop twice.
const width = 900;
const height = 60;
const rgb = new Uint8Array(width * height * 3);
let seed = 5;
for (let i = 0; i < rgb.length; i++) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  rgb[i] = seed >> 23;
}
const boxes = [
  { x: 0, y: 0, width: 40, height: 20 },
  { x: 0, y: 20, width: 500, height: 20 },
  { x: 50, y: 5, width: 30, height: 20 },
  { x: 300, y: 30, width: 20, height: 30 },
  { x: 50, y: 5, width: 30, height: 20 },
];
const reader = await loadRecognizer(ort, new Uint8Array(0), "a\nb\n"); // classes: blank, a, b, space
const result = {};
result.alone = [];
for (const box of boxes) result.alone.push((await reader.read(rgb, width, height, [box]))[0].text);
runs.length = 0;
const known = new Map();
result.together = (await reader.read(rgb, width, height, boxes, known)).map((r) => r.text);
result.together_runs = runs.splice(0);
const changed = rgb.slice();
for (let y = 0; y < 20; y++) for (let x = 0; x < 40 * 3; x++) changed[y * width * 3 + x] = 255 - changed[y * width * 3 + x];
result.again = (await reader.read(changed, width, height, boxes, known)).map((r) => r.text);
result.again_runs = runs.splice(0);
result.changed_alone = (await reader.read(changed, width, height, [boxes[0]]))[0].text;
await reader.release();
process.stdout.write(JSON.stringify(result));
