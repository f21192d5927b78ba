// The engine's worker: loads Pyodide, moves bytes, answers the commands of protocol.mjs by calling one Python
// entry point (anonymizer.browser_api's Command table).
// No de-identification logic lives here.
import { Command } from "./protocol.mjs";
import { loadPyodide } from "./pyodide/pyodide.mjs";
import { finderSamples } from "./text_samples.mjs";

const base = new URL("./", import.meta.url).href;
const PREFIX = 16 * 1024; // a header usually fits (CT: ~7 kB); the engine asks for more when it does not

let py = null;
let handle = null;
let mountCount = 0;

const ready = (async () => {
  const t0 = performance.now();
  const errors = [];
  py = await loadPyodide({
    indexURL: base + "pyodide/",
    lockFileURL: base + "pyodide/pyodide-lock.json",
    packageBaseUrl: base + "pyodide/",
    packages: ["pacsbin-uploader"], // pulls pydicom; the lock pins both wheels by sha256
    stdout: () => {},
    stderr: (msg) => errors.push(msg), // package load failures at boot are reported only here
  });
  const loaded = py.loadedPackages;
  if (errors.length || !("pydicom" in loaded) || !("pacsbin-uploader" in loaded)) {
    throw new Error("loading the engine failed: " + (errors.join("; ") || "packages missing"));
  }
  handle = py.pyimport("anonymizer.browser_api").handle;
  py.FS.mkdirTree("/in");
  py.FS.mkdirTree("/out");
  py.FS.mkdirTree("/mnt");
  return { ms: Math.round(performance.now() - t0) };
})();

function call(request) {
  return JSON.parse(handle(JSON.stringify(request)));
}

// A dropped File is mounted read-only (WORKERFS: no copy into wasm memory), used, and unmounted.
function withMounted(file, fn) {
  const dir = `/mnt/${++mountCount}`;
  py.FS.mkdirTree(dir);
  py.FS.mount(py.FS.filesystems.WORKERFS, { files: [file] }, dir);
  try {
    return fn(`${dir}/${file.name}`);
  } finally {
    py.FS.unmount(dir);
    py.FS.rmdir(dir);
  }
}

// A batch of dropped files: their prefixes are read at once and indexed in one Python call; a file whose
// header is longer than the prefix is then mounted and read whole.
async function indexFiles(files) {
  // Every read is awaited before the first write: the handler of the next batch (two are in flight per
  // worker, so its reads overlap this batch's Python call) cannot interleave with this one.
  const prefixes = await Promise.all(files.map((file) => file.slice(0, PREFIX).arrayBuffer()));
  const items = prefixes.map((prefix, i) => {
    const path = `/in/prefix${i}`;
    py.FS.writeFile(path, new Uint8Array(prefix));
    return { path, complete: files[i].size <= PREFIX, size: files[i].size };
  });
  let results;
  try {
    results = call({ cmd: "index_many", items }).results;
  } finally {
    for (const item of items) py.FS.unlink(item.path);
  }
  return results.map((result, i) => result.status !== "need_more" ? result
    : withMounted(files[i], (path) => call({ cmd: "index", path, complete: true })));
}

// A member of a dropped zip archive: read through Python's zipfile from the mounted archive, a prefix to
// index it and the whole member (into MEMFS, then freed) to de-identify it; nothing stays in memory.
function withMember(item, limit, fn) {
  return withMounted(item.file, (zipPath) => {
    const extracted = call({ cmd: "zip_extract", path: zipPath, member: item.member, out: "/in/member", limit });
    if (extracted.status !== "ok") return extracted;
    try {
      return fn("/in/member");
    } finally {
      py.FS.unlink("/in/member");
    }
  });
}

// Run a command on an item: a dropped file (mounted) or a member of a dropped zip archive.
function onItem(item, fn) {
  return item.member ? withMember(item, 0, fn) : withMounted(item.file, fn);
}

function indexMember(item) {
  const run = (complete) => (path) => call({ cmd: "index", path, complete, size: item.size });
  let result = withMember(item, PREFIX, run(item.size <= PREFIX));
  if (result.status === "need_more") result = withMember(item, 0, run(true));
  return result;
}

// The pixel decoders (dist/codecs.js, bundled at build time) load on first use only.
let codecs = null;
const loadCodecs = () => (codecs ??= import("./codecs.js"));

// One frame for the viewer: the engine's image description, the CTP library's suggestions and the frame's
// samples (decoded when compressed; as stored otherwise, the page's renderer reads every stored layout).
async function image(item, frame, key, slot) {
  // The file the viewer (or the text scan) is stepping through is kept parsed in Python, one per slot:
  // ask without reading it first.
  let result = call({ cmd: "image", key, frame, slot, out: "/out/frame" });
  if (result.status === "miss") result = onItem(item, (path) => call({ cmd: "image", path, key, frame, slot, out: "/out/frame" }));
  if (result.status !== "ok") return result;
  const stored = py.FS.readFile("/out/frame");
  py.FS.unlink("/out/frame");
  let shown;
  if (result.image.codec === "none") {
    shown = { ...result, frame: { data: stored, stored: true } };
  } else {
    try {
      const decoded = await (await loadCodecs()).decodeFrame(stored, result.image);
      shown = { ...result, frame: { ...decoded, stored: false } };
    } catch (err) {
      return { ...result, status: "undecodable", reason: String(err.message || err) };
    }
  }
  return slot === "scan" ? forTextFinder(shown) : shown;
}

// The text scan's frame: also as the text finder takes it (text_samples.mjs), made here rather than on
// the page's main thread (a large frame is tens of ms of arithmetic).
function forTextFinder(reply) {
  try {
    return { ...reply, samples: finderSamples(reply.frame, reply.image) };
  } catch (err) {
    return { ...reply, status: "failed", reason: String(err.message || err) };
  }
}

// Compressed pixels with regions to redact: every frame decoded here, handed to Python as one file. Not JPEG
// baseline: the engine blanks it in its codestream (its index says compressed: false for it).
// Two requests are in flight per worker and this one awaits the codecs: its files are its own.
let decodeCount = 0;
async function decodeAll(item, request) {
  const tag = ++decodeCount;
  const dir = `/out/frames-${tag}`;
  py.FS.mkdirTree(dir);
  const listed = onItem(item, (path) => call({ cmd: "codestreams", path, out: dir }));
  if (listed.status !== "ok") {
    py.FS.rmdir(dir);
    return listed;
  }
  const info = listed.image;
  const { decodeFrame } = await loadCodecs();
  const parts = [];
  let bits = 8;
  let photometric = info.photometric;
  try {
    for (let i = 0; i < info.frames; i++) {
      const path = `${dir}/${i}`;
      const decoded = await decodeFrame(py.FS.readFile(path), info);
      py.FS.unlink(path);
      parts.push(decoded.data);
      bits = decoded.bitsAllocated;
      photometric = decoded.photometric;
    }
  } catch (err) {
    return {
      status: "failed",
      reason: "the regions could not be blacked out (this browser cannot decode the image), so the file is not "
        + `written: pixels not redacted: cannot decode: ${err.message || err}`,
    };
  } finally {
    for (const name of py.FS.readdir(dir)) if (name !== "." && name !== "..") py.FS.unlink(`${dir}/${name}`);
    py.FS.rmdir(dir);
  }
  const total = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    total.set(part, offset);
    offset += part.length;
  }
  const decodedPath = `/in/decoded-${tag}`;
  py.FS.writeFile(decodedPath, total);
  request.pixels = {
    ...request.pixels,
    transfer_syntax: info.transfer_syntax,
    decoded: {
      path: decodedPath, rows: info.rows, columns: info.columns, frames: info.frames, samples: info.samples,
      bits_allocated: bits, bits_stored: Math.min(info.bits_stored, bits), signed: info.signed, photometric,
    },
  };
  return null;
}

// The engine encodes its redacted frames again, losslessly (issue 16): RLE in Python, JPEG-LS with CharLS's
// encoder, which Python calls synchronously as the JS module `pacsbin_codecs` (a codec, like the decoders).
// Loaded once, when a file that is not RLE is redacted; without it the engine writes RLE (still lossless).
let jpegLs = null;
const RLE = "1.2.840.10008.1.2.5";
function jpegLsEncoder() {
  jpegLs ??= loadCodecs()
    .then((c) => c.loadJpegLsEncoder())
    .then((encodeJpegLs) => (py.registerJsModule("pacsbin_codecs", { encodeJpegLs }), true))
    .catch(() => false);
  return jpegLs;
}

async function deidentify(item, settings, pixels, input) {
  const request = { cmd: "deidentify", out: "/out/result.dcm", settings, pixels };
  if (pixels && pixels.regions && pixels.regions.length && pixels.compressed) {
    const failed = await decodeAll(item, request);
    if (failed) return { result: failed };
    if (request.pixels.transfer_syntax !== RLE && (await jpegLsEncoder())) request.pixels.encode = "jpeg-ls";
  }
  const run = (path) => call({ ...request, path });
  let result;
  try {
    if (input) {
      // Read ahead while the previous file was in Python (see onmessage): hand Python the bytes from MEMFS.
      py.FS.writeFile("/in/file", new Uint8Array(input));
      try {
        result = run("/in/file");
      } finally {
        py.FS.unlink("/in/file");
      }
    } else {
      result = onItem(item, run);
    }
  } finally {
    if (request.pixels && request.pixels.decoded) py.FS.unlink(request.pixels.decoded.path);
  }
  if (result.status !== "ok") return { result };
  const bytes = py.FS.readFile("/out/result.dcm");
  py.FS.unlink("/out/result.dcm");
  return { result, bytes };
}

// Small files are read as soon as their request arrives, so the read overlaps the Python work of the
// request before it; large ones stay mounted (WORKERFS) to keep memory bounded.
const READ_AHEAD_MAX = 32 * 1024 * 1024;

// One handler per command of protocol.mjs, and nothing else: the page cannot reach Python by name.
const handlers = {
  [Command.INIT]: (_msg, info) => info,
  [Command.DESCRIBE]: () => call({ cmd: "describe" }),
  [Command.KEY_CHECK]: ({ text }) => call({ cmd: "key_check", text: String(text) }),
  [Command.REGIONS_CHECK]: ({ text, name }) => call({ cmd: "regions_check", text: String(text), name: String(name || "") }),
  [Command.ZIP_LIST]: ({ file }) => withMounted(file, (path) => call({ cmd: "zip_list", path })),
  [Command.INDEX]: async ({ items }) => {
    const direct = items.filter((item) => !item.member);
    const indexed = await indexFiles(direct.map((item) => item.file));
    return items.map((item) => (item.member ? indexMember(item) : indexed.shift()));
  },
  [Command.DIGEST]: ({ item }) => onItem(item, (path) => call({ cmd: "digest", path })), // versions of one image
  [Command.PLAN]: ({ item, settings, pixels }) => onItem(item, (path) => call({ cmd: "plan", path, settings, pixels })),
  [Command.IMAGE]: ({ item, frame, key, slot }) => image(item, Number(frame) || 0, String(key || ""), slot === "scan" ? "scan" : "view"),
  [Command.TEXT_MATCHES]: ({ item, texts, key }) => {
    const request = { cmd: "text_matches", texts: [...texts].map(String), key: String(key || ""), slot: "scan" };
    const kept = call(request); // the scan's kept file answers without reading it again
    return kept.status !== "miss" ? kept : onItem(item, (path) => call({ ...request, path }));
  },
  [Command.DEIDENTIFY]: async ({ item, settings, pixels }, _info, early) => deidentify(item, settings, pixels, early && (await early)),
};

self.onmessage = async (event) => {
  const { id, cmd } = event.data;
  const item = event.data.item;
  const early = cmd === Command.DEIDENTIFY && !item.member && item.size <= READ_AHEAD_MAX ? item.file.arrayBuffer() : null;
  try {
    const handler = Object.hasOwn(handlers, cmd) ? handlers[cmd] : null;
    if (!handler) throw new Error(`unknown engine command ${JSON.stringify(cmd)}`);
    const info = await ready;
    const reply = await handler(event.data, info, early);
    const transfer = reply && reply.bytes ? [reply.bytes.buffer] : reply && reply.frame ? [reply.frame.data.buffer] : [];
    if (reply && reply.samples) transfer.push(reply.samples.samples.buffer); // the text scan's frame
    self.postMessage({ id, ok: true, reply }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err && err.stack || err) });
  }
};
