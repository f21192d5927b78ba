// A frame as 8-bit RGB, the detector's input: the port of redaction/text_finder/prepare.py (issue 14).
//
// What the page passes: `samples` is one frame, interleaved per pixel, with `channels` samples a pixel:
//   1 grey: a Uint8Array (8 bits, used as stored) or any other typed array of more bits (windowed to the
//     frame's own minimum and maximum, prepare.py step 1: v8 = floor((v - lo) * 255 / (hi - lo) + 0.5));
//     MONOCHROME1 is inverted after that (step 2) so that text shows as a viewer shows it;
//   3 RGB (YBR and palette colour already converted): 8 bits used as stored, more windowed over all three;
//   4 RGBA (a canvas's ImageData): the alpha is dropped, the rest as RGB.
// The result is an (height, width, 3) Uint8Array, row by row, R G B per pixel.

function windowed(samples) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Uint8Array(samples.length);
  if (!(hi > lo)) return out; // a flat frame is all 0, as in prepare._window
  const scale = 255.0 / (hi - lo);
  for (let i = 0; i < samples.length; i++) out[i] = Math.floor((samples[i] - lo) * scale + 0.5);
  return out;
}

export function toRgb8(samples, width, height, channels, photometric = "MONOCHROME2") {
  const pixels = width * height;
  if (samples.length !== pixels * channels) {
    throw new Error(`a ${width}x${height} frame of ${channels} sample(s) a pixel has ${pixels * channels} samples, not ${samples.length}`);
  }
  const eight = samples instanceof Uint8Array || samples instanceof Uint8ClampedArray;
  const rgb = new Uint8Array(pixels * 3);
  if (channels === 1) {
    const grey = eight ? samples : windowed(samples);
    const invert = photometric.trim().toUpperCase() === "MONOCHROME1";
    for (let i = 0; i < pixels; i++) {
      const v = invert ? 255 - grey[i] : grey[i];
      rgb[3 * i] = v;
      rgb[3 * i + 1] = v;
      rgb[3 * i + 2] = v;
    }
    return rgb;
  }
  if (channels === 3) {
    rgb.set(eight ? samples : windowed(samples));
    return rgb;
  }
  if (channels === 4) {
    // Alpha dropped before windowing: only the colour samples enter the frame's range.
    const colour = new (samples.constructor)(pixels * 3);
    for (let i = 0; i < pixels; i++) {
      colour[3 * i] = samples[4 * i];
      colour[3 * i + 1] = samples[4 * i + 1];
      colour[3 * i + 2] = samples[4 * i + 2];
    }
    rgb.set(eight ? colour : windowed(colour));
    return rgb;
  }
  throw new Error(`a frame has 1, 3 or 4 samples a pixel, not ${channels}`);
}
