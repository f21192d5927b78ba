// A frame from the engine worker (engine.scanImage: {image, frame}) as the text finder takes it
// (static/text_finder/prepare.mjs: 8-bit grey or RGB used as stored, deeper samples windowed there), and
// as the CLI's finder sees the same frame: redaction/text_finder/dicom.py frames_of (pydicom's pixels:
// stored bits only, YBR converted to RGB, PALETTE COLOR looked up) then prepare.py to_rgb8. So the page
// and the CLI look at the same samples and find the same boxes (tests/test_text_samples.py compares them).
// No DOM here.
import { samplesOf } from "./render.mjs";

const f32 = Math.fround;
// pydicom.pixels.processing._convert_YBR_FULL_to_RGB's matrix (PS3.3 C.7.6.3.1.2), in float32 as there.
const CB_G = f32(-0.114 * 1.772 / 0.587);
const CR_G = f32(-0.299 * 1.402 / 0.587);
const CR_R = f32(1.402);
const CB_B = f32(1.772);

function ybrToRgb(values, pixels, Out) {
  const out = new Out(pixels * 3);
  const clip = (v) => Math.min(255, Math.max(0, Math.floor(f32(v + 0.5))));
  for (let i = 0; i < pixels; i++) {
    const y = f32(values[3 * i]);
    const cb = f32(values[3 * i + 1] - 128);
    const cr = f32(values[3 * i + 2] - 128);
    out[3 * i] = clip(f32(y + f32(cr * CR_R)));
    out[3 * i + 1] = clip(f32(f32(y + f32(cb * CB_G)) + f32(cr * CR_G)));
    out[3 * i + 2] = clip(f32(y + f32(cb * CB_B)));
  }
  return out;
}

function paletteToRgb(values, pixels, lut) {
  const Out = lut.bits === 8 ? Uint8Array : Uint16Array; // apply_color_lut keeps the table's depth
  const out = new Out(pixels * 3);
  const n = lut.red.length;
  for (let i = 0; i < pixels; i++) {
    const k = Math.min(n - 1, Math.max(0, values[i] - lut.first));
    out[3 * i] = lut.red[k];
    out[3 * i + 1] = lut.green[k];
    out[3 * i + 2] = lut.blue[k];
  }
  return out;
}

// {samples, width, height, channels, photometric} for the text worker's `find`; throws with the reason
// when the frame cannot be looked at (as frames_of refuses it natively).
export function finderSamples(frame, image) {
  const width = image.columns;
  const height = image.rows;
  const pixels = width * height;
  const bits = frame.stored ? image.bits_allocated : frame.bitsAllocated;
  const { values, photometric } = samplesOf(frame, image);
  const p = String(photometric).trim().toUpperCase();
  // pydicom hands 8-bit unsigned samples over as uint8 (used as stored); anything else is windowed.
  const eight = bits === 8 && !image.signed;
  if ((p === "MONOCHROME1" || p === "MONOCHROME2") && image.samples === 1) {
    return { samples: eight ? Uint8Array.from(values) : values, width, height, channels: 1, photometric: p };
  }
  if (p === "PALETTE COLOR" && image.palette) {
    return { samples: paletteToRgb(values, pixels, image.palette), width, height, channels: 3, photometric: "RGB" };
  }
  if (image.samples === 3 && (p === "YBR_FULL" || p === "YBR_FULL_422")) {
    const rgb = ybrToRgb(values, pixels, eight ? Uint8Array : Float64Array);
    return { samples: rgb, width, height, channels: 3, photometric: "RGB" };
  }
  if (image.samples === 3 && p === "RGB") {
    return { samples: eight ? Uint8Array.from(values) : values, width, height, channels: 3, photometric: "RGB" };
  }
  throw new Error(`Photometric Interpretation ${p || "(none)"} with ${image.samples} sample(s) per pixel `
    + "cannot be looked at for text");
}
