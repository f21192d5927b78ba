// The engine's worker: loads Pyodide, moves bytes, calls one Python entry point (anonymizer.browser_api).
// No de-identification logic lives here.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const base = new URL("./", import.meta.url).href;
const PREFIX = 64 * 1024; // a header usually fits; the engine asks for more when it does not

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

async function writeMem(path, blob) {
  py.FS.writeFile(path, new Uint8Array(await blob.arrayBuffer()));
}

async function index(file) {
  await writeMem("/in/prefix", file.slice(0, PREFIX));
  let result = call({ cmd: "index", path: "/in/prefix", complete: file.size <= PREFIX });
  if (result.status === "need_more") {
    result = withMounted(file, (path) => call({ cmd: "index", path, complete: true }));
  }
  py.FS.unlink("/in/prefix");
  return result;
}

function deidentify(file, settings) {
  const result = withMounted(file, (path) => call({ cmd: "deidentify", path, out: "/out/result.dcm", settings }));
  if (result.status !== "ok") return { result };
  const bytes = py.FS.readFile("/out/result.dcm");
  py.FS.unlink("/out/result.dcm");
  return { result, bytes };
}

function zipList(file) {
  return withMounted(file, (path) => call({ cmd: "zip_list", path }));
}

function zipExtract(file, member) {
  const result = withMounted(file, (path) => call({ cmd: "zip_extract", path, member, out: "/out/member" }));
  if (result.status !== "ok") return { result };
  const bytes = py.FS.readFile("/out/member");
  py.FS.unlink("/out/member");
  return { result, bytes };
}

self.onmessage = async (event) => {
  const { id, cmd } = event.data;
  try {
    const info = await ready;
    let reply;
    if (cmd === "init") reply = info;
    else if (cmd === "call") reply = call(event.data.request); // describe, key_check: no files involved
    else if (cmd === "index") {
      reply = [];
      for (const file of event.data.files) reply.push(await index(file));
    } else if (cmd === "plan") reply = withMounted(event.data.file, (path) =>
      call({ cmd: "plan", path, settings: event.data.settings }));
    else if (cmd === "deidentify") reply = deidentify(event.data.file, event.data.settings);
    else if (cmd === "zip_list") reply = zipList(event.data.file);
    else if (cmd === "zip_extract") reply = zipExtract(event.data.file, event.data.member);
    else throw new Error(`unknown command ${cmd}`);
    const transfer = reply && reply.bytes ? [reply.bytes.buffer] : [];
    self.postMessage({ id, ok: true, reply }, transfer);
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err && err.stack || err) });
  }
};
