// DB text detection (PaddleOCR PP-OCRv4 det) in the page: the port of redaction/text_finder/detect.py,
// step for step and with its constants, so the page and the CLI find the same boxes (issue 14's parity
// goal: within 2 px, tests/test_text_finder_parity.py). No DOM: it runs in a worker or under Node.
// The model is run by onnxruntime-web, handed in by the caller (`ort`), so this module names no URL.

import { resizeBilinear } from "./resize.mjs";

export const PAD = 16; // black pixels around the image before detection (detect.py step 0)
export const LIMIT_SIDE = 960; // PaddleOCR det_limit_side_len, det_limit_type "max"
export const MEAN = [0.485, 0.456, 0.406]; // per channel, in B, G, R order (PaddleOCR NormalizeImage)
export const STD = [0.229, 0.224, 0.225];
export const BINARY_THRESHOLD = 0.3; // PaddleOCR det_db_thresh
export const BOX_THRESHOLD = 0.5; // PaddleOCR det_db_box_thresh is 0.6 (detect.py says why)
export const UNCLIP_RATIO = 1.5; // PaddleOCR det_db_unclip_ratio
export const MIN_SIZE = 3; // PaddleOCR DBPostProcess min_size

const f32 = Math.fround;

// Step 1: the network's input size, a multiple of 32 (large images shrunk to LIMIT_SIDE, small kept).
export function inputSize(height, width) {
  const ratio = Math.min(1.0, LIMIT_SIDE / Math.max(height, width));
  return [
    Math.max(32, Math.floor((height * ratio) / 32 + 0.5) * 32),
    Math.max(32, Math.floor((width * ratio) / 32 + 0.5) * 32),
  ];
}

// Step 0: PAD black pixels on every side of a (height, width, 3) RGB Uint8Array; the padded image and size.
export function padded(rgb, height, width) {
  const h = height + 2 * PAD;
  const w = width + 2 * PAD;
  const out = new Uint8Array(h * w * 3);
  for (let y = 0; y < height; y++) out.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), ((y + PAD) * w + PAD) * 3);
  return { rgb: out, height: h, width: w };
}

// Steps 1-3 (of an image already padded, step 0): (height, width, 3) RGB Uint8Array -> {data: (1, 3, h', w') Float32Array, h, w}, channels in
// B, G, R order (PaddleOCR reads with OpenCV), each (v / 255 - MEAN) / STD in float32 as numpy does.
export function detectionInput(rgb, height, width) {
  const [h, w] = inputSize(height, width);
  const resized = resizeBilinear(rgb, height, width, 3, h, w);
  const plane = h * w;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const source = 2 - c; // B, G, R from R, G, B
    const mean = f32(MEAN[c]);
    const std = f32(STD[c]);
    for (let i = 0; i < plane; i++) data[c * plane + i] = f32(f32(f32(resized[3 * i + source] / 255) - mean) / std);
  }
  return { data, h, w };
}

// Steps 5-6: the bounding box [x0, y0, x1, y1] (right and bottom exclusive) of each 8-connected component
// of the text pixels, in the order of their first pixel: horizontal runs joined by union-find, as
// detect.components does (runs of consecutive rows touch when a.start <= b.end and b.start <= a.end).
export function components(bitmap, mapH, mapW) {
  const rows = [];
  const starts = [];
  const ends = [];
  for (let y = 0; y < mapH; y++) {
    const base = y * mapW;
    let x = 0;
    while (x < mapW) {
      if (!bitmap[base + x]) { x++; continue; }
      const start = x;
      while (x < mapW && bitmap[base + x]) x++;
      rows.push(y); starts.push(start); ends.push(x);
    }
  }
  const parent = Int32Array.from(rows.keys());
  const root = (i) => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  let previous = [];
  let current = [];
  let row = -2;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r !== row) {
      previous = r === row + 1 ? current : [];
      current = [];
      row = r;
    }
    for (const j of previous) {
      if (starts[i] <= ends[j] && starts[j] <= ends[i]) {
        const a = root(i);
        const b = root(j);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
    current.push(i);
  }
  const boxes = new Map(); // root (the component's first run) -> box; roots ascend with first pixels
  for (let i = 0; i < rows.length; i++) {
    const k = root(i);
    const box = boxes.get(k);
    if (box === undefined) boxes.set(k, [starts[i], rows[i], ends[i], rows[i] + 1]);
    else {
      box[0] = Math.min(box[0], starts[i]);
      box[2] = Math.max(box[2], ends[i]);
      box[3] = rows[i] + 1;
    }
  }
  return [...boxes.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

// Steps 4-10: boxes {x, y, width, height, score, kernel: [x0, y0, x1, y1]} in the pixels of a `height` x
// `width` image from the (mapH, mapW) probability map of that image padded by `pad` on every side.
export function boxesFromMap(prob, mapH, mapW, height, width, pad = 0) {
  const sx = (width + 2 * pad) / mapW;
  const sy = (height + 2 * pad) / mapH;
  const bitmap = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) bitmap[i] = prob[i] > BINARY_THRESHOLD ? 1 : 0;
  const found = [];
  for (const [x0, y0, x1, y1] of components(bitmap, mapH, mapW)) {
    const w = x1 - x0;
    const h = y1 - y0;
    if (Math.min(w, h) < MIN_SIZE) continue;
    let sum = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += prob[y * mapW + x];
    const score = sum / (w * h);
    if (score < BOX_THRESHOLD) continue;
    const d = (w * h * UNCLIP_RATIO) / (2 * (w + h));
    if (Math.min(w, h) + 2 * d < MIN_SIZE + 2) continue;
    const left = Math.max(0, Math.floor((x0 - d) * sx) - pad);
    const top = Math.max(0, Math.floor((y0 - d) * sy) - pad);
    const right = Math.min(width, Math.ceil((x1 + d) * sx) - pad);
    const bottom = Math.min(height, Math.ceil((y1 + d) * sy) - pad);
    if (right > left && bottom > top) {
      const kernel = [
        Math.min(right, Math.max(left, Math.floor(x0 * sx) - pad)),
        Math.min(bottom, Math.max(top, Math.floor(y0 * sy) - pad)),
        Math.max(left, Math.min(right, Math.ceil(x1 * sx) - pad)),
        Math.max(top, Math.min(bottom, Math.ceil(y1 * sy) - pad)),
      ];
      found.push({ x: left, y: top, width: right - left, height: bottom - top, score, kernel });
    }
  }
  return found;
}
