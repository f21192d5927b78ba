// Decoders for compressed pixel data, for the viewer and for redacting compressed files. Bundled as an
// ES module by esbuild at build time (tools/build_dist.py): dist/codecs.js + dist/codecs/*.wasm.
// Packages (npm, pinned): @cornerstonejs/codec-libjpeg-turbo-8bit (JPEG baseline), -charls (JPEG-LS),
// -openjpeg (JPEG 2000), @cornerstonejs/jpeg-lossless-decoder-js (JPEG lossless: Cornerstone's fork, which
// keeps a frame's last sample when its entropy-coded data ends on a byte boundary; the original
// jpeg-lossless-decoder-js 2.1.2 dropped it); RLE (PS3.5 Annex G) is decoded here.
// No de-identification logic: bytes of one frame in, samples out; and (issue 16) the engine's redacted
// frames back to JPEG-LS lossless with CharLS's full build (encoder + decoder, loaded only when a file
// with regions is written), each codestream decoded again and compared before it is handed back.
//
// Output: {data: Uint8Array of little-endian samples, interleaved per pixel, bitsAllocated (8/16/32),
//          photometric as decoded (JPEG baseline and JPEG 2000 colour come out RGB)}.
import CharLS from "@cornerstonejs/codec-charls/decodewasmjs";
import CharLSFull from "@cornerstonejs/codec-charls/wasmjs";
import OpenJPEG from "@cornerstonejs/codec-openjpeg/decodewasmjs";
import Turbo from "@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs";
import { Decoder as LosslessDecoder } from "@cornerstonejs/jpeg-lossless-decoder-js";

const WASM = new URL("./codecs/", import.meta.url);
const options = { locateFile: (f) => new URL(f, WASM).href, print: () => {}, printErr: () => {} };
const modules = {};
const factories = { jls: [CharLS, "JpegLSDecoder"], j2k: [OpenJPEG, "J2KDecoder"], jpeg: [Turbo, "JPEGDecoder"] };

export class CodecError extends Error {}

async function wasmDecode(kind, bytes) {
  const [factory, cls] = factories[kind];
  modules[kind] ??= factory({ ...options }); // each module its own object: Emscripten makes it the Module
  let decoder;
  try {
    const module = await modules[kind];
    decoder = new module[cls]();
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode(); // throws a bare number (a C++ exception pointer) on bad data
    const info = decoder.getFrameInfo();
    const data = decoder.getDecodedBuffer().slice(); // copy out of the wasm heap before delete()
    return { info, data };
  } catch (err) {
    throw new CodecError(typeof err === "number" ? `${kind} codec error ${err}` : String(err.message || err));
  } finally {
    decoder?.delete();
  }
}

// JPEG with Photometric RGB and no Adobe APP14 marker: browsers' libjpeg assumes YCbCr and converts. An
// APP14 "Adobe" segment with transform 0 right after SOI says the components are RGB already.
function markRgb(bytes) {
  for (let i = 2; i + 4 < bytes.length && bytes[i] === 0xff; ) {
    const marker = bytes[i + 1];
    if (marker === 0xee) return bytes; // APP14 present
    if (marker === 0xda) break;
    i += 2 + ((bytes[i + 2] << 8) | bytes[i + 3]);
  }
  const app14 = [0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 0];
  const out = new Uint8Array(bytes.length + app14.length);
  out.set(bytes.subarray(0, 2));
  out.set(app14, 2);
  out.set(bytes.subarray(2), 2 + app14.length);
  return out;
}

// RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets; PackBits segments, one per byte of
// each sample, most significant byte first.
export function decodeRle(bytes, image) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const bytesPerSample = image.bits_allocated / 8;
  const pixels = image.rows * image.columns;
  if (count !== bytesPerSample * image.samples) throw new CodecError(`RLE: ${count} segments, expected ${bytesPerSample * image.samples}`);
  const out = new Uint8Array(pixels * count);
  for (let s = 0; s < count; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < count ? view.getUint32(8 + 4 * s, true) : bytes.length;
    const sample = Math.floor(s / bytesPerSample);
    const byte = bytesPerSample - 1 - (s % bytesPerSample); // MSB segment first; output little endian
    let pos = start;
    let px = 0;
    const put = (value) => {
      if (px < pixels) out[(px * image.samples + sample) * bytesPerSample + byte] = value;
      px++;
    };
    while (pos < end && px < pixels) {
      const n = (bytes[pos++] << 24) >> 24;
      if (n >= 0) for (let k = 0; k <= n; k++) put(bytes[pos++]);
      else if (n !== -128) { const v = bytes[pos++]; for (let k = 0; k < 1 - n; k++) put(v); }
    }
    if (px < pixels) throw new CodecError(`RLE: segment ${s + 1} ends after ${px} of ${pixels} pixels`);
  }
  return out;
}

// Predictor 7 (T.81 H.1.2.1: Px = (Ra + Rb) / 2 in integers) is computed by the decoder as a float; the
// half it keeps is truncated toward zero once the sum with a negative difference wraps below zero, one
// too high (16-bit images with large differences; tests/test_codec_lossless.py). The integer shift is the
// standard's arithmetic.
LosslessDecoder.prototype.select7 = function select7(component) {
  return (this.getPreviousX(component) + this.getPreviousY(component)) >> 1;
};

function lossless(bytes, image) {
  const decoder = new LosslessDecoder();
  const typed = decoder.decode(bytes.buffer, bytes.byteOffset, bytes.length, image.bits_allocated <= 8 ? 1 : 2);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength).slice();
}

// JPEG-LS lossless encoder (PS3.5 A.4.3) for the engine's redacted frames. `loadJpegLsEncoder` resolves to
// a synchronous function (Python calls it from inside one engine call): samples interleaved, little
// endian, unsigned within bitsStored (the engine masks them) in; the codestream out. Interleave mode
// "sample" for colour (Planar Configuration 0), none for one component; near-lossless 0.
let charlsFull = null;
export async function loadJpegLsEncoder() {
  const module = await (charlsFull ??= CharLSFull({ ...options }));
  return (bytes, rows, columns, samples, bitsAllocated, bitsStored) => {
    const frameInfo = { width: columns, height: rows, bitsPerSample: bitsStored, componentCount: samples };
    const encoder = new module.JpegLSEncoder();
    let encoded;
    try {
      const input = encoder.getDecodedBuffer(frameInfo);
      if (input.length !== bytes.length) {
        throw new CodecError(`JPEG-LS: the frame holds ${bytes.length} bytes, CharLS expects ${input.length}`);
      }
      input.set(bytes);
      encoder.setNearLossless(0);
      if (samples > 1) encoder.setInterleaveMode(2);
      encoder.encode();
      encoded = new Uint8Array(encoder.getEncodedBuffer());
    } catch (err) {
      throw err instanceof CodecError ? err : new CodecError(typeof err === "number" ? `JPEG-LS encoder error ${err}` : String(err.message || err));
    } finally {
      encoder.delete();
    }
    // Lossless means lossless: the codestream decodes to the very bytes it was made from.
    const decoder = new module.JpegLSDecoder();
    try {
      decoder.getEncodedBuffer(encoded.length).set(encoded);
      decoder.decode();
      const back = decoder.getDecodedBuffer();
      if (back.length !== bytes.length || back.some((v, i) => v !== bytes[i])) {
        throw new CodecError("JPEG-LS: the encoded frame does not decode to the redacted pixels");
      }
    } finally {
      decoder.delete();
    }
    return encoded;
  };
}

// Decode one frame. `image` is the engine's image_info (rows, columns, samples, bits, photometric, codec).
export async function decodeFrame(bytes, image) {
  const codec = image.codec;
  let data;
  let photometric = image.photometric;
  let bitsAllocated = image.bits_allocated;
  if (codec === "rle") {
    data = decodeRle(bytes, image);
  } else if (codec === "jpeg-lossless") {
    data = lossless(bytes, image);
    bitsAllocated = image.bits_allocated <= 8 ? 8 : 16;
  } else if (codec === "jpeg" || codec === "jls" || codec === "j2k") {
    const input = codec === "jpeg" && image.samples === 3 && photometric === "RGB" ? markRgb(bytes) : bytes;
    const { info, data: out } = await wasmDecode(codec, input);
    if (info.width !== image.columns || info.height !== image.rows) {
      throw new CodecError(`decoded ${info.width}x${info.height}, the header says ${image.columns}x${image.rows}`);
    }
    data = out;
    bitsAllocated = info.bitsPerSample <= 8 ? 8 : 16;
    if (image.samples === 3 && codec !== "jls") photometric = "RGB"; // colour converted by the codec
  } else if (codec === "jpeg12") {
    throw new CodecError("12-bit JPEG (JPEG Extended) cannot be decoded exactly in the browser");
  } else {
    throw new CodecError(`no decoder for transfer syntax ${image.transfer_syntax}`);
  }
  const expected = image.rows * image.columns * image.samples * (bitsAllocated / 8);
  if (data.length < expected) throw new CodecError(`decoded ${data.length} bytes, expected ${expected}`);
  return { data: data.length === expected ? data : data.slice(0, expected), bitsAllocated, photometric };
}
