// Bilinear resizing: the port of redaction/text_finder/resize.py (OpenCV's INTER_LINEAR convention, pixel
// centres aligned), every step rounded to float32 with Math.fround as numpy computes it in float32, so the
// page's input tensor is the native one bit for bit.

const f32 = Math.fround;

function axis(out, size) {
  const i0 = new Int32Array(out);
  const i1 = new Int32Array(out);
  const frac = new Float32Array(out);
  const step = f32(size / out);
  for (let o = 0; o < out; o++) {
    let s = f32(f32(f32(f32(o) + 0.5) * step) - 0.5); // the product rounded first, as numpy does
    s = Math.min(Math.max(s, 0), size - 1);
    const a = Math.floor(s);
    i0[o] = a;
    i1[o] = Math.min(a + 1, size - 1);
    frac[o] = f32(s - a);
  }
  return { i0, i1, frac };
}

// (inH, inW, c) interleaved samples -> (outH, outW, c) Float32Array.
export function resizeBilinear(image, inH, inW, c, outH, outW) {
  if (inH === outH && inW === outW) return Float32Array.from(image);
  const y = axis(outH, inH);
  const x = axis(outW, inW);
  const out = new Float32Array(outH * outW * c);
  for (let oy = 0; oy < outH; oy++) {
    const r0 = y.i0[oy] * inW;
    const r1 = y.i1[oy] * inW;
    const fy = y.frac[oy];
    const gy = f32(1 - fy);
    for (let ox = 0; ox < outW; ox++) {
      const x0 = x.i0[ox];
      const x1 = x.i1[ox];
      const fx = x.frac[ox];
      const gx = f32(1 - fx);
      for (let k = 0; k < c; k++) {
        const top = f32(f32(image[(r0 + x0) * c + k] * gx) + f32(image[(r0 + x1) * c + k] * fx));
        const bottom = f32(f32(image[(r1 + x0) * c + k] * gx) + f32(image[(r1 + x1) * c + k] * fx));
        out[(oy * outW + ox) * c + k] = f32(f32(top * gy) + f32(bottom * fy));
      }
    }
  }
  return out;
}
