// The page's text finder (issue 14): where burned-in text is, as boxes in image
// pixels, and what they read, as the CLI's redaction/text_finder does natively. No DOM; for a worker or Node.
//
//   import * as ort from "onnxruntime-web";            // the caller loads the runtime (and sets its wasm paths)
//   const finder = await loadDetector(ort, modelBytes); // ch_PP-OCRv4_det_infer.onnx, vendor-models/
//   const boxes = await finder.detect(samples, width, height, { channels: 4 });  // ImageData.data
//   // then, per box, in redaction/text_finder/finder.py's order: read it (the recogniser, on this box),
//   // drop it unless keepRead(text, score), and black out tighten(rgb, width, box), the box fitted to its
//   // ink, with rgb = toRgb8(samples, width, height, channels, photometric) (the detector's own input).
//
// `samples`, `channels` and `photometric` are described in prepare.mjs (8-bit grey, 8-bit RGB or a
// canvas's RGBA; deeper grey is windowed to the frame's own range as the CLI does).

import { PAD, boxesFromMap, detectionInput, padded } from "./detect.mjs";
import { toRgb8 } from "./prepare.mjs";

export { toRgb8 } from "./prepare.mjs";
export { boxesFromMap, components, detectionInput, inputSize, padded } from "./detect.mjs";
export { keepRead } from "./filters.mjs";
export { tighten } from "./tighten.mjs";

export async function loadDetector(ort, model, sessionOptions = {}) {
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"], ...sessionOptions });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  async function detect(samples, width, height, { channels = 1, photometric = "MONOCHROME2" } = {}) {
    const rgb = toRgb8(samples, width, height, channels, photometric);
    const big = padded(rgb, height, width);
    const { data, h, w } = detectionInput(big.rgb, big.height, big.width);
    const feeds = { [inputName]: new ort.Tensor("float32", data, [1, 3, h, w]) };
    const results = await session.run(feeds);
    const prob = results[outputName];
    try {
      const [, , mapH, mapW] = prob.dims;
      return boxesFromMap(prob.data, mapH, mapW, height, width, PAD);
    } finally {
      prob.dispose?.();
    }
  }
  return { detect, release: () => session.release() };
}

// Recognition (what each box reads, for the header match), the port of recognize.py:
//   const reader = await loadRecognizer(ort, recModelBytes, keysText);  // ch_PP-OCRv4_rec_infer.onnx, ppocr_keys_v1.txt
//   const rgb = toRgb8(samples, width, height, channels, photometric);
//   const texts = await reader.read(rgb, width, height, boxes, known);  // boxes from detect; known: a Map per image
export { BATCH, batches, ctcGreedy, loadRecognizer, readCharacters, recognitionInput } from "./recognize.mjs";
