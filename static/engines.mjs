// The engine workers (worker.mjs, one per core, at most 4) and the one way to call them: the typed
// functions of `engine` below, one per command of protocol.mjs. Page modules never name a command.
import { fatal } from "./page.mjs";
import { Command, checkCommand } from "./protocol.mjs";
import { WorkerClient } from "./worker-client.mjs";
// One worker per core (at most 4): the first starts at page load and decides "ready"; the others start
// once it is ready, so they do not slow the cold start. The wasm heap grows to about twice the largest
// file and never shrinks (browser-runtime notes), so a worker is replaced after a very large file.
const RECYCLE_AFTER_BYTES = 128 * 1024 * 1024;
const POOL_SIZE = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));

class Engine extends WorkerClient {
  constructor() {
    super(new URL("./worker.mjs", import.meta.url), (message) => fatal(`the engine's worker failed: ${message}`));
    this.isReady = false;
    this.ready = this.send(Command.INIT).then((info) => { this.isReady = true; return info; });
  }

  send(cmd, payload = {}) {
    return super.send(checkCommand(cmd), payload);
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

async function rpc(cmd, payload = {}) {
  const worker = pickEngine();
  try {
    return await worker.send(cmd, payload);
  } finally {
    if (cmd === Command.DEIDENTIFY && payload.item.size > RECYCLE_AFTER_BYTES && !worker.retiring) retire(worker);
    reapRetired();
  }
}

// Background work (the text scan) goes only to a worker with nothing to do, and waits for one: the viewer's
// requests and a run's are never queued behind it (one worker may be busy with the viewer meanwhile).
const IDLE_POLL_MS = 50;
async function rpcWhenIdle(cmd, payload) {
  for (;;) {
    const idle = engines.find((e) => e.isReady && !e.retiring && e.load === 0);
    if (idle) {
      try {
        return await idle.send(cmd, payload);
      } finally {
        reapRetired();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
  }
}

// The engine's commands (protocol.mjs), typed: items are workerItem(...), settings engineSettings(),
// pixels review.pixelEdit(...).
export const engine = Object.freeze({
  /** @returns {Promise<{profiles: object[], options: object[], exclusive: string[][]}>} */
  describe: () => rpc(Command.DESCRIBE),
  /** @param {string} text a key file's text */
  checkKey: (text) => rpc(Command.KEY_CHECK, { text }),
  /** @param {string} text a regions file's text @param {string} name its name, for messages */
  checkRegions: (text, name) => rpc(Command.REGIONS_CHECK, { text, name }),
  /** @param {File} file a dropped zip archive */
  zipList: (file) => rpc(Command.ZIP_LIST, { file }),
  /** @param {import("./protocol.mjs").Item[]} items */
  index: (items) => rpc(Command.INDEX, { items }),
  /** @param {import("./protocol.mjs").Item} item */
  digest: (item) => rpc(Command.DIGEST, { item }),
  /** @param {import("./protocol.mjs").Item} item @param {object} settings @param {object} pixels */
  plan: (item, settings, pixels) => rpc(Command.PLAN, { item, settings, pixels }),
  /** @param {import("./protocol.mjs").Item} item @param {number} frame 0-based @param {string} [key] */
  image: (item, frame, key = "") => rpc(Command.IMAGE, { item, frame, key, slot: "view" }),
  /** The background text scan's frames: kept apart from the viewer's file in the worker (its own slot). */
  scanImage: (item, frame, key) => rpcWhenIdle(Command.IMAGE, { item, frame, key, slot: "scan" }),
  /** @param {import("./protocol.mjs").Item} item @param {string[]} texts read in its pixels @param {string} key */
  textMatches: (item, texts, key = "") => rpcWhenIdle(Command.TEXT_MATCHES, { item, texts, key }),
  /** @param {import("./protocol.mjs").Item} item @param {object} settings @param {object} pixels */
  deidentify: (item, settings, pixels) => rpc(Command.DEIDENTIFY, { item, settings, pixels }),
});


// What a worker needs to read an input: the dropped File, or a member of a dropped zip archive.
export function workerItem(entry) {
  return { file: entry.file, member: entry.member || null, size: entry.size ?? entry.file.size };
}
