#!/usr/bin/env node
// Run a Python script from this repo under Node-hosted Pyodide (offline), for tests.
//
//   node tools/pyodide_run.mjs --wheels vendor-wheels --src <repo root> --mount <host dir> \
//        [--lock tools/wheels.lock.json] [--package NAME]... [--env KEY=VALUE]... [--verbose] \
//        <script.py> [args...]
//
// * Pyodide comes from node_modules/pyodide (indexURL, lock file, packageBaseUrl and packageCacheDir
//   are all local paths). globalThis.fetch is replaced by a guard that refuses anything that is not a
//   local path, so a package that is not on disk fails loudly instead of being fetched from the CDN.
// * Wheels: every wheel pinned in the wheel lock (default: <src>/tools/wheels.lock.json, or all *.whl
//   in --wheels if there is no lock) is sha256-checked here (Pyodide does not check hashes under Node),
//   added to an in-memory copy of pyodide-lock.json with an absolute file_name, and loaded at start-up.
// * The Python packages under --src (default: anonymizer, redaction; whichever exist) are copied into
//   /src in Pyodide's MEMFS (no __pycache__ / *.pyc), and /src is put on sys.path.
// * --mount <host dir> is mounted read-write with NODEFS at /mnt.
// * The script is copied to /script/<name> and run as __main__ with sys.argv = [/script/<name>, ...args].
//   Its stdout/stderr are forwarded byte for byte; the process exits with the script's exit status
//   (SystemExit code; 1 and a traceback on stderr for an uncaught exception). Harness errors exit 70.
//
// One process runs one script: to process many files, pass the folder and loop in Python
// (Pyodide start-up costs several seconds; the per-file work is milliseconds).
//
// Also importable: `bootPyodide(options)` and `runScript(pyodide, hostScriptPath, args)`.

import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HARNESS_ERROR = 70; // EX_SOFTWARE: the harness itself failed (not the script)
const DEFAULT_PACKAGES = ["anonymizer", "redaction"];
const SRC_IN_PYODIDE = "/src";
const SCRIPT_DIR_IN_PYODIDE = "/script";
const MOUNT_POINT = "/mnt";

export class HarnessError extends Error {}

// ---------------------------------------------------------------------------------------------
// Network guard: Pyodide under Node only uses fetch() for URLs containing "://"; local paths are
// read with fs. Refusing every non-file fetch makes an accidental CDN download a hard error.
export const blockedRequests = [];
export function installNetworkGuard() {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async function guardedFetch(input, init) {
    const url = typeof input === "string" ? input : (input?.url ?? String(input));
    if (!url.startsWith("file:")) {
      blockedRequests.push(url);
      process.stderr.write(`pyodide_run: BLOCKED network request to ${url}\n`);
      throw new HarnessError(`pyodide_run: network access is not allowed (attempted: ${url})`);
    }
    return realFetch(input, init);
  };
}

// ---------------------------------------------------------------------------------------------
function sha256File(p) {
  return createHash("sha256").update(fs.readFileSync(p)).digest("hex");
}

function normalizeName(name) {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Wheels to load: [{name, version, file, sha256, imports}] from the pin file, or from the dir. */
export function collectWheels(wheelsDir, lockPath) {
  wheelsDir = path.resolve(wheelsDir);
  if (!fs.existsSync(wheelsDir)) {
    throw new HarnessError(`wheels dir ${wheelsDir} does not exist (run: python3 tools/fetch_wheels.py)`);
  }
  const wheels = [];
  if (lockPath && fs.existsSync(lockPath)) {
    const pins = JSON.parse(fs.readFileSync(lockPath, "utf8")).wheels ?? [];
    for (const pin of pins) {
      const file = path.join(wheelsDir, pin.file_name);
      if (!fs.existsSync(file)) {
        throw new HarnessError(
          `wheel ${pin.file_name} (pinned in ${lockPath}) is missing from ${wheelsDir} ` +
            `(run: python3 tools/fetch_wheels.py)`,
        );
      }
      const actual = sha256File(file);
      if (actual !== pin.sha256.toLowerCase()) {
        throw new HarnessError(
          `sha256 mismatch for ${file}: pinned ${pin.sha256}, found ${actual} (delete it and re-run fetch_wheels.py)`,
        );
      }
      wheels.push({ name: pin.name, version: pin.version, file, sha256: actual, imports: pin.imports });
    }
  } else {
    for (const f of fs.readdirSync(wheelsDir).filter((f) => f.endsWith(".whl")).sort()) {
      const [name, version] = f.split("-");
      const file = path.join(wheelsDir, f);
      wheels.push({ name, version, file, sha256: sha256File(file) });
    }
  }
  return wheels;
}

function copyTreeToFS(FS, hostDir, destDir) {
  FS.mkdirTree(destDir);
  for (const entry of fs.readdirSync(hostDir, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name.endsWith(".pyc")) continue;
    const src = path.join(hostDir, entry.name);
    const dst = `${destDir}/${entry.name}`;
    if (entry.isDirectory()) {
      copyTreeToFS(FS, src, dst);
    } else if (entry.isFile() || (entry.isSymbolicLink() && fs.statSync(src).isFile())) {
      FS.writeFile(dst, fs.readFileSync(src));
    }
  }
}

function locatePyodideDir(explicit) {
  if (explicit) return path.resolve(explicit);
  // Resolve the way `import "pyodide"` would from this file (repo-root node_modules).
  try {
    return path.dirname(fileURLToPath(import.meta.resolve("pyodide")));
  } catch {
    // Node < 20.6 has no synchronous import.meta.resolve: assume <repo>/node_modules/pyodide.
    return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "node_modules", "pyodide");
  }
}

/**
 * Start Pyodide offline and prepare it: wheels loaded, repo packages on sys.path, host dir at /mnt.
 * Options: {wheelsDir, srcDir, mountDir?, lockPath?, packages?, env?, pyodideDir?, verbose?,
 *           stdout?(Uint8Array), stderr?(Uint8Array)}
 */
export async function bootPyodide(opts) {
  const verbose = Boolean(opts.verbose);
  const log = (msg) => verbose && process.stderr.write(`pyodide_run: ${msg}\n`);
  const t0 = performance.now();
  const pyodideDir = locatePyodideDir(opts.pyodideDir);
  const indexURL = pyodideDir + path.sep;
  const srcDir = path.resolve(opts.srcDir ?? ".");
  const lockPath = opts.lockPath === undefined ? path.join(srcDir, "tools", "wheels.lock.json") : opts.lockPath;
  const wheels = opts.wheelsDir ? collectWheels(opts.wheelsDir, lockPath) : [];

  // An in-memory copy of Pyodide's lock file with one entry per wheel. file_name is absolute, so
  // Pyodide reads the file from disk and never falls back to its CDN.
  const lock = JSON.parse(fs.readFileSync(path.join(pyodideDir, "pyodide-lock.json"), "utf8"));
  for (const w of wheels) {
    const key = normalizeName(w.name);
    lock.packages[key] = {
      name: w.name,
      version: w.version,
      file_name: w.file,
      install_dir: "site",
      sha256: w.sha256,
      package_type: "package",
      imports: w.imports ?? [w.name.replace(/-/g, "_")],
      depends: [],
      unvendored_tests: false,
    };
  }

  const { loadPyodide, version } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({
    indexURL,
    lockFileContents: lock,
    packageBaseUrl: indexURL,
    packageCacheDir: indexURL,
    stdLibURL: path.join(pyodideDir, "python_stdlib.zip"),
    env: { HOME: "/home/pyodide", ...(opts.env ?? {}) },
    // Output before setStdout/setStderr below (start-up messages) goes to stderr, keeping stdout clean.
    stdout: (msg) => process.stderr.write(`${msg}\n`),
    stderr: (msg) => process.stderr.write(`${msg}\n`),
  });
  log(`loadPyodide ${version}: ${(performance.now() - t0).toFixed(0)} ms`);

  if (wheels.length) {
    const t1 = performance.now();
    const errors = [];
    await pyodide.loadPackage(
      wheels.map((w) => normalizeName(w.name)),
      {
        messageCallback: (m) => log(m),
        errorCallback: (m) => errors.push(m),
        checkIntegrity: true,
      },
    );
    if (errors.length) throw new HarnessError(`loading wheels failed:\n  ${errors.join("\n  ")}`);
    const loaded = pyodide.loadedPackages;
    const notLoaded = wheels.filter((w) => !(w.name in loaded) && !(normalizeName(w.name) in loaded));
    if (notLoaded.length) {
      throw new HarnessError(`wheels not loaded: ${notLoaded.map((w) => w.file).join(", ")}`);
    }
    log(`loaded wheels ${wheels.map((w) => path.basename(w.file)).join(", ")}: ${(performance.now() - t1).toFixed(0)} ms`);
  }
  if (blockedRequests.length) {
    throw new HarnessError(`network requests were attempted: ${blockedRequests.join(", ")}`);
  }

  const packages = opts.packages?.length ? opts.packages : DEFAULT_PACKAGES;
  const copied = [];
  for (const pkg of packages) {
    const hostPkg = path.join(srcDir, pkg);
    if (!fs.existsSync(hostPkg)) {
      if (opts.packages?.length) throw new HarnessError(`package dir ${hostPkg} does not exist`);
      continue; // default list: copy whichever exist
    }
    if (!fs.statSync(hostPkg).isDirectory()) throw new HarnessError(`${hostPkg} is not a directory`);
    copyTreeToFS(pyodide.FS, hostPkg, `${SRC_IN_PYODIDE}/${pkg}`);
    copied.push(pkg);
  }
  pyodide.FS.mkdirTree(SRC_IN_PYODIDE);
  log(`copied ${copied.join(", ") || "no packages"} from ${srcDir} to ${SRC_IN_PYODIDE}`);

  if (opts.mountDir) {
    const hostMount = path.resolve(opts.mountDir);
    if (!fs.existsSync(hostMount) || !fs.statSync(hostMount).isDirectory()) {
      throw new HarnessError(`mount dir ${hostMount} is not a directory`);
    }
    pyodide.FS.mkdirTree(MOUNT_POINT);
    pyodide.mountNodeFS(MOUNT_POINT, hostMount);
    log(`mounted ${hostMount} at ${MOUNT_POINT}`);
  }

  const out = opts.stdout ?? ((buf) => process.stdout.write(buf));
  const err = opts.stderr ?? ((buf) => process.stderr.write(buf));
  // Raw byte writers; copy out of the wasm heap before handing the bytes to Node.
  pyodide.setStdout({ write: (buf) => (out(Buffer.from(buf)), buf.length) });
  pyodide.setStderr({ write: (buf) => (err(Buffer.from(buf)), buf.length) });

  pyodide.runPython(RUNNER_PY);
  pyodide.runPython(`
import sys
if ${JSON.stringify(SRC_IN_PYODIDE)} not in sys.path:
    sys.path.insert(0, ${JSON.stringify(SRC_IN_PYODIDE)})
`);
  return pyodide;
}

// Runs the script as __main__ (via runpy, like `python script.py`) and returns its exit status.
// Kept in its own module so the script's globals are a fresh namespace.
const RUNNER_PY = `
import sys, types
mod = types.ModuleType("_pyodide_run")
exec(compile('''
import os, runpy, sys, traceback

def run(path, argv):
    sys.argv = [path, *argv]
    script_dir = os.path.dirname(path)
    if not sys.path or sys.path[0] != script_dir:
        sys.path.insert(0, script_dir)
    status = 0
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code & 0xFF  # as the OS reports it natively (exit(-1) -> 255)
        else:
            print(code, file=sys.stderr)
            status = 1
    except BaseException as exc:
        # Like the interpreter: drop the runner's own frames, keep the script's.
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb if tb is not None else exc.__traceback__)
        status = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    return status
''', "<pyodide_run>", "exec"), mod.__dict__)
sys.modules["_pyodide_run"] = mod
del mod
`;

/** Copy a host script into Pyodide and run it as __main__; resolves to its exit status. */
export async function runScript(pyodide, hostScript, args = []) {
  const source = fs.readFileSync(hostScript);
  const inFS = `${SCRIPT_DIR_IN_PYODIDE}/${path.basename(hostScript)}`;
  pyodide.FS.mkdirTree(SCRIPT_DIR_IN_PYODIDE);
  pyodide.FS.writeFile(inFS, source);
  const run = pyodide.pyimport("_pyodide_run").run;
  const argv = pyodide.toPy(args.map(String));
  try {
    return Number(run(inFS, argv));
  } finally {
    argv.destroy();
    run.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
function parseArgs(argv) {
  const opts = { packages: [], env: {} };
  let i = 0;
  const need = (flag) => {
    if (i + 1 >= argv.length) throw new HarnessError(`${flag} needs a value`);
    return argv[++i];
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { i++; break; }
    if (!a.startsWith("--")) break;
    switch (a) {
      case "--wheels": opts.wheelsDir = need(a); break;
      case "--src": opts.srcDir = need(a); break;
      case "--mount": opts.mountDir = need(a); break;
      case "--lock": opts.lockPath = need(a); break;
      case "--no-lock": opts.lockPath = null; break;
      case "--pyodide": opts.pyodideDir = need(a); break;
      case "--package": opts.packages.push(need(a)); break;
      case "--env": {
        const kv = need(a);
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new HarnessError(`--env expects KEY=VALUE, got ${kv}`);
        opts.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case "--verbose": opts.verbose = true; break;
      case "--help":
        process.stdout.write(
          fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n")
            .filter((l, n) => n > 0 && l.startsWith("//")).join("\n").replace(/^\/\/ ?/gm, "") + "\n",
        );
        process.exit(0);
      default: throw new HarnessError(`unknown option ${a}`);
    }
  }
  if (i >= argv.length) throw new HarnessError("no script given");
  opts.script = argv[i];
  opts.args = argv.slice(i + 1);
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`pyodide_run: ${e.message}\n`);
    return 64; // EX_USAGE
  }
  installNetworkGuard();
  let pyodide;
  try {
    if (!fs.existsSync(opts.script)) throw new HarnessError(`script ${opts.script} not found`);
    pyodide = await bootPyodide(opts);
  } catch (e) {
    process.stderr.write(`pyodide_run: start-up failed: ${e instanceof HarnessError ? e.message : e.stack ?? e}\n`);
    return HARNESS_ERROR;
  }
  const t0 = performance.now();
  let status;
  try {
    status = await runScript(pyodide, opts.script, opts.args);
  } catch (e) {
    process.stderr.write(`pyodide_run: running ${opts.script} failed: ${e.stack ?? e}\n`);
    return HARNESS_ERROR;
  }
  if (opts.verbose) process.stderr.write(`pyodide_run: script ran in ${(performance.now() - t0).toFixed(0)} ms\n`);
  if (blockedRequests.length) {
    process.stderr.write(`pyodide_run: network requests were attempted: ${blockedRequests.join(", ")}\n`);
    return status || HARNESS_ERROR;
  }
  return status;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main();
  process.exit(code);
}
