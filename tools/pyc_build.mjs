#!/usr/bin/env node
// Compile the .py files in zip archives (the stdlib zip, wheels) to sourceless .pyc with Pyodide's own
// CPython, so the bytecode's magic number is the one the browser runtime expects.
//
//   node tools/pyc_build.mjs [--pyodide DIR] [--report FILE] --job <stdlib|site> <in.zip> <out.zip> [--job ...]
//
// * Pyodide is booted offline from node_modules/pyodide (or --pyodide DIR): indexURL, lock file and
//   packageBaseUrl are local paths, and globalThis.fetch refuses anything that is not a file: URL.
// * Each job's input and output directories are mounted with NODEFS. For every member of the input:
//   `x.py` becomes `x.pyc` beside it (no __pycache__, no source), built as
//       code = compile(src, f"{prefix}/{name}", "exec", dont_inherit=True, optimize=0)
//       pyc  = importlib._bootstrap_external._code_to_hash_pyc(code, importlib.util.source_hash(src), checked=False)
//   where prefix is where the archive ends up inside Pyodide: the stdlib zip's sys.path entry
//   (/lib/python314.zip) for "stdlib", site-packages (/lib/python3.14/site-packages) for "site".
//   Every other member (data files, directory entries, dist-info) is copied unchanged, in input order.
// * The output is written with ZIP_STORED and a fixed timestamp (1980-01-01) so that the same input gives
//   the same bytes; the caller (tools/build_dist.py) recompresses it and rewrites wheel RECORDs.
// * --report FILE: JSON {pyodide, python, magic (hex), jobs: [{input, output, prefix, compiled, copied}]}.
//
// Exit status: 0 on success; 1 if a job failed (e.g. a SyntaxError; nothing is half-written: outputs
// go to <out>.part first); 64 usage error; 70 harness error.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { blockedRequests, installNetworkGuard } from "./pyodide_run.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const KINDS = new Set(["stdlib", "site"]);

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = {
    pyodideDir: path.resolve(HERE, "..", "node_modules", "pyodide"),
    report: null,
    jobs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const need = (n) => {
      if (i + n >= argv.length) throw new UsageError(`${a} needs ${n} value(s)`);
      const vals = argv.slice(i + 1, i + 1 + n);
      i += n;
      return vals;
    };
    switch (a) {
      case "--pyodide": opts.pyodideDir = path.resolve(need(1)[0]); break;
      case "--report": opts.report = path.resolve(need(1)[0]); break;
      case "--job": {
        const [kind, input, output] = need(3);
        if (!KINDS.has(kind)) throw new UsageError(`--job kind must be stdlib or site, got ${kind}`);
        opts.jobs.push({ kind, input: path.resolve(input), output: path.resolve(output) });
        break;
      }
      case "--help":
        process.stdout.write(
          fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n")
            .filter((l, n) => n > 0 && l.startsWith("//")).join("\n").replace(/^\/\/ ?/gm, "") + "\n",
        );
        process.exit(0);
      default: throw new UsageError(`unknown argument ${a}`);
    }
  }
  if (!opts.jobs.length) throw new UsageError("no --job given");
  return opts;
}

const COMPILER_PY = `
import importlib._bootstrap_external as _be
import importlib.util
import json
import site
import sys
import zipfile

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
PREFIXES = {
    "stdlib": next(p for p in sys.path if p.endswith(".zip")),
    "site": site.getsitepackages()[0],
}


def _entry(name, is_dir, mode):
    zi = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    zi.create_system = 3  # unix, so external_attr carries the mode
    zi.external_attr = ((0o40755 if is_dir else mode) << 16) | (0x10 if is_dir else 0)
    zi.compress_type = zipfile.ZIP_STORED
    return zi


def build(kind, src, dst):
    prefix = PREFIXES[kind]
    compiled = copied = 0
    seen = set()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            name = info.filename
            if info.is_dir():
                zout.writestr(_entry(name, True, 0), b"")
                copied += 1
                continue
            data = zin.read(info)
            if name.endswith(".py"):
                try:
                    code = compile(data, f"{prefix}/{name}", "exec", dont_inherit=True, optimize=0)
                except SyntaxError as exc:
                    raise SystemExit(f"pyc_build: cannot compile {name} in {src}: {exc}") from None
                data = bytes(_be._code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False))
                name = name[:-3] + ".pyc"
                compiled += 1
            else:
                copied += 1
            if name in seen:
                raise SystemExit(f"pyc_build: {src} has both {name[:-1]} and {name}")
            seen.add(name)
            zout.writestr(_entry(name, False, 0o644), data)
    return {"prefix": prefix, "compiled": compiled, "copied": copied}


def info():
    return json.dumps({
        "python": sys.version.split()[0],
        "magic": importlib.util.MAGIC_NUMBER.hex(),
    })
`;

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`pyc_build: ${e.message}\n`);
    return 64;
  }
  for (const f of ["pyodide.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"]) {
    if (!fs.existsSync(path.join(opts.pyodideDir, f))) {
      process.stderr.write(`pyc_build: ${path.join(opts.pyodideDir, f)} is missing (run: npm ci)\n`);
      return 70;
    }
  }
  for (const job of opts.jobs) {
    if (!fs.statSync(job.input, { throwIfNoEntry: false })?.isFile()) {
      process.stderr.write(`pyc_build: input ${job.input} does not exist\n`);
      return 64;
    }
    fs.mkdirSync(path.dirname(job.output), { recursive: true });
  }

  installNetworkGuard();
  const t0 = performance.now();
  const indexURL = opts.pyodideDir + path.sep;
  const { loadPyodide, version } = await import(pathToFileURL(path.join(opts.pyodideDir, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({
    indexURL,
    lockFileURL: path.join(opts.pyodideDir, "pyodide-lock.json"),
    packageBaseUrl: indexURL,
    packageCacheDir: indexURL,
    stdout: (m) => process.stderr.write(`${m}\n`),
    stderr: (m) => process.stderr.write(`${m}\n`),
  });
  const bootMs = performance.now() - t0;

  // Mount every host directory involved once, at /host/<n>.
  const mounts = new Map();
  const inFS = (hostFile) => {
    const dir = path.dirname(hostFile);
    if (!mounts.has(dir)) {
      const point = `/host/${mounts.size}`;
      pyodide.FS.mkdirTree(point);
      pyodide.mountNodeFS(point, dir);
      mounts.set(dir, point);
    }
    return `${mounts.get(dir)}/${path.basename(hostFile)}`;
  };

  const ns = pyodide.globals.get("dict")();
  pyodide.runPython(COMPILER_PY, { globals: ns });
  const build = ns.get("build");
  const meta = JSON.parse(ns.get("info")());
  const report = { pyodide: version, python: meta.python, magic: meta.magic, boot_ms: Math.round(bootMs), jobs: [] };
  let status = 0;
  for (const job of opts.jobs) {
    const part = `${job.output}.part`;
    const t1 = performance.now();
    try {
      const res = build(job.kind, inFS(job.input), inFS(part)).toJs({ dict_converter: Object.fromEntries });
      fs.renameSync(part, job.output);
      report.jobs.push({ kind: job.kind, input: job.input, output: job.output, ...res });
      process.stderr.write(
        `pyc_build: ${path.basename(job.input)}: ${res.compiled} compiled, ${res.copied} copied ` +
          `(prefix ${res.prefix}) in ${(performance.now() - t1).toFixed(0)} ms\n`,
      );
    } catch (e) {
      fs.rmSync(part, { force: true });
      process.stderr.write(`pyc_build: job ${job.kind} ${job.input} failed:\n${e.message ?? e}\n`);
      status = 1;
      break;
    }
  }
  build.destroy();
  ns.destroy();
  if (blockedRequests.length) {
    process.stderr.write(`pyc_build: network requests were attempted: ${blockedRequests.join(", ")}\n`);
    status = status || 70;
  }
  if (opts.report && status === 0) fs.writeFileSync(opts.report, JSON.stringify(report, null, 2) + "\n");
  process.stderr.write(`pyc_build: Pyodide ${version} (Python ${meta.python}, magic ${meta.magic}): boot ${bootMs.toFixed(0)} ms\n`);
  return status;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let code;
  try {
    code = await main();
  } catch (e) {
    process.stderr.write(`pyc_build: ${e.stack ?? e}\n`);
    code = 70;
  }
  process.exit(code);
}
