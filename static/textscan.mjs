// The background text scan (issue 14): after indexing, every frame of every image is looked at for burned-in
// text, series the review rule marks at risk first (series.pixelReview), then the rest; what it finds
// becomes the image's suggestions (suggestions.mjs) for the reviewer to accept or dismiss.
//
// Nothing heavy runs on the main thread: a frame is read (and decoded) by an engine worker
// (engine.scanImage, as the viewer gets it, kept apart from the viewer's file, and made into the samples
// the CLI's finder sees: text_samples.mjs), its samples are handed,
// transferred, to the text worker (text_worker.mjs: `load` the models once, `find` -> boxes, with the
// `text` each box reads once recognition is there), and the header match runs in the engine
// (engine.textMatches, the CLI's matcher). The viewer goes first: a scan request goes only to an engine
// worker with nothing else to do (engines.mjs), and the scan waits while files are indexed or written.
// Progress, time per frame and Cancel are shown; a cancelled scan leaves the rest "not looked at" (said on
// their series), an image that cannot be looked at is named with the reason.
import { framesOf } from "./checks.mjs";
import { engine, workerItem } from "./engines.mjs";
import { $, hooks, refreshState, state, throttled } from "./page.mjs";
import { scheduleRender, seriesInOrder } from "./studylist.mjs";
import { applyMatches, mergeFrames } from "./suggestions.mjs";
import { WorkerClient } from "./worker-client.mjs";

const WAIT_MS = 300; // while the engine workers are needed for indexing or a run
// The buttons count the included images not looked at yet (download.mjs): recounted at most once a second.
const refreshButtons = throttled(refreshState, 1000);

// The text worker, started on the first scan (the models load then, not with the page). Its commands:
// text_worker.mjs (`load`, `find`).
class TextFinder extends WorkerClient {
  constructor() {
    super(new URL("./text_worker.mjs", import.meta.url));
    this.ready = this.send("load");
  }

  async find(s) {
    await this.ready;
    return this.send("find", s, [s.samples.buffer]);
  }
}

let finder = null;
// The scan of this session: one at a time. state.textScan is what the list and the review read.
const scan = { running: false, cancelled: false, done: 0, total: 0, frames: 0, ms: 0 };
state.textScan = { status: "idle", reason: "" }; // idle, running, cancelled, done, unavailable

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Names a dropped file for the engine's kept file (as the viewer names it; another slot).
export function fileKey(inst) {
  const f = inst.file;
  return [inst.header.SOPInstanceUID, inst.name, f.size, f.lastModified, inst.member || ""].join("|");
}

// What is left to look at: the series open in the review first (its check waits for the scan: checks.mjs),
// then the series at risk, then the rest, in list order within each group.
function queue() {
  const order = seriesInOrder();
  const open = order.filter((s) => s.reviewing);
  const risky = order.filter((s) => s.pixelReview && !s.reviewing);
  const rest = order.filter((s) => !s.pixelReview && !s.reviewing);
  return [...open, ...risky, ...rest].flatMap((series) => series.instances.filter((inst) => !inst.textScan
    && inst.header.Rows && !inst.failure));
}

// Every frame of one image; identical consecutive frames (a still cine) are read once.
async function scanInstance(inst) {
  const item = workerItem(inst);
  const key = fileKey(inst);
  const found = [];
  let frames = framesOf(inst);
  let previous = null;
  for (let f = 0; f < frames; f++) {
    if (scan.cancelled) return false;
    while (state.busy && !scan.cancelled) await sleep(WAIT_MS); // indexing or a run needs the workers
    const started = performance.now();
    const reply = await engine.scanImage(item, f, key);
    if (reply.status !== "ok") throw new Error(reply.reason || reply.status);
    frames = reply.image.frames;
    const data = reply.frame.data;
    if (previous && sameBytes(previous.data, data)) {
      found.push({ frame: f + 1, boxes: previous.boxes });
    } else {
      const { boxes } = await finder.find({ ...reply.samples, image: key }); // samples: text_samples.mjs
      found.push({ frame: f + 1, boxes });
      previous = { data, boxes };
    }
    scan.frames += 1;
    scan.ms += performance.now() - started;
    showProgress();
  }
  const suggestions = mergeFrames(String(inst.header.SOPInstanceUID || ""), found, frames);
  const readings = [...new Set(suggestions.flatMap((s) => s.readings))];
  if (readings.length) {
    const reply = await engine.textMatches(item, readings, key);
    if (reply.status !== "ok") throw new Error(`the header match failed: ${reply.reason || reply.status}`);
    applyMatches(suggestions, readings, reply);
  }
  inst.textScan = { status: "done", suggestions };
  return true;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The scan found something in an image: its series is looked at again by a person before it goes.
function found(inst) {
  const series = state.series.get(inst.seriesKey);
  if (series && series.checked && inst.textScan.suggestions.length) {
    series.checked = false; // checked before the text was found: the suggestions must be decided first
    series.textAfterCheck = true;
    state.included.delete(series.key);
  }
  scheduleRender(); // the series' flags
  refreshButtons(); // the buttons say how many included images are not looked at yet (download.mjs)
  if (hooks.textScanned) hooks.textScanned(inst);
}

// Start (or resume) looking at every image not looked at yet. Called once indexing ends.
export async function startTextScan() {
  if (scan.running) return;
  scan.running = true;
  scan.cancelled = false;
  state.textScan = { status: "running", reason: "" };
  scan.done = 0;
  scan.total = queue().length;
  scan.loading = !finder;
  showProgress();
  try {
    finder ??= new TextFinder();
    await finder.ready;
  } catch (err) {
    finder = null;
    scan.running = false;
    state.textScan = { status: "unavailable", reason: String(err.message || err) };
    showProgress();
    scheduleRender();
    if (hooks.textScanned) hooks.textScanned(null);
    return;
  } finally {
    scan.loading = false;
  }
  showProgress();
  for (;;) {
    const inst = queue()[0];
    if (!inst || scan.cancelled) break;
    scan.total = scan.done + queue().length; // files dropped meanwhile join the queue
    try {
      if (!(await scanInstance(inst))) break;
    } catch (err) {
      inst.textScan = { status: "failed", reason: String(err.message || err), suggestions: [] };
    }
    scan.done += 1;
    found(inst);
    showProgress();
  }
  scan.running = false;
  state.textScan = { status: scan.cancelled ? "cancelled" : "done", reason: "" };
  showProgress();
  scheduleRender(); // "not looked at" on the series a cancelled scan left
  refreshState(); // and on the buttons
  if (hooks.textScanned) hooks.textScanned(null);
}

export function cancelTextScan() {
  scan.cancelled = true;
}

// "Looking for text in images: 12 of 40 · 0.3 s a frame · Cancel"
function showProgress() {
  const line = $("#text-scan");
  if (!line) return;
  line.hidden = false;
  const perFrame = scan.loading ? " · loading the text finder"
    : scan.frames ? ` · ${(scan.ms / scan.frames / 1000).toFixed(1)} s a frame` : "";
  const st = state.textScan.status;
  line.dataset.status = st;
  const button = (label, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  };
  if (st === "running") {
    line.replaceChildren(`Looking for text in images: ${scan.done} of ${scan.total}${perFrame} · `,
      button("Cancel", cancelTextScan));
  } else if (st === "cancelled") {
    const left = queue().length;
    line.replaceChildren(`Looking for text cancelled: ${left} image(s) not looked at (said on their series). `,
      button("Look for text again", startTextScan));
  } else if (st === "unavailable") {
    line.replaceChildren(`The text finder could not start, so no image was looked at for text: check them `
      + `yourself in the viewer. (${state.textScan.reason}) `, button("Try again", startTextScan));
  } else if (st === "done") {
    const images = [...state.series.values()].flatMap((s) => s.instances).filter((i) => i.textScan);
    const withText = images.filter((i) => i.textScan.suggestions?.length).length;
    line.replaceChildren(`Looked for text in ${images.length} image(s)${perFrame}: found in ${withText}.`);
  }
}
