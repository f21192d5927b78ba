// Pixels to RGBA for the viewer's canvas. Display only: what is written is decided by the engine.
//
// Input: a frame from the engine worker ({data: Uint8Array, stored: true} as stored in the file, or
// {data, stored: false, bitsAllocated, photometric} decoded: interleaved little-endian samples) and the
// engine's image description (rows, columns, samples, bits, signed, planar, photometric, slope,
// intercept, window, palette). Grey images: Modality LUT (rescale) then the linear VOI function of
// PS3.3 C.11.2.1.2.1; MONOCHROME1 inverted. YBR_FULL to RGB per PS3.3 C.7.6.3.1.2.

function typedSamples(bytes, bits, signed, littleEndian) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  if (!littleEndian && bits > 8) {
    const b = new Uint8Array(buffer);
    const size = bits / 8;
    for (let i = 0; i + size <= b.length; i += size) b.subarray(i, i + size).reverse();
  }
  if (bits === 8) return signed ? new Int8Array(buffer) : new Uint8Array(buffer);
  if (bits === 16) return signed ? new Int16Array(buffer, 0, buffer.byteLength >> 1) : new Uint16Array(buffer, 0, buffer.byteLength >> 1);
  if (bits === 32) return signed ? new Int32Array(buffer, 0, buffer.byteLength >> 2) : new Uint32Array(buffer, 0, buffer.byteLength >> 2);
  throw new Error(`cannot show ${bits}-bit samples`);
}

// Samples interleaved per pixel, as numbers (stored bits only: high bits masked, signed values extended).
export function samplesOf(frame, image) {
  const bits = frame.stored ? image.bits_allocated : frame.bitsAllocated;
  const photometric = frame.stored ? image.photometric : frame.photometric;
  const pixels = image.rows * image.columns;
  const s = image.samples;
  let raw = typedSamples(frame.data, bits, image.signed, frame.stored ? image.little_endian : true);
  const stored = Math.min(image.bits_stored, bits);
  const out = new Float64Array(pixels * s);
  if (frame.stored && photometric === "YBR_FULL_422") {
    // Y1 Y2 Cb Cr per pair of pixels (PS3.3 C.7.6.3.1.2)
    for (let p = 0; p < pixels; p += 2) {
      const q = p * 2;
      out.set([raw[q], raw[q + 2], raw[q + 3], raw[q + 1], raw[q + 2], raw[q + 3]], p * 3);
    }
    return { values: out, photometric: "YBR_FULL" };
  }
  if (frame.stored && s > 1 && image.planar === 1) {
    for (let p = 0; p < pixels; p++) for (let k = 0; k < s; k++) out[p * s + k] = raw[k * pixels + p];
    raw = out;
  }
  const shift = 32 - stored;
  const mask = stored >= 32 ? 0xffffffff : (2 ** stored) - 1;
  for (let i = 0; i < pixels * s; i++) {
    const v = raw[i];
    out[i] = image.signed && stored < 32 ? ((v << shift) >> shift) : image.signed ? v : stored < 32 ? (v & mask) >>> 0 : v;
  }
  return { values: out, photometric };
}

// PS3.3 C.11.2.1.2.1, linear: y in 0..255.
function voi(x, center, width) {
  if (width <= 1) return x < center - 0.5 ? 0 : 255;
  const low = center - 0.5 - (width - 1) / 2;
  const high = center - 0.5 + (width - 1) / 2;
  if (x <= low) return 0;
  if (x > high) return 255;
  return ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
}

// The frame's own range after rescale: the default window when the header gives none.
export function autoWindow(values, image) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  lo = lo * image.slope + image.intercept;
  hi = hi * image.slope + image.intercept;
  return [(lo + hi) / 2, Math.max(1, hi - lo)];
}

export function toRGBA(samples, image, window) {
  const pixels = image.rows * image.columns;
  const rgba = new Uint8ClampedArray(pixels * 4);
  const v = samples.values;
  const p = samples.photometric;
  if (p === "MONOCHROME1" || p === "MONOCHROME2") {
    const [c, w] = window;
    const invert = p === "MONOCHROME1";
    for (let i = 0; i < pixels; i++) {
      let y = voi(v[i] * image.slope + image.intercept, c, w);
      if (invert) y = 255 - y;
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = y;
      rgba[4 * i + 3] = 255;
    }
  } else if (p === "PALETTE COLOR") {
    const lut = image.palette;
    const top = lut.bits === 8 ? 255 : 65535;
    const n = lut.red.length;
    for (let i = 0; i < pixels; i++) {
      const k = Math.min(n - 1, Math.max(0, v[i] - lut.first));
      rgba[4 * i] = (lut.red[k] * 255) / top;
      rgba[4 * i + 1] = (lut.green[k] * 255) / top;
      rgba[4 * i + 2] = (lut.blue[k] * 255) / top;
      rgba[4 * i + 3] = 255;
    }
  } else if (p === "RGB" || p === "YBR_FULL") {
    const bits = Math.min(image.bits_stored, 16);
    const scale = bits > 8 ? 255 / (2 ** bits - 1) : 1;
    for (let i = 0; i < pixels; i++) {
      let r = v[3 * i] * scale;
      let g = v[3 * i + 1] * scale;
      let b = v[3 * i + 2] * scale;
      if (p === "YBR_FULL") {
        const [y, cb, cr] = [r, g - 128, b - 128];
        r = y + 1.402 * cr;
        g = y - 0.344136 * cb - 0.714136 * cr;
        b = y + 1.772 * cb;
      }
      rgba[4 * i] = r;
      rgba[4 * i + 1] = g;
      rgba[4 * i + 2] = b;
      rgba[4 * i + 3] = 255;
    }
  } else {
    throw new Error(`cannot show ${p}`);
  }
  return new ImageData(rgba, image.columns, image.rows);
}
