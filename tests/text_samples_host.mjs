// Node host for tests/test_text_samples.py: the engine's frames (as engine.scanImage hands them over)
// through static/text_samples.mjs and the detector's prepare step, written out as 8-bit RGB.
//
//   node tests/text_samples_host.mjs MANIFEST.json
// MANIFEST: [{"image": the IMAGE reply's image, "frame": path of the stored frame bytes, "out": path}]

import { readFileSync, writeFileSync } from "node:fs";
import { toRgb8 } from "../static/text_finder/prepare.mjs";
import { finderSamples } from "../static/text_samples.mjs";

for (const entry of JSON.parse(readFileSync(process.argv[2], "utf8"))) {
  const bytes = readFileSync(entry.frame);
  const frame = { data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), stored: true };
  const s = finderSamples(frame, entry.image);
  writeFileSync(entry.out, toRgb8(s.samples, s.width, s.height, s.channels, s.photometric));
}
