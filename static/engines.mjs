// The engine workers (worker.mjs, one per core, at most 4) and the one way to call them: rpc().
import { fatal } from "./page.mjs";
// One worker per core (at most 4): the first starts at page load and decides "ready"; the others start
// once it is ready, so they do not slow the cold start. The wasm heap grows to about twice the largest
// file and never shrinks (browser-runtime notes), so a worker is replaced after a very large file.
const RECYCLE_AFTER_BYTES = 128 * 1024 * 1024;
const POOL_SIZE = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));

class Engine {
  constructor() {
    this.nextId = 0;
    this.waiting = new Map();
    this.worker = new Worker(new URL("./worker.mjs", import.meta.url), { type: "module" });
    this.worker.onmessage = ({ data }) => {
      const entry = this.waiting.get(data.id);
      if (!entry) return;
      this.waiting.delete(data.id);
      if (data.ok) entry.resolve(data.reply);
      else entry.reject(new Error(data.error));
    };
    this.worker.onerror = (event) => fatal(`the engine's worker failed: ${event.message || "unknown error"}`);
    this.isReady = false;
    this.ready = this.send("init").then((info) => { this.isReady = true; return info; });
  }

  send(cmd, payload = {}) {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, cmd, ...payload });
    });
  }

  get load() {
    return this.waiting.size;
  }

  terminate() {
    this.worker.terminate();
    for (const entry of this.waiting.values()) entry.reject(new Error("worker replaced"));
    this.waiting.clear();
  }
}

export const engines = [];

export async function startEngines() {
  engines.push(new Engine());
  const info = await engines[0].ready;
  for (let i = 1; i < POOL_SIZE; i++) engines.push(new Engine());
  return info;
}

// The least loaded worker that is ready (the first one queues requests until it is); never one retiring.
function pickEngine() {
  const live = engines.filter((e) => !e.retiring);
  const ready = live.filter((e) => e.isReady);
  if (!ready.length) return live[0] || engines[0];
  return ready.reduce((a, b) => (b.load < a.load ? b : a));
}

// A worker that handled a very large file is retired: it takes no new requests, finishes the ones it has
// (two are in flight per worker), and is then replaced by a fresh one.
function retire(engine) {
  engine.retiring = true;
  const replacement = new Engine();
  const i = engines.indexOf(engine);
  if (i >= 0) engines.splice(i + 1, 0, replacement);
  // For monitoring and tests: how many workers were replaced to give their memory back.
  document.body.dataset.enginesReplaced = String(Number(document.body.dataset.enginesReplaced || 0) + 1);
}

function reapRetired() {
  for (const engine of engines.filter((e) => e.retiring && e.load === 0)) {
    engine.terminate();
    engines.splice(engines.indexOf(engine), 1);
  }
}

export async function rpc(cmd, payload = {}) {
  const engine = pickEngine();
  try {
    return await engine.send(cmd, payload);
  } finally {
    if (cmd === "deidentify" && payload.item.size > RECYCLE_AFTER_BYTES && !engine.retiring) retire(engine);
    reapRetired();
  }
}


// What a worker needs to read an input: the dropped File, or a member of a dropped zip archive.
export function workerItem(entry) {
  return { file: entry.file, member: entry.member || null, size: entry.size ?? entry.file.size };
}
