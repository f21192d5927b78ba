// Fitting a detected box to the text's ink: the port of redaction/text_finder/tighten.py (steps and
// constants there), so the page blacks out the same rectangles as the CLI. No DOM.

export const TOLERANCE = 16; // of 255: how far outside the ring's range a pixel must be to be ink
export const MARGIN = 2; // px kept beyond the outermost ink
export const MIN_RATIO = 0.3; // the ink's extent, as a fraction of the box's, under which a side is left alone
export const SMALLEST = 5; // px: a box narrower or lower than this is kept

// (first, end exclusive) of the ink along one axis widened by MARGIN, or null to keep the side.
function extent(hasInk, size) {
  const first = hasInk.indexOf(1);
  if (first < 0) return null;
  const end = hasInk.lastIndexOf(1) + 1;
  if (end - first < MIN_RATIO * size) return null;
  return [Math.max(0, first - MARGIN), Math.min(size, end + MARGIN)];
}

// `rgb`: the (height, width, 3) Uint8Array the box was found in (prepare.toRgb8), `width` its row length;
// `box`: {x, y, width, height, score, kernel}. The box fitted to its ink, or the same box.
export function tighten(rgb, width, box) {
  const { x, y } = box;
  const w = box.width;
  const h = box.height;
  if (w < SMALLEST || h < SMALLEST) return box;
  const at = (r, c, k) => rgb[((y + r) * width + x + c) * 3 + k];
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const ring = (r, c) => {
    for (let k = 0; k < 3; k++) {
      const v = at(r, c, k);
      if (v < lo[k]) lo[k] = v;
      if (v > hi[k]) hi[k] = v;
    }
  };
  for (let c = 0; c < w; c++) { ring(0, c); ring(h - 1, c); }
  for (let r = 1; r < h - 1; r++) { ring(r, 0); ring(r, w - 1); }
  for (let k = 0; k < 3; k++) { lo[k] -= TOLERANCE; hi[k] += TOLERANCE; }
  const rowInk = new Uint8Array(h);
  const columnInk = new Uint8Array(w);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      for (let k = 0; k < 3; k++) {
        const v = at(r, c, k);
        if (v < lo[k] || v > hi[k]) { rowInk[r] = 1; columnInk[c] = 1; break; }
      }
    }
  }
  const rows = extent(rowInk, h);
  const columns = extent(columnInk, w);
  if (rows === null && columns === null) return box;
  let [left, right] = columns ? [x + columns[0], x + columns[1]] : [x, x + w];
  let [top, bottom] = rows ? [y + rows[0], y + rows[1]] : [y, y + h];
  if (box.kernel) {
    const [kx0, ky0, kx1, ky1] = box.kernel;
    left = Math.min(left, kx0); top = Math.min(top, ky0); right = Math.max(right, kx1); bottom = Math.max(bottom, ky1);
  }
  return { ...box, x: left, y: top, width: right - left, height: bottom - top };
}
