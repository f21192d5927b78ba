// The page: collects dropped files, shows the study list and the engine's plan, streams the result as a
// zip. All de-identification happens in Python in the worker (worker.mjs -> anonymizer.browser_api);
// this file holds no de-identification logic.
import { makeZip } from "./vendor/client-zip.js";
import { Uploader, UploadError, checkEndpoint } from "./upload.mjs";
import { Viewer, thumbnail } from "./viewer.mjs";

const $ = (sel) => document.querySelector(sel);
const FIXED_DATE = new Date("2000-01-01T00:00:00Z"); // zip entry times carry no information
const INDEX_BATCH = 40;

// ---------------------------------------------------------------- engine workers
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

const engines = [];

async function startEngines() {
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
  const engine = pickEngine();
  try {
    return await engine.send(cmd, payload);
  } finally {
    if (cmd === "deidentify" && payload.item.size > RECYCLE_AFTER_BYTES && !engine.retiring) retire(engine);
    reapRetired();
  }
}

// ---------------------------------------------------------------- state
const state = {
  ready: false,
  busy: 0,
  files: [],        // {file, name (relative path, shown only on this page), size}
  skipped: [],      // {name, reason}
  series: new Map(), // SeriesInstanceUID -> {patientKey, studyUid, header, instances: [...], flags:Set}
  included: new Set(), // series keys
  settings: null,   // {profile, options, key}
  describe: null,
  cancel: false,
  indexing: 0,      // drops being indexed
  regions: [],      // the reviewer's regions: REGIONS.json entries (original UIDs), applied by the engine
};
let viewer = null;

function setState(value) {
  document.body.dataset.state = value;
}

function refreshState() {
  refreshUploadGate();
  if (document.body.dataset.state === "error") return;
  if (!state.ready) setState("loading");
  else if (state.busy > 0) setState("busy");
  else if (document.body.dataset.state === "busy" && state.finished) setState("done");
  else if (document.body.dataset.state !== "done") setState("ready");
}

function fatal(message) {
  setState("error");
  $("#engine-status").textContent = `Error: ${message}`;
}

async function busy(fn) {
  state.busy += 1;
  state.finished = false;
  refreshState();
  try {
    return await fn();
  } finally {
    state.busy -= 1;
    refreshState();
  }
}

// ---------------------------------------------------------------- settings and key
const KEY_STORE = "pacsbin-uploader-key";
const SETTINGS_STORE = "pacsbin-uploader-settings";

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function loadKey() {
  const stored = localStorage.getItem(KEY_STORE);
  if (stored) {
    try {
      const parsed = JSON.parse(stored);
      if (parsed.format === "pacsbin-uploader-key" && /^[0-9a-f]{64}$/.test(parsed.key)) return parsed.key;
    } catch { /* replaced below */ }
  }
  return newKey();
}

function newKey() {
  const key = hex(crypto.getRandomValues(new Uint8Array(32)));
  localStorage.setItem(KEY_STORE, keyFileText(key));
  return key;
}

function keyFileText(key) {
  return JSON.stringify({ format: "pacsbin-uploader-key", version: 1, key }) + "\n";
}

async function fingerprint(key) {
  const bytes = new Uint8Array(key.match(/../g).map((h) => parseInt(h, 16)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return hex(digest.slice(0, 8)).match(/..../g).join("-");
}

function saveSettings() {
  const { profile, options } = state.settings;
  localStorage.setItem(SETTINGS_STORE, JSON.stringify({ profile, options }));
}

function engineSettings() {
  return { profile: state.settings.profile, options: state.settings.options, key: state.settings.key };
}

async function renderSettings() {
  const box = $("#options");
  box.querySelectorAll("label").forEach((l) => l.remove());
  for (const option of state.describe.options) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = "option";
    input.value = option.name;
    input.checked = state.settings.options.includes(option.name);
    input.addEventListener("change", () => {
      if (input.checked) {
        // Options that cannot be combined (the engine says which): choosing one clears the others.
        for (const group of state.describe.exclusive.filter((g) => g.includes(option.name))) {
          for (const other of box.querySelectorAll("input")) {
            if (other !== input && group.includes(other.value)) other.checked = false;
          }
        }
      }
      const chosen = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      state.settings.options = chosen;
      saveSettings();
    });
    label.append(input, ` ${option.meaning} (${option.code})`);
    box.append(label);
  }
  for (const radio of document.querySelectorAll("input[name=profile]")) {
    radio.checked = radio.value === state.settings.profile;
  }
  $("#pacsbin-warning").hidden = state.settings.profile !== "pacsbin";
  $("#key-fingerprint").textContent = await fingerprint(state.settings.key);
}

function initSettings(describe) {
  state.describe = describe;
  const saved = JSON.parse(localStorage.getItem(SETTINGS_STORE) || "null");
  const defaults = describe.options.filter((o) => o.default).map((o) => o.name);
  state.settings = {
    profile: saved?.profile || "basic",
    options: saved?.options || defaults,
    key: loadKey(),
  };
  for (const radio of document.querySelectorAll("input[name=profile]")) {
    radio.addEventListener("change", () => {
      state.settings.profile = radio.value;
      saveSettings();
      renderSettings();
    });
  }
  $("#open-settings").addEventListener("click", async () => {
    const upload = uploadSettings();
    $("#upload-endpoint").value = upload.endpoint;
    $("#upload-token").value = upload.token;
    await renderSettings();
    $("#settings").showModal();
  });
  $("#key-export").addEventListener("click", () => {
    saveBlob(new Blob([keyFileText(state.settings.key)], { type: "application/json" }), "pacsbin-uploader-key.json");
  });
  $("#key-import").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const result = await rpc("call", { request: { cmd: "key_check", text: await file.text() } });
    if (result.status === "ok") {
      state.settings.key = result.key;
      localStorage.setItem(KEY_STORE, keyFileText(result.key));
      $("#key-message").textContent = "Key imported.";
    } else {
      $("#key-message").textContent = `Not imported: ${result.reason}`;
    }
    event.target.value = "";
    renderSettings();
  });
  $("#key-new").addEventListener("click", () => {
    if (!confirm("A new key maps every patient differently from before. Continue?")) return;
    state.settings.key = newKey();
    $("#key-message").textContent = "New key generated.";
    renderSettings();
  });
}

// ---------------------------------------------------------------- collecting files
// Files are indexed while the drop is still being walked: the walk yields items as it finds them.
function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function* walkEntry(entry, prefix) {
  if (entry.isFile) {
    yield { file: await fileOf(entry), name: prefix + entry.name };
    return;
  }
  if (!entry.isDirectory) return;
  const reader = entry.createReader();
  const inside = `${prefix}${entry.name}/`;
  for (;;) {
    const batch = await readEntries(reader); // at most 100 entries per call
    if (!batch.length) break;
    // The File objects of one batch are asked for at once (one at a time, the walk outlasted indexing).
    const files = await Promise.all(batch.filter((e) => e.isFile).map(fileOf));
    let k = 0;
    for (const child of batch) {
      if (child.isFile) yield { file: files[k++], name: inside + child.name };
    }
    for (const child of batch) if (child.isDirectory) yield* walkEntry(child, inside);
  }
}

// The entries must be taken from the DataTransfer inside the drop event, before anything is awaited.
function dropSource(dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry());
  const files = [...dataTransfer.files];
  return (async function* () {
    if (entries.some(Boolean)) {
      for (const entry of entries) if (entry) yield* walkEntry(entry, "");
    } else {
      for (const file of files) yield { file, name: file.name };
    }
  })();
}

function isZip(item) {
  return /\.zip$/i.test(item.name);
}

async function expandZip(item) {
  const listing = await rpc("zip_list", { file: item.file });
  if (listing.status !== "ok") {
    state.skipped.push({ name: item.name, reason: listing.reason || "unreadable zip archive" });
    return [];
  }
  // Members stay inside the archive; the worker reads each one when it needs it.
  return listing.members.map((member) => ({
    file: item.file, member: member.name, name: `${item.name}!${member.name}`, size: member.size,
  }));
}

// Index everything `source` (an iterable or async iterable of {file, name}) yields: batches go to the
// workers as soon as they fill; results are added as they come.
async function addFiles(source) {
  await busy(async () => {
    state.indexing += 1;
    const pending = [];
    let found = 0;
    let done = 0;
    let walking = true;
    let signal = Promise.withResolvers();
    const wake = () => {
      signal.resolve();
      signal = Promise.withResolvers();
    };
    const progress = () => {
      $("#index-progress").textContent = `Read ${done} of ${found} files${walking ? " found so far" : ""}…`;
    };
    const walk = (async () => {
      try {
        for await (const item of source) {
          const items = isZip(item) ? await expandZip(item) : [item];
          pending.push(...items);
          found += items.length;
          if (pending.length >= INDEX_BATCH) wake();
        }
      } catch (err) {
        state.skipped.push({ name: "(the dropped folder)", reason: `could not be read to the end: ${err.message || err}` });
      } finally {
        walking = false;
        wake();
      }
    })();
    const lane = async () => {
      for (;;) {
        if (pending.length < INDEX_BATCH && walking) {
          await signal.promise;
          continue;
        }
        if (!pending.length) return;
        const batch = pending.splice(0, INDEX_BATCH);
        const results = await rpc("index", { items: batch.map(workerItem) });
        results.forEach((result, k) => addIndexed(batch[k], result));
        done += batch.length;
        progress();
        scheduleRender();
      }
    };
    // Two batches in flight per worker: the next batch's prefixes are read while Python indexes this one.
    const lanes = Array.from({ length: 2 * Math.max(1, engines.length) }, lane);
    try {
      await Promise.all([walk, ...lanes]);
    } finally {
      state.indexing -= 1;
    }
    $("#index-progress").textContent = `${state.files.length} DICOM files in the list, ${state.skipped.length} skipped.`;
    renderStudies(); // now, with the message (a throttled render may still be waiting)
  });
}

function workerItem(entry) {
  return { file: entry.file, member: entry.member || null, size: entry.size ?? entry.file.size };
}

function addIndexed(item, result) {
  if (result.status !== "ok") {
    state.skipped.push({ name: item.name, reason: result.reason || result.status });
    return;
  }
  const h = result.header;
  const entry = {
    file: item.file, member: item.member || null, name: item.name, size: item.size ?? item.file.size,
    header: h, document: result.document,
  };
  state.files.push(entry);
  const key = h.SeriesInstanceUID || `no-series:${h.StudyInstanceUID}`;
  let series = state.series.get(key);
  if (!series) {
    series = {
      key,
      patientKey: `${h.PatientID}\u0000${h.PatientName}`,
      studyUid: h.StudyInstanceUID,
      header: h,
      instances: [],
      flags: new Set(),
      failed: new Map(), // file name -> why the engine refused it
      document: result.document,
    };
    state.series.set(key, series);
    // Encapsulated PDF/CDA: excluded by default. Images likely to hold burned-in text: excluded until a
    // person has checked them in the viewer (the review gate).
    if (!result.document && !result.pixel_review) state.included.add(key);
  }
  entry.seriesKey = key;
  series.instances.push(entry);
  for (const flag of result.flags) series.flags.add(flag);
  series.pixelReview = series.pixelReview || result.pixel_review;
}

// ---------------------------------------------------------------- study list
// While a drop is being indexed the list is redrawn a few times a second, not every frame: the main
// thread is needed for the walk and the workers' messages (2,000 files: 2.5 s of main-thread work).
const INDEXING_RENDER_MS = 250;
let renderPending = false;
let lastRender = 0;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  const wait = state.indexing ? Math.max(0, lastRender + INDEXING_RENDER_MS - performance.now()) : 0;
  setTimeout(() => requestAnimationFrame(() => {
    renderPending = false;
    lastRender = performance.now();
    renderStudies();
  }), wait);
}

// Patients by name, studies by date, series by number: the list keeps its order while files arrive
// (they are indexed in parallel, so they arrive in any order).
const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const byNumber = (a, b) => (parseFloat(a) || 0) - (parseFloat(b) || 0);

function groupTree() {
  const patients = new Map();
  const series = [...state.series.values()].sort((a, b) => byText(a.patientKey, b.patientKey)
    || byText(a.header.StudyDate, b.header.StudyDate) || byText(a.studyUid, b.studyUid)
    || byNumber(a.header.SeriesNumber, b.header.SeriesNumber) || byText(a.key, b.key));
  for (const s of series) {
    const h = s.header;
    if (!patients.has(s.patientKey)) patients.set(s.patientKey, { header: h, studies: new Map() });
    const studies = patients.get(s.patientKey).studies;
    if (!studies.has(s.studyUid)) studies.set(s.studyUid, { header: h, series: [] });
    studies.get(s.studyUid).series.push(s);
  }
  return patients;
}

function instanceOrder(a, b) {
  return byNumber(a.header.InstanceNumber, b.header.InstanceNumber) || byText(a.name, b.name);
}

// A file the engine refused (in review or in a run) is shown on its series; it is never in the output.
function markFailed(inst, reason) {
  inst.failure = reason;
  const series = state.series.get(inst.seriesKey);
  if (series) series.failed.set(inst.name, reason);
  scheduleRender();
}

function formatSize(bytes) {
  if (bytes > 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes > 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

function formatDate(da) {
  return /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}` : da;
}

// A series that must be looked at first cannot be ticked until it is checked in the viewer.
const gated = (s) => s.pixelReview && !s.checked;

function checkbox(label, seriesList) {
  const input = document.createElement("input");
  input.type = "checkbox";
  input.setAttribute("aria-label", label);
  input.disabled = seriesList.every(gated);
  seriesList = seriesList.filter((s) => !gated(s));
  const included = seriesList.filter((s) => state.included.has(s.key)).length;
  input.checked = seriesList.length > 0 && included === seriesList.length;
  input.indeterminate = included > 0 && included < seriesList.length;
  input.addEventListener("change", () => {
    for (const s of seriesList) {
      if (input.checked) state.included.add(s.key);
      else state.included.delete(s.key);
    }
    scheduleRender();
  });
  return input;
}

function row(cls, cells) {
  const tr = document.createElement("tr");
  tr.className = cls;
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell ?? "";
    tr.append(td);
  }
  return tr;
}

function renderStudies() {
  const body = $("#studies tbody");
  body.replaceChildren();
  const tree = groupTree();
  for (const [, patient] of tree) {
    const allSeries = [...patient.studies.values()].flatMap((s) => s.series);
    const name = patient.header.PatientName || "(no name)";
    const pid = patient.header.PatientID || "(no ID)";
    body.append(row("patient", [checkbox(`Include patient ${name}`, allSeries), `${name} — ${pid}`, "", "",
      String(allSeries.reduce((n, s) => n + s.instances.length, 0)), "", "", ""]));
    for (const [, study] of patient.studies) {
      const h = study.header;
      const desc = h.StudyDescription || "(no description)";
      body.append(row("study", [checkbox(`Include study ${desc}`, study.series), `Study: ${desc}`, "",
        formatDate(h.StudyDate), String(study.series.reduce((n, s) => n + s.instances.length, 0)), "", "", ""]));
      for (const series of study.series) {
        const sh = series.header;
        const label = `Series ${sh.SeriesNumber || ""} ${sh.SeriesDescription || ""}`.trim();
        const frames = series.instances.reduce((n, i) => n + (parseInt(i.header.NumberOfFrames, 10) || 1), 0);
        const size = series.instances.reduce((n, i) => n + i.size, 0);
        const title = document.createElement("span");
        title.textContent = label;
        for (const flag of series.flags) {
          const f = document.createElement("span");
          f.className = "flag";
          f.textContent = flag.split(":")[0];
          f.title = flag;
          title.append(" ", f);
        }
        if (gated(series)) {
          const f = document.createElement("span");
          f.className = "flag gate";
          f.textContent = "check the images before including";
          title.append(" ", f);
        } else if (series.pixelReview) {
          const f = document.createElement("span");
          f.className = "flag gate";
          f.textContent = "images checked";
          title.append(" ", f);
        }
        if (series.failed.size) {
          const f = document.createElement("span");
          f.className = "flag failed";
          f.textContent = `${series.failed.size} file(s) cannot be de-identified (left out)`;
          f.title = [...series.failed].map(([name, reason]) => `${name}: ${reason}`).join("\n");
          title.append(" ", f);
        }
        const cell = document.createElement("span");
        cell.className = "series-title";
        cell.append(thumbCanvas(series), title);
        const review = document.createElement("button");
        review.type = "button";
        review.textContent = "Review";
        review.setAttribute("aria-label", `Review header of ${label}`);
        review.addEventListener("click", () => openReview(series));
        body.append(row("series", [checkbox(`Include ${label}`, [series]), cell, sh.Modality,
          formatDate(sh.StudyDate), String(series.instances.length), String(frames), formatSize(size), review]));
      }
    }
  }
  $("#studies-section").hidden = state.series.size === 0 && state.skipped.length === 0;
  $("#output").hidden = state.series.size === 0;
  refreshUploadGate();
  $("#run").disabled = !state.ready || state.included.size === 0 || state.busy > 0;
  const skipped = $("#skipped");
  skipped.replaceChildren(...state.skipped.map((s) => {
    const li = document.createElement("li");
    li.textContent = `${s.name}: ${s.reason}`;
    return li;
  }));
  $("#skipped-box").hidden = state.skipped.length === 0;
  $("#skipped-summary").textContent = `${state.skipped.length} file(s) skipped`;
}

// ---------------------------------------------------------------- thumbnails
// One per series, made after indexing, one at a time (the workers are needed for the rest), kept.
const THUMB = 48;
// A series counts as seen once its thumbnail was on screen (the reviewer scrolled past it) or it was opened.
const seenWatcher = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    const series = state.series.get(entry.target.seriesKey);
    if (series && !series.seen) {
      series.seen = true;
      refreshUploadGate();
    }
    seenWatcher.unobserve(entry.target);
  }
}, { threshold: 0.5 });
const thumbQueue = [];
let thumbBusy = false;

function thumbCanvas(series) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = THUMB;
  canvas.className = "thumb";
  canvas.setAttribute("aria-hidden", "true");
  if (series.thumb) {
    seenWatcher.observe(canvas);
    canvas.seriesKey = series.key;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#111";
    ctx.fillRect(0, 0, THUMB, THUMB);
    ctx.drawImage(series.thumb, (THUMB - series.thumb.width) / 2, (THUMB - series.thumb.height) / 2);
  } else if (!series.thumbAsked && series.header.Rows) {
    series.thumbAsked = true;
    thumbQueue.push(series);
    setTimeout(nextThumb, 0);
  }
  return canvas;
}

async function nextThumb() {
  if (thumbBusy || state.indexing || state.busy || !thumbQueue.length) {
    if (thumbQueue.length && !thumbBusy) setTimeout(nextThumb, 500);
    return;
  }
  thumbBusy = true;
  const series = thumbQueue.shift();
  try {
    series.thumb = await thumbnail(rpc, workerItem(series.instances[0]), THUMB);
  } catch {
    series.thumb = null; // shown without one; the viewer says why when opened
  }
  thumbBusy = false;
  if (series.thumb) scheduleRender();
  nextThumb();
}

// ---------------------------------------------------------------- header review
let reviewSeries = null;
let reviewSteps = [];

async function openReview(series) {
  series.seen = true;
  refreshUploadGate();
  series.instances.sort(instanceOrder);
  reviewSeries = series;
  const sh = series.header;
  $("#review-series").textContent = `Series ${sh.SeriesNumber || ""} ${sh.SeriesDescription || ""} (${sh.Modality || "?"})`;
  const select = $("#review-instance");
  select.replaceChildren(...series.instances.map((inst, i) => {
    const opt = document.createElement("option");
    opt.value = String(i);
    opt.textContent = `Instance ${inst.header.InstanceNumber || i + 1}`;
    return opt;
  }));
  $("#review").hidden = false;
  await Promise.all([showPlan(0), viewer.open(series, series.instances[0])]);
  $("#review").scrollIntoView({ block: "start" });
}

// What the engine gets about one file's pixels: the regions that may apply to it (the engine matches
// size and frames), whether a person checked its series, and whether its pixel data is compressed (then
// the worker decodes it for the engine).
const UNCOMPRESSED = new Set(["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"]);
function pixelEdit(inst) {
  const h = inst.header;
  const regions = state.regions.filter((r) => r.sop_instance_uid === h.SOPInstanceUID
    || r.series_instance_uid === h.SeriesInstanceUID);
  const series = state.series.get(inst.seriesKey);
  return { regions, reviewed: Boolean(series && series.checked), compressed: !UNCOMPRESSED.has(h.TransferSyntaxUID) };
}

function regionsChanged() {
  if (reviewSeries && reviewSeries.checked) state.included.add(reviewSeries.key);
  scheduleRender();
  const i = Number($("#review-instance").value || 0);
  if (reviewSeries) showPlan(i);
}

async function showPlan(index) {
  const inst = reviewSeries.instances[index];
  const result = await rpc("plan", { item: workerItem(inst), settings: engineSettings(), pixels: pixelEdit(inst) });
  if (result.status !== "ok") {
    reviewSteps = [];
    markFailed(inst, result.reason);
    $("#review-counts").textContent = `Cannot de-identify this file: ${result.reason}`;
    $("#review-flags").replaceChildren();
    renderPlan();
    return;
  }
  reviewSteps = result.plan.steps;
  const c = result.plan.counts;
  $("#review-counts").textContent = `${c.changed} changed, ${c.removed} removed, ${c.kept} kept`;
  $("#review-flags").replaceChildren(...result.plan.flags.map((f) => {
    const li = document.createElement("li");
    li.textContent = f;
    return li;
  }));
  renderPlan();
}

function renderPlan() {
  const filter = $("#review-filter").value.trim().toLowerCase();
  const body = $("#review-table tbody");
  const rows = [];
  for (const s of reviewSteps) {
    const text = `${s.path} ${s.keyword} ${s.old} ${s.new ?? ""} ${s.action} ${s.rule}`.toLowerCase();
    if (filter && !text.includes(filter)) continue;
    const tr = row(s.new === null ? "X" : s.action, [s.path, s.keyword, s.old, s.new === null ? "(removed)" : s.new,
      s.action, s.rule]);
    rows.push(tr);
    if (rows.length >= 2000) break;
  }
  body.replaceChildren(...rows);
}

// ---------------------------------------------------------------- de-identify and download
function includedInstances() {
  const out = [];
  for (const series of state.series.values()) {
    if (state.included.has(series.key) && !gated(series)) out.push(...series.instances);
  }
  return out;
}

// De-identified outputs in input order. Two requests in flight per worker (each worker reads the next file
// while Python works on the current one), consumed in order, so at most that many outputs wait in memory.
async function* deidentifiedStream(instances) {
  const settings = engineSettings();
  const inFlight = [];
  let launched = 0;
  const launch = () => {
    const inst = instances[launched++];
    inFlight.push(rpc("deidentify", { item: workerItem(inst), settings, pixels: pixelEdit(inst) }));
  };
  for (let i = 0; i < instances.length; i++) {
    if (state.cancel) throw new Error("cancelled");
    while (launched < instances.length && inFlight.length < 2 * Math.max(1, engines.length)) launch();
    yield { index: i, inst: instances[i], reply: await inFlight.shift() };
  }
}

async function* zipEntries(instances, report, progress) {
  for await (const { index, inst, reply } of deidentifiedStream(instances)) {
    const r = reply.result;
    if (r.status === "ok") {
      report.files.push({ input: index + 1, status: "done", sop_instance_uid: r.sop, counts: r.counts, flags: r.flags,
        codes: r.codes });
      yield { name: `${r.study}/${r.series}/${r.sop}.dcm`, input: reply.bytes, lastModified: FIXED_DATE };
    } else {
      report.files.push({ input: index + 1, status: r.status, reason: r.reason });
      markFailed(inst, r.reason);
      progress.errors.push(`${inst.name}: ${r.reason}`);
    }
    progress.done += 1;
    progress.bytes += inst.size;
    progress.update();
  }
  report.finished = true;
  yield {
    name: "deidentification-report.json",
    input: JSON.stringify(report, null, 1),
    lastModified: FIXED_DATE,
  };
}

function makeProgress(instances) {
  const total = instances.length;
  const totalBytes = instances.reduce((n, i) => n + i.size, 0);
  const start = performance.now();
  const progress = {
    done: 0, bytes: 0, errors: [],
    update() {
      $("#progress").max = total;
      $("#progress").value = progress.done;
      const elapsed = (performance.now() - start) / 1000;
      const rate = progress.bytes / Math.max(elapsed, 0.001);
      const left = rate > 0 ? (totalBytes - progress.bytes) / rate : 0;
      $("#progress-text").textContent = `${progress.done} of ${total} files, ${formatSize(progress.bytes)} of `
        + `${formatSize(totalBytes)}, about ${Math.ceil(left)} s left`;
      $("#errors").replaceChildren(...progress.errors.map((e) => {
        const li = document.createElement("li");
        li.textContent = e;
        return li;
      }));
    },
  };
  return progress;
}

function saveBlob(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

// Stream through the service worker (sw.js) into a download. Resolves false, having consumed nothing, when
// the service worker does not take the download within a few seconds (not controlling yet, restarted).
async function streamThroughServiceWorker(stream, filename) {
  const controller = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (!controller) return false;
  const id = crypto.randomUUID();
  const channel = new MessageChannel();
  let reader = null;
  let started = false;
  const finished = new Promise((resolve, reject) => {
    const timer = setTimeout(() => { if (!started) resolve(false); }, 5000);
    channel.port1.onmessage = async ({ data }) => {
      started = true;
      clearTimeout(timer);
      if (data.registered) {
        const frame = document.createElement("iframe");
        frame.hidden = true;
        frame.src = `download/${id}`;
        document.body.append(frame);
        setTimeout(() => frame.remove(), 60_000);
        return;
      }
      if (data.cancel) {
        if (reader) reader.cancel();
        reject(new Error("download cancelled"));
        return;
      }
      try {
        reader = reader || stream.getReader();
        const { done, value } = await reader.read();
        if (done) {
          channel.port1.postMessage({ done: true });
          resolve(true);
        } else {
          channel.port1.postMessage({ chunk: value }, [value.buffer]);
        }
      } catch (err) {
        channel.port1.postMessage({ error: String(err.message || err) });
        reject(err);
      }
    };
  });
  controller.postMessage({ type: "download", id, filename }, [channel.port2]);
  return finished;
}

async function streamDownload(stream, filename) {
  if (await streamThroughServiceWorker(stream, filename)) return;
  // No service worker took it (e.g. a private window): the zip is built in memory instead.
  saveBlob(await new Response(stream).blob(), filename);
}

async function run() {
  const instances = includedInstances();
  if (!instances.length) return;
  state.cancel = false;
  $("#cancel").hidden = false;
  $("#progress").hidden = false;
  const progress = makeProgress(instances);
  progress.update();
  const report = {
    product: "Pacsbin Uploader",
    profile: state.settings.profile,
    options: state.settings.options,
    key_fingerprint: await fingerprint(state.settings.key),
    files: [],
  };
  await busy(async () => {
    try {
      await streamDownload(makeZip(zipEntries(instances, report, progress)), "pacsbin-deidentified.zip");
      const done = report.files.filter((f) => f.status === "done").length;
      $("#progress-text").textContent = `Done: ${done} de-identified, ${instances.length - done} failed. `
        + "The zip is in your downloads.";
      state.finished = true;
    } catch (err) {
      $("#progress-text").textContent = state.cancel ? "Cancelled: nothing was saved." : `Stopped: ${err.message}`;
    } finally {
      $("#cancel").hidden = true;
    }
  });
}

// ---------------------------------------------------------------- upload
const UPLOAD_STORE = "pacsbin-uploader-upload";

function uploadSettings() {
  return { endpoint: "/dicomweb", token: "", ...JSON.parse(localStorage.getItem(UPLOAD_STORE) || "{}") };
}

// Upload only after review: every included series with images was seen (thumbnail on screen, or opened);
// the ones at risk of burned-in text were checked (they cannot be included otherwise).
function unseenSeries() {
  return [...state.series.values()].filter((s) => state.included.has(s.key) && !gated(s) && s.header.Rows && !s.seen);
}

function refreshUploadGate() {
  const unseen = unseenSeries();
  const { token } = uploadSettings();
  const included = [...state.series.values()].some((s) => state.included.has(s.key) && !gated(s));
  $("#upload").hidden = state.series.size === 0;
  $("#upload-run").disabled = !state.ready || state.busy > 0 || !included || unseen.length > 0 || !token;
  $("#upload-gate").textContent = !token ? "Set the upload token in Settings first."
    : unseen.length ? `${unseen.length} included series not seen yet: scroll through the list or open them.` : "";
}

async function runUpload() {
  const instances = includedInstances();
  if (!instances.length) return;
  const { endpoint, token } = uploadSettings();
  const started = performance.now();
  const totalBytes = instances.reduce((n, i) => n + i.size, 0);
  const perStudy = new Map();
  let done = 0;
  let bytes = 0;
  const failed = [];
  let uploader;
  try {
    uploader = new Uploader({ endpoint, token, onProgress: () => {} });
  } catch (err) {
    $("#upload-text").textContent = `Not uploaded: ${err.message}`;
    return;
  }
  state.cancel = false;
  $("#upload-progress").hidden = false;
  $("#upload-progress").max = instances.length;
  const show = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = bytes / Math.max(seconds, 0.001);
    const left = rate > 0 ? Math.ceil((totalBytes - bytes) / rate) : 0;
    $("#upload-progress").value = done;
    $("#upload-text").textContent = `${done} of ${instances.length} files, ${formatSize(bytes)} of ${formatSize(totalBytes)}`
      + ` (${formatSize(rate)}/s), about ${left} s left`;
    $("#upload-report").replaceChildren(...[...perStudy].map(([study, n]) => {
      const li = document.createElement("li");
      li.textContent = `Study ${study}: ${n.files} file(s), ${formatSize(n.bytes)} de-identified and sent`;
      return li;
    }));
  };
  await busy(async () => {
    try {
      for await (const { inst, reply } of deidentifiedStream(instances)) {
        const r = reply.result;
        if (r.status === "ok") {
          await uploader.add({ study: r.study, sop: r.sop, bytes: reply.bytes });
          const n = perStudy.get(r.study) || { files: 0, bytes: 0 };
          n.files += 1;
          n.bytes += reply.bytes.byteLength;
          perStudy.set(r.study, n);
        } else {
          markFailed(inst, r.reason);
          failed.push(`${inst.name}: ${r.reason}`);
        }
        done += 1;
        bytes += inst.size;
        show();
      }
      const report = await uploader.finish();
      const lines = [
        `${report.stored.length} stored`, `${report.unchanged.length} already on the server unchanged (not sent again)`,
        `${report.refused.length} refused by the server`, `${report.errors.length + failed.length} not sent (errors)`,
      ];
      $("#upload-text").textContent = `Upload finished: ${lines.join(", ")}.`;
      $("#upload-report").replaceChildren(...[
        ...report.refused.map((x) => `refused ${x.sop}: ${x.reason}`),
        ...report.errors.map((x) => `not sent ${x.sop}: ${x.reason}`),
        ...failed.map((x) => `not de-identified ${x}`),
      ].map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
        return li;
      }));
      state.finished = true;
    } catch (err) {
      $("#upload-text").textContent = err instanceof UploadError || state.cancel
        ? `Stopped: ${err.message}` : `Stopped: ${err.message || err}`;
    }
  });
  refreshUploadGate();
}

// ---------------------------------------------------------------- wiring
function wire() {
  const zone = $("#drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    addFiles(dropSource(event.dataTransfer));
  });
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      $("#pick-files").click();
    }
  });
  for (const id of ["#pick-files", "#pick-folder"]) {
    $(id).addEventListener("change", (event) => {
      const items = [...event.target.files].map((file) => ({ file, name: file.webkitRelativePath || file.name }));
      event.target.value = "";
      addFiles(items);
    });
  }
  $("#run").addEventListener("click", run);
  $("#upload-run").addEventListener("click", runUpload);
  for (const id of ["#upload-endpoint", "#upload-token"]) {
    $(id).addEventListener("change", () => {
      const endpoint = $("#upload-endpoint").value.trim() || "/dicomweb";
      try {
        checkEndpoint(endpoint);
      } catch (err) {
        $("#upload-gate").textContent = err.message;
        return;
      }
      localStorage.setItem(UPLOAD_STORE, JSON.stringify({ endpoint, token: $("#upload-token").value.trim() }));
      refreshUploadGate();
    });
  }
  $("#cancel").addEventListener("click", () => { state.cancel = true; });
  $("#review-instance").addEventListener("change", (e) => {
    const i = Number(e.target.value);
    showPlan(i);
    viewer.open(reviewSeries, reviewSeries.instances[i]);
  });
  $("#regions-export").addEventListener("click", () => {
    const blob = new Blob([JSON.stringify(state.regions, null, 1)], { type: "application/json" });
    saveBlob(blob, "regions.json");
  });
  $("#regions-import").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const result = await rpc("call", { request: { cmd: "regions_check", text: await file.text(), name: file.name } });
    if (result.status !== "ok") {
      $("#regions-message").textContent = `Not imported: ${result.reason}`;
      return;
    }
    const known = new Set(state.regions.map((r) => JSON.stringify(r)));
    const fresh = result.regions.filter((r) => !known.has(JSON.stringify(r)));
    state.regions.push(...fresh);
    $("#regions-message").textContent = `${fresh.length} region(s) imported.`;
    regionsChanged();
    if (reviewSeries) viewer.changed();
  });
  $("#review-filter").addEventListener("input", renderPlan);
  $("#review-close").addEventListener("click", () => { $("#review").hidden = true; });
}

async function start() {
  wire();
  viewer = new Viewer({ rpc, workerItem, regions: state.regions, onChange: regionsChanged });
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("sw.js").catch(() => { /* falls back to in-memory zips */ });
  }
  try {
    const info = await startEngines();
    initSettings(await rpc("call", { request: { cmd: "describe" } }));
    state.ready = true;
    $("#engine-status").textContent = `Ready (engine loaded in ${(info.ms / 1000).toFixed(1)} s)`;
    refreshState();
    scheduleRender();
  } catch (err) {
    fatal(String(err.message || err));
  }
}

start();
