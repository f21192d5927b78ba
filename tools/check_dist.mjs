#!/usr/bin/env node
// Smoke test of a built dist/ (tools/build_dist.py) under Node, offline, the way the page's worker boots it.
//
//   node tools/check_dist.mjs [--dist DIR] [--python EXE] [--root DIR] [--dcm FILE] [--json]
//
// 1. Checks dist/pyodide/pyodide-lock.json: every entry whose wheel is in dist/ has the sha256 of that
//    exact file (the browser enforces it; Pyodide under Node does not), and "pacsbin-uploader" depends
//    on "pydicom". Checks dist/build-info.json against the files, the text finder's files in dist/text/
//    (those and no others) and that every X.gz inflates to X.
// 2. Boots Pyodide from dist/pyodide/ with lockFileURL = the dist lock, packageBaseUrl = dist/pyodide/ and
//    packages: ["pacsbin-uploader"] (pydicom must come in through "depends"), no stdLibURL (the default
//    <indexURL>python_stdlib.zip is the .pyc one). globalThis.fetch throws for anything but file: URLs.
// 3. In Pyodide: `import anonymizer.engine, pydicom`, prints pydicom.__version__; checks that json (stdlib zip), pydicom
//    and anonymizer were loaded from sourceless .pyc and that app/ is not there; de-identifies CT_small.dcm
//    with the fixed key bytes(range(32)) and prints the output's sha256.
// 4. Runs the same de-identification natively (--python, default <root>/.venv/bin/python, with <root> on
//    sys.path) and prints its sha256. Exit status 1 if any check fails or the hashes differ, 70 if the
//    harness itself failed.
// Timings (ms) go to stdout: boot (loadPyodide incl. packages), import, first de-identification.
// --json: print one JSON object with every result instead of the text lines.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import zlib from "node:zlib";

import { blockedRequests, installNetworkGuard } from "./pyodide_run.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUR_PACKAGES = ["pydicom", "pacsbin-uploader"];

const DEIDENTIFY_PY = `
import hashlib
from anonymizer.config import Config
from anonymizer.engine import deidentify
from anonymizer.keys import SecretKey


def deid_sha256(data):
    return hashlib.sha256(deidentify(data, Config(key=SecretKey(bytes(range(32))))).data).hexdigest()
`;

const IN_PYODIDE_PY = `
import importlib.util, json, os, sys, time
t0 = time.perf_counter()
import anonymizer.engine, pydicom
t_import = (time.perf_counter() - t0) * 1000
print(pydicom.__version__)
${DEIDENTIFY_PY}
import anonymizer, redaction
facts = {
    "pydicom_version": pydicom.__version__,
    "python": sys.version.split()[0],
    "files": {m.__name__: m.__file__ for m in (json, pydicom, anonymizer, anonymizer.engine, redaction)},
    "app_importable": importlib.util.find_spec("app") is not None,
}
site = next(p for p in sys.path if p.endswith("site-packages"))
facts["py_sources_in_site"] = sorted(
    os.path.relpath(os.path.join(d, f), site)
    for top in ("pydicom", "anonymizer", "redaction")
    for d, _, fs in os.walk(os.path.join(site, top))
    for f in fs if f.endswith(".py")
)
facts["test_files_present"] = os.path.isdir(os.path.join(site, "pydicom", "data", "test_files"))
with open("/check/input.dcm", "rb") as f:
    data = f.read()
t1 = time.perf_counter()
facts["sha256"] = deid_sha256(data)
facts["deidentify_ms"] = round((time.perf_counter() - t1) * 1000)
facts["import_ms"] = round(t_import)
json.dumps(facts)
`;

const NATIVE_PY = `
import hashlib, json, sys
from pathlib import Path
root, dcm = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
import pydicom
if not dcm:
    dcm = str(Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm")
${DEIDENTIFY_PY}
print(json.dumps({"dcm": dcm, "sha256": deid_sha256(Path(dcm).read_bytes()), "pydicom_version": pydicom.__version__}))
`;

class CheckError extends Error {}

function parseArgs(argv) {
  const root = path.resolve(HERE, "..");
  const venvPython = path.join(root, ".venv", "bin", "python");
  const opts = {
    root,
    dist: path.join(root, "dist"),
    python: fs.existsSync(venvPython) ? venvPython : "python3",
    dcm: "",
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const need = () => {
      if (i + 1 >= argv.length) throw new CheckError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--dist": opts.dist = path.resolve(need()); break;
      case "--python": opts.python = need(); break;
      case "--root": opts.root = path.resolve(need()); break;
      case "--dcm": opts.dcm = path.resolve(need()); break;
      case "--json": opts.json = true; break;
      case "--help":
        process.stdout.write(
          fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n")
            .filter((l, n) => n > 0 && l.startsWith("//")).join("\n").replace(/^\/\/ ?/gm, "") + "\n",
        );
        process.exit(0);
      default: throw new CheckError(`unknown argument ${a}`);
    }
  }
  return opts;
}

const sha256File = (p) => createHash("sha256").update(fs.readFileSync(p)).digest("hex");

/** Static checks of the lock and build-info; returns a list of problems. */
function checkFiles(dist) {
  const problems = [];
  const pyodideDir = path.join(dist, "pyodide");
  const lock = JSON.parse(fs.readFileSync(path.join(pyodideDir, "pyodide-lock.json"), "utf8"));
  let shipped = 0;
  for (const [key, pkg] of Object.entries(lock.packages)) {
    const file = path.resolve(pyodideDir, pkg.file_name);
    const ours = OUR_PACKAGES.includes(key);
    if (!fs.existsSync(file)) {
      if (ours) problems.push(`lock entry ${key}: ${pkg.file_name} is not in dist/`);
      continue;
    }
    shipped++;
    const actual = sha256File(file);
    if (actual !== pkg.sha256) problems.push(`lock entry ${key}: sha256 ${pkg.sha256} but ${pkg.file_name} has ${actual}`);
  }
  if (shipped !== OUR_PACKAGES.length) problems.push(`expected ${OUR_PACKAGES.length} shipped wheels in the lock, found ${shipped}`);
  const deps = lock.packages["pacsbin-uploader"]?.depends ?? [];
  if (!deps.includes("pydicom")) problems.push(`pacsbin-uploader does not depend on pydicom (depends: ${deps})`);

  const info = JSON.parse(fs.readFileSync(path.join(dist, "build-info.json"), "utf8"));
  const listed = new Set(Object.keys(info.files));
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.relative(dist, path.join(dir, e.name)).split(path.sep).join("/")]);
  for (const rel of walk(dist)) {
    if (rel === "build-info.json") continue;
    if (!listed.has(rel)) problems.push(`build-info.json does not list ${rel}`);
    else if (info.files[rel].sha256 !== sha256File(path.join(dist, rel))) problems.push(`build-info.json: wrong sha256 for ${rel}`);
    listed.delete(rel);
  }
  for (const rel of listed) problems.push(`build-info.json lists ${rel}, which is not in dist/`);
  problems.push(...checkText(dist, walk(dist)));
  return { problems, info };
}

// The text finder's files (tools/dist_text.py): onnxruntime-web's wasm backend only, the derived models, and
// every X.gz the server may send in X's name inflating to X's bytes.
const TEXT_FILES = [
  "text/ort/ort.wasm.min.mjs",
  "text/ort/ort-wasm-simd-threaded.mjs",
  "text/ort/ort-wasm-simd-threaded.wasm",
  "text/models/ch_PP-OCRv4_det_infer.fp16.onnx",
  "text/models/ch_PP-OCRv4_rec_infer.fp16.onnx",
  "text/models/ppocr_keys_v1.txt",
];

function checkText(dist, files) {
  const problems = [];
  for (const rel of TEXT_FILES) if (!files.includes(rel)) problems.push(`${rel} is not in dist/`);
  const text = files.filter((rel) => rel.startsWith("text/") && !rel.endsWith(".gz"));
  for (const rel of text) if (!TEXT_FILES.includes(rel)) problems.push(`dist/${rel} is not a file the text finder needs`);
  for (const rel of files.filter((f) => f.endsWith(".gz"))) {
    const plain = rel.slice(0, -3);
    if (!files.includes(plain)) {
      problems.push(`${rel} has no plain file beside it`);
      continue;
    }
    const inflated = zlib.gunzipSync(fs.readFileSync(path.join(dist, rel)));
    if (!inflated.equals(fs.readFileSync(path.join(dist, plain)))) problems.push(`${rel} does not inflate to ${plain}`);
  }
  return problems;
}

async function bootDist(dist) {
  const pyodideDir = path.join(dist, "pyodide") + path.sep;
  const messages = [];
  const t0 = performance.now();
  const { loadPyodide, version } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({
    indexURL: pyodideDir,
    lockFileURL: pyodideDir + "pyodide-lock.json",
    packageBaseUrl: pyodideDir,
    packages: ["pacsbin-uploader"],
    stdout: (m) => messages.push(m),
    stderr: (m) => messages.push(m),
  });
  const bootMs = performance.now() - t0;
  return { pyodide, version, bootMs, messages };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`check_dist: ${e.message}\n`);
    return 64;
  }
  for (const f of ["pyodide/pyodide.mjs", "pyodide/pyodide-lock.json", "pyodide/python_stdlib.zip", "build-info.json"]) {
    if (!fs.existsSync(path.join(opts.dist, f))) {
      process.stderr.write(`check_dist: ${path.join(opts.dist, f)} is missing (run: python tools/build_dist.py)\n`);
      return 70;
    }
  }
  const out = { dist: opts.dist, problems: [] };
  const say = (line) => opts.json || process.stdout.write(line + "\n");

  const { problems, info } = checkFiles(opts.dist);
  out.problems.push(...problems);

  // Native reference first (it also finds CT_small.dcm in the native pydicom when --dcm is not given).
  const t0 = performance.now();
  const native = spawnSync(opts.python, ["-c", NATIVE_PY, opts.root, opts.dcm], { cwd: opts.root, encoding: "utf8" });
  if (native.status !== 0) {
    process.stderr.write(`check_dist: native run failed (${opts.python}, exit ${native.status}):\n${native.stderr}${native.error ?? ""}\n`);
    return 70;
  }
  const nat = JSON.parse(native.stdout.trim().split("\n").pop());
  out.native = { ...nat, ms: Math.round(performance.now() - t0) };

  installNetworkGuard();
  let boot;
  try {
    boot = await bootDist(opts.dist);
  } catch (e) {
    process.stderr.write(`check_dist: booting Pyodide from ${opts.dist} failed: ${e.stack ?? e}\n`);
    return 70;
  }
  const { pyodide } = boot;
  const loaded = { ...pyodide.loadedPackages };
  out.pyodide = { version: boot.version, boot_ms: Math.round(boot.bootMs), loaded, messages: boot.messages };
  for (const name of OUR_PACKAGES) {
    if (!(name in loaded)) out.problems.push(`package ${name} was not loaded (loaded: ${JSON.stringify(loaded)})`);
  }
  for (const m of boot.messages) {
    if (/fail|error|cdn|http/i.test(m)) out.problems.push(`Pyodide said: ${m}`);
  }
  if (info.pyodide !== boot.version) out.problems.push(`build-info says Pyodide ${info.pyodide}, runtime is ${boot.version}`);

  pyodide.FS.mkdirTree("/check");
  pyodide.FS.writeFile("/check/input.dcm", fs.readFileSync(nat.dcm));
  const printed = [];
  pyodide.setStdout({ batched: (m) => printed.push(m) });
  let facts = null;
  try {
    facts = JSON.parse(pyodide.runPython(IN_PYODIDE_PY));
  } catch (e) {
    out.problems.push(`the Python check failed in Pyodide:\n${e.message ?? e}`);
  }
  out.pyodide.printed = printed;
  out.pyodide.facts = facts;
  if (facts) {
    for (const [mod, file] of Object.entries(facts.files)) {
      if (!file.endsWith(".pyc")) out.problems.push(`${mod} was loaded from ${file}, not from a .pyc`);
    }
    if (facts.py_sources_in_site.length) out.problems.push(`.py sources installed: ${facts.py_sources_in_site.join(", ")}`);
    if (facts.app_importable) out.problems.push("app/ is importable in Pyodide (it must not be in the browser wheel)");
    if (facts.test_files_present) out.problems.push("pydicom/data/test_files is installed");
    if (facts.python !== info.python) out.problems.push(`build-info says Python ${info.python}, runtime is ${facts.python}`);
    if (printed[0] !== nat.pydicom_version) out.problems.push(`pydicom ${printed[0]} in Pyodide, ${nat.pydicom_version} natively`);
    if (facts.sha256 !== nat.sha256) out.problems.push(`de-identified output differs: Pyodide ${facts.sha256}, native ${nat.sha256}`);
  }
  if (blockedRequests.length) out.problems.push(`network requests were attempted: ${blockedRequests.join(", ")}`);
  out.ok = out.problems.length === 0;

  if (opts.json) {
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } else {
    say(`pyodide ${boot.version} (Python ${facts?.python}) from ${opts.dist}`);
    say(`loaded: ${Object.entries(loaded).map(([k, v]) => `${k} (${v})`).join(", ")}`);
    say(`pydicom.__version__ = ${printed[0]}`);
    say(`boot_ms (loadPyodide + packages) = ${out.pyodide.boot_ms}`);
    say(`import_ms (anonymizer.engine, pydicom) = ${facts?.import_ms}`);
    say(`deidentify_ms (first call) = ${facts?.deidentify_ms}`);
    say(`input: ${nat.dcm}`);
    say(`sha256 pyodide = ${facts?.sha256}`);
    say(`sha256 native  = ${nat.sha256}`);
    for (const p of out.problems) say(`PROBLEM: ${p}`);
    say(out.ok ? "OK" : "FAILED");
  }
  return out.ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let code;
  try {
    code = await main();
  } catch (e) {
    process.stderr.write(`check_dist: ${e.stack ?? e}\n`);
    code = 70;
  }
  process.exit(code);
}
