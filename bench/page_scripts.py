"""The scripts the page benchmark injects into the page and its workers (bench/page.py): they record times
and counts in the page's own clock; the page itself is not changed."""

# Runs in the page before its own scripts. Only observes: state changes, #index-progress and
# #progress-text texts, the drop and the click on #run, long tasks.
PAGE_OBSERVERS = """
(() => {
  if (window.__bench) return;
  const b = window.__bench = {states: [], progress: [], drops: [], clicks: [], longtasks: [], rpc: {}};
  const now = () => performance.now();
  new MutationObserver(() => {
    const s = document.body && document.body.dataset.state;
    const last = b.states.length ? b.states[b.states.length - 1][0] : null;
    if (s && s !== last) b.states.push([s, now()]);
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-state"]});
  document.addEventListener("DOMContentLoaded", () => {
    const el = document.getElementById("index-progress");
    if (el) new MutationObserver(() => b.progress.push([el.textContent, now()]))
      .observe(el, {childList: true, characterData: true, subtree: true});
  });
  document.addEventListener("drop", () => b.drops.push(now()), true);
  document.addEventListener("click", (e) => {
    if (e.target && e.target.id === "run") b.clicks.push(now());
  }, true);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
    }).observe({type: "longtask", buffered: true});
  } catch (e) { b.longtaskError = String(e); }
})();
"""

# Throughput runs only: times each request/reply of the page's worker RPC from the page's side.
PAGE_RPC_TIMER = """
(() => {
  const NativeWorker = window.Worker;
  if (!NativeWorker || NativeWorker.__bench) return;
  const b = window.__bench;
  class BenchWorker extends NativeWorker {
    constructor(...args) {
      super(...args);
      this.__sent = new Map();
      this.addEventListener("message", (e) => {
        const d = e.data;
        const s = d && this.__sent.get(d.id);
        if (!s) return;
        this.__sent.delete(d.id);
        const t = performance.now(), dt = t - s[1];
        const r = b.rpc[s[0]] || (b.rpc[s[0]] = {n: 0, ms: 0, max: 0, first: s[1], last: t});
        r.n += 1; r.ms += dt; r.max = Math.max(r.max, dt);
        r.first = Math.min(r.first, s[1]); r.last = Math.max(r.last, t);
      });
    }
    postMessage(msg, ...rest) {
      if (msg && msg.id !== undefined) this.__sent.set(msg.id, [msg.cmd, performance.now()]);
      return super.postMessage(msg, ...rest);
    }
  }
  BenchWorker.__bench = true;
  window.Worker = BenchWorker;
})();
"""

# Evaluated in the engine's worker once it is ready: per command, the handler's time, the Python call
# (JSON.stringify of the request .. JSON.parse of the reply: worker.mjs's call()), WORKERFS reads
# (FileReaderSync, inside the Python call) and Blob.arrayBuffer (the index prefix), and postMessage.
WORKER_TIMER = """
async () => {
  const now = () => performance.now();
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; typeof self.onmessage !== "function"; i++) {  // the module has not run yet
    if (i > 1200) return {error: "the worker never set onmessage"};
    await sleep(50);
  }
  const PROBE = "__bench_ready";
  if (!self.__bench) {
    const b = self.__bench = {cmds: {}, python: {n: 0, ms: 0}, reads: {n: 0, ms: 0, bytes: 0},
                              blobReads: {n: 0, ms: 0, bytes: 0}, post: {n: 0, ms: 0}};
    const add = (o, ms, bytes) => { o.n += 1; o.ms += ms; if (bytes !== undefined) o.bytes += bytes; };
    const readSync = FileReaderSync.prototype.readAsArrayBuffer;
    FileReaderSync.prototype.readAsArrayBuffer = function (blob) {
      const t = now(); const r = readSync.call(this, blob); add(b.reads, now() - t, r.byteLength); return r;
    };
    const readAsync = Blob.prototype.arrayBuffer;
    Blob.prototype.arrayBuffer = async function () {
      const t = now(); const r = await readAsync.call(this);
      add(b.blobReads, now() - t, r.byteLength); return r;
    };
    const stringify = JSON.stringify, parse = JSON.parse;
    let callStart = null;
    JSON.stringify = function (...a) {
      const r = stringify.apply(this, a);
      if (a[0] && typeof a[0] === "object" && "cmd" in a[0]) callStart = now();
      return r;
    };
    JSON.parse = function (...a) {
      if (callStart !== null) { add(b.python, now() - callStart); callStart = null; }
      return parse.apply(this, a);
    };
    const starts = new Map();
    const handler = self.onmessage;
    self.onmessage = (e) => {
      const id = e.data && e.data.id;
      if (id !== undefined && id !== PROBE) starts.set(id, [e.data.cmd, now()]);
      return handler.call(self, e);
    };
    const post = self.postMessage.bind(self);
    self.postMessage = (msg, ...rest) => {
      if (msg && msg.id === PROBE) { b.readyAt = now(); if (b.onReady) b.onReady(); return; }
      const t = now();
      const s = msg && starts.get(msg.id);
      if (s) {
        starts.delete(msg.id);
        const c = b.cmds[s[0]] || (b.cmds[s[0]] = {n: 0, ms: 0});
        add(c, t - s[1]);
      }
      const r = post(msg, ...rest);
      add(b.post, now() - t);
      return r;
    };
  }
  // Wait until the engine is loaded: an "init" of our own, answered once it is (and not passed on).
  const b = self.__bench;
  if (b.readyAt === undefined) {
    const answered = new Promise((resolve) => { b.onReady = resolve; });
    self.onmessage(new MessageEvent("message", {data: {id: PROBE, cmd: "init"}}));
    if (await Promise.race([answered.then(() => true), sleep(180000).then(() => false)]) !== true) {
      return {error: "the engine did not load in 180 s"};
    }
  }
  return {readyAt: b.readyAt, timeOrigin: performance.timeOrigin};
}
"""

# The worker's figures so far, and zeroed counters for the next step.
WORKER_TAKE = """
() => {
  const b = self.__bench, taken = JSON.parse(JSON.stringify(b));
  for (const k of ["python", "reads", "blobReads", "post"]) b[k] = {n: 0, ms: 0, bytes: 0};
  b.cmds = {};
  return taken;
}
"""

PROGRESS = """
() => ({state: document.body.dataset.state, index: document.getElementById("index-progress").textContent,
        progress: document.getElementById("progress-text").textContent,
        engine: document.getElementById("engine-status").textContent,
        serviceWorker: !!(navigator.serviceWorker && navigator.serviceWorker.controller),
        frames: [...document.querySelectorAll("iframe")].map((f) => f.src),
        rpc: window.__bench && window.__bench.rpc})
"""

RESOURCES = """
() => performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation"))
  .map((e) => ({name: e.name, transfer: e.transferSize, body: e.decodedBodySize}))
"""
