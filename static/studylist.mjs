// The study list: patients, studies and series with checkboxes, risk flags, the review gate and a thumbnail
// per series (which also tells when a series was seen).
import { gated, pixelStatus } from "./checks.mjs";
import { versionNotes, versionsSignature } from "./duplicates.mjs";
import { workerItem } from "./engines.mjs";
import { $, cut, formatDate, formatSize, hooks, isolated, onRefresh, refreshState, state } from "./page.mjs";
import { textStatus } from "./suggestions.mjs";
import { thumbnail } from "./viewer.mjs";

export { gated };

// While a drop is being indexed the list is redrawn a few times a second, not every frame, and never
// more than a tenth of the time: the main thread is needed for the walk and the workers' messages, and a
// list of 20,000 files in hundreds of series takes long to redraw.
const INDEXING_RENDER_MS = 250;
const INDEXING_RENDER_SHARE = 10;
let renderPending = false;
let renderTimer = 0;
let renderFrame = 0;
let lastRender = 0;
let lastRenderCost = 0;
export function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  const gap = Math.max(INDEXING_RENDER_MS, INDEXING_RENDER_SHARE * lastRenderCost);
  const wait = state.indexing ? Math.max(0, lastRender + gap - performance.now()) : 0;
  renderTimer = setTimeout(() => {
    renderFrame = requestAnimationFrame(renderStudies);
  }, wait);
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

// Every series in the order the list shows them (next / previous series in the review).
export function seriesInOrder() {
  return [...groupTree().values()].flatMap((p) => [...p.studies.values()].flatMap((s) => s.series));
}

export function seriesLabel(series) {
  const sh = series.header;
  return cut(`Series ${sh.SeriesNumber || ""} ${sh.SeriesDescription || ""}`.trim().replace(/\s+/g, " "));
}

export function instanceOrder(a, b) {
  return byNumber(a.header.InstanceNumber, b.header.InstanceNumber) || byText(a.name, b.name);
}

// A file the engine refused (in review or in a run) is shown on its series; it is never in the output.
export function markFailed(inst, reason) {
  inst.failure = reason;
  const series = state.series.get(inst.seriesKey);
  if (series) series.failed.set(inst.name, reason);
  scheduleRender();
}

function checkbox(label, seriesList) {
  const input = document.createElement("input");
  input.type = "checkbox";
  input.setAttribute("aria-label", label);
  input.addEventListener("change", () => {
    for (const s of seriesList) {
      if (gated(s)) continue; // not until its images are checked
      if (input.checked) state.included.add(s.key);
      else state.included.delete(s.key);
    }
    scheduleRender();
  });
  return input;
}

// Set in place on every redraw (a kept row keeps its checkbox, and the focus on it).
function setCheckbox(input, seriesList) {
  const open = seriesList.filter((s) => !gated(s));
  const included = open.filter((s) => state.included.has(s.key)).length;
  const want = {
    disabled: open.length === 0,
    checked: open.length > 0 && included === open.length,
    indeterminate: included > 0 && included < open.length,
  };
  for (const [k, v] of Object.entries(want)) if (input[k] !== v) input[k] = v; // unchanged: no restyle
}

// Rows are kept between redraws and rebuilt only when what they show changed (`signature`): rebuilding
// the whole list made every redraw lay out and paint hundreds of rows again (~200 ms at 20,000 files).
let drawn = new Map(); // row key -> {signature, tr, input, seriesList}

function listRow(live, key, signature, label, seriesList, build) {
  let entry = drawn.get(key);
  if (!entry || entry.signature !== signature) {
    const input = checkbox(label, seriesList);
    entry = { signature, tr: build(input), input, seriesList };
  }
  setCheckbox(entry.input, entry.seriesList);
  live.set(key, entry);
  return entry.tr;
}

export function row(cls, cells) {
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


export function renderStudies() {
  // Whoever calls it, a redraw now makes a scheduled one pointless (and it would replace rows under the
  // user's pointer for nothing).
  clearTimeout(renderTimer);
  cancelAnimationFrame(renderFrame);
  renderPending = false;
  const started = performance.now();
  try {
    drawStudies();
  } finally {
    lastRender = performance.now();
    lastRenderCost = lastRender - started;
    // The style, layout and paint that follow cost more than the script with a long list (measured: 24 ms
    // of script, 150 ms more at 20,000 files): a task queued now runs after them.
    setTimeout(() => {
      lastRender = performance.now();
      lastRenderCost = lastRender - started;
    }, 0);
  }
}

function seriesRow(series, label, input) {
  const sh = series.header;
  const title = document.createElement("span");
  title.append(isolated(label));
  for (const flag of series.flags) {
    const f = document.createElement("span");
    f.className = "flag";
    f.textContent = flag.split(":")[0];
    f.title = flag;
    title.append(" ", f);
  }
  const text = textStatus(series, state.regions);
  for (const [cls, label, detail] of textFlags(text)) {
    const f = document.createElement("span");
    f.className = cls;
    f.textContent = label;
    if (detail) f.title = detail;
    title.append(" ", f);
  }
  if (gated(series) || series.pixelReview || text.found) {
    const f = document.createElement("span");
    f.className = "flag gate";
    f.textContent = gated(series) ? "check the images before including" : "images checked";
    title.append(" ", f);
  }
  const unshown = pixelStatus(series).unshown.length;
  if (unshown) {
    const f = document.createElement("span");
    f.className = "flag failed";
    f.textContent = `${unshown} image(s) cannot be shown`;
    title.append(" ", f);
  }
  if (series.failed.size) {
    const f = document.createElement("span");
    f.className = "flag failed";
    f.textContent = `${series.failed.size} file(s) cannot be de-identified (left out)`;
    f.title = [...series.failed].map(([name, reason]) => `${name}: ${reason}`).join("\n");
    title.append(" ", f);
  }
  title.append(...versionNotes(series, renderStudies)); // several versions of one image: which is kept
  const cell = document.createElement("span");
  cell.className = "series-title";
  cell.append(thumbCanvas(series), title);
  const review = document.createElement("button");
  review.type = "button";
  review.className = "review";
  review.textContent = "Review";
  review.setAttribute("aria-label", `Review ${label}, study ${cut(sh.StudyDescription || "(no description)", 60)}, `
    + `patient ${cut(sh.PatientName || "(no name)", 60)}`);
  review.addEventListener("click", () => hooks.openReview(series));
  // Objects without pixels (SR, presentation states) have no frames to count.
  const images = series.instances.filter((i) => i.header.Rows);
  const frames = images.reduce((n, i) => n + (parseInt(i.header.NumberOfFrames, 10) || 1), 0);
  const size = series.instances.reduce((n, i) => n + i.size, 0);
  const count = document.createElement("span");
  count.append(String(series.instances.length));
  if (images.length && frames !== series.instances.length) {
    const f = document.createElement("span");
    f.className = "images-frames";
    f.textContent = `${frames} frames`;
    count.append(f);
  }
  const tr = row("series", [input, cell, cut(sh.Modality, 8), count, formatSize(size), review]);
  watchSeen(tr, series);
  series.rowElement = tr;
  return tr;
}

// The text scan's risk flags (issue 14): text found (also where the review rule sees no risk: a CT
// screenshot with a name on it), images that could not be looked at, images left when the scan stopped.
function textFlags(text) {
  const flags = [];
  if (text.found) flags.push(["flag text", `text found in ${text.found} image(s)`, text.undecided ? `${text.undecided} suggestion(s) to accept or dismiss` : ""]);
  if (text.failed.length) {
    flags.push(["flag failed", `${text.failed.length} image(s) could not be looked at for text`,
      text.failed.map((i) => `${i.name}: could not be looked at for text: ${i.textScan.reason}`).join("\n")]);
  }
  const stopped = state.textScan && ["cancelled", "unavailable"].includes(state.textScan.status);
  if (stopped && text.notLooked) flags.push(["flag", `${text.notLooked} image(s) not looked at for text`, ""]);
  return flags;
}

const textSignature = (series) => {
  const text = textStatus(series, state.regions);
  return JSON.stringify(textFlags(text));
};

const instancesOf = (seriesList) => seriesList.reduce((n, s) => n + s.instances.length, 0);

function drawStudies() {
  const body = $("#studies tbody");
  const live = new Map();
  const wanted = [];
  for (const [patientKey, patient] of groupTree()) {
    const allSeries = [...patient.studies.values()].flatMap((s) => s.series);
    const name = patient.header.PatientName || "(no name)";
    const pid = patient.header.PatientID || "(no ID)";
    const count = String(instancesOf(allSeries));
    const who = () => {
      const span = document.createElement("span");
      span.append(isolated(name), " — ", isolated(pid, 60));
      return span;
    };
    wanted.push(listRow(live, `p:${patientKey}`, [name, pid, count, allSeries.length].join("\0"),
      `Include patient ${cut(name, 60)}`, allSeries,
      (input) => row("patient", [input, who(), "", count, "", ""])));
    for (const [studyUid, study] of patient.studies) {
      const h = study.header;
      const desc = h.StudyDescription || "(no description)";
      const n = String(instancesOf(study.series));
      const what = () => {
        const span = document.createElement("span");
        span.append("Study: ", isolated(desc));
        if (h.StudyDate) { // the study's date, in one format (series rows do not repeat it)
          const date = document.createElement("span");
          date.className = "study-date";
          date.textContent = ` · ${formatDate(h.StudyDate)}`;
          span.append(date);
        }
        return span;
      };
      wanted.push(listRow(live, `s:${patientKey}\0${studyUid}`, [desc, h.StudyDate, n, study.series.length].join("\0"),
        `Include study ${cut(desc, 60)}`, study.series,
        (input) => row("study", [input, what(), "", n, "", ""])));
      for (const series of study.series) {
        const label = seriesLabel(series);
        const signature = [label, [...series.flags].join("\n"), gated(series), series.pixelReview,
          [...series.failed].join("\n"), series.instances.length, pixelStatus(series).unshown.length,
          versionsSignature(series), textSignature(series)].join("\0");
        wanted.push(listRow(live, `r:${series.key}`, signature, `Include ${label}`, [series],
          (input) => seriesRow(series, label, input)));
      }
    }
  }
  // Only what changed is moved, added or removed: kept rows stay where they are in the document.
  let cursor = body.firstChild;
  for (const tr of wanted) {
    if (tr === cursor) cursor = cursor.nextSibling;
    else body.insertBefore(tr, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
  drawn = live;
  $("#studies-section").hidden = state.series.size === 0 && state.skipped.length === 0;
  $("#output").hidden = state.series.size === 0;
  // Once there is a list, the review pane stands beside it (empty until a series is opened).
  document.querySelector("main").classList.toggle("split", state.series.size > 0);
  if (state.series.size > 0) $("#review").hidden = false;
  refreshState();
  const skipped = $("#skipped"); // only added to (every skipped file stays listed)
  skipped.append(...state.skipped.slice(skipped.children.length).map((s) => {
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
// A series counts as seen (for the upload gate) once its row was on screen (the reviewer scrolled past it),
// whatever its thumbnail does (objects without pixels, 1-bit images and undecodable ones have none), or once
// it was opened.
const seenWatcher = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    const series = state.series.get(entry.target.seriesKey);
    if (series && !series.seen) {
      series.seen = true;
      refreshState();
    }
    seenWatcher.unobserve(entry.target);
  }
}, { threshold: 0.5 });

function watchSeen(tr, series) {
  if (series.rowElement && series.rowElement !== tr) seenWatcher.unobserve(series.rowElement);
  tr.seriesKey = series.key;
  if (series.reviewing) tr.classList.add("open");
  if (!series.seen) seenWatcher.observe(tr);
}
const thumbQueue = [];
let thumbBusy = false;

function drawThumb(canvas, series) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, THUMB, THUMB);
  ctx.drawImage(series.thumb, (THUMB - series.thumb.width) / 2, (THUMB - series.thumb.height) / 2);
  canvas.dataset.thumb = "shown"; // for tests: this series' thumbnail is on its row
}

function thumbCanvas(series) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = THUMB;
  canvas.className = "thumb";
  canvas.setAttribute("aria-hidden", "true");
  if (!series.header.Rows) canvas.classList.add("none"); // no pixels: no thumbnail (the row keeps its place)
  series.thumbCanvas = canvas; // the row's current canvas: a thumbnail that arrives later is drawn into it
  if (series.thumb) {
    drawThumb(canvas, series);
  } else if (!series.thumbAsked && series.header.Rows) {
    series.thumbAsked = true;
    thumbQueue.push(series);
    pumpThumbs(0);
  }
  return canvas;
}

// One timer at most (one per series, re-armed while indexing, made hundreds of timers a second).
let thumbTimer = 0;
function pumpThumbs(delay) {
  if (!thumbTimer) thumbTimer = setTimeout(() => { thumbTimer = 0; nextThumb(); }, delay);
}

async function nextThumb() {
  if (thumbBusy || !thumbQueue.length) return;
  if (state.indexing || state.busy) {
    pumpThumbs(500); // the workers are needed for the drop or the run: later
    return;
  }
  thumbBusy = true;
  const series = thumbQueue.shift();
  try {
    series.thumb = await thumbnail(workerItem(series.instances[0]), THUMB);
  } catch {
    series.thumb = null; // shown without one; the viewer says why when opened
  }
  thumbBusy = false;
  // Into the row's canvas, without redrawing the list (a 20,000-file list takes a while to redraw).
  if (series.thumb && series.thumbCanvas) drawThumb(series.thumbCanvas, series);
  else if (series.thumbCanvas) series.thumbCanvas.classList.add("none"); // cannot be shown: no black box
  nextThumb();
}
