// What the page's modules share: the state of this session, the <body data-state> it reports, and small
// display helpers. No de-identification logic lives in the page; it all runs in the engine worker.

export const $ = (sel) => document.querySelector(sel);

export const state = {
  ready: false,
  busy: 0,
  files: [],        // {file, name (relative path, shown only on this page), size}
  skipped: [],      // {name, reason}
  // Versions of an image in the list that are not kept (same SOP Instance UID, different content; the
  // person picks which one goes): {name, reason, seriesKey}, for the "left out" report. duplicates.mjs
  // updates it in place.
  setAside: [],
  series: new Map(), // SeriesInstanceUID -> {patientKey, studyUid, header, instances: [...], flags:Set}
  included: new Set(), // series keys
  settings: null,   // {profile, options, key}
  describe: null,
  cancel: false,
  indexing: 0,      // drops being indexed
  regions: [],      // the reviewer's regions: REGIONS.json entries (original UIDs), applied by the engine
  setAside: [],     // {name, reason, seriesKey}: files indexed but not used (another version of the image kept)
};

// Called on every state change (e.g. the upload button's gate); modules add theirs.
export const onRefresh = [];
// Filled in by the modules that own them, so others can call them without importing in a circle.
export const hooks = { openReview: null };

export function setState(value) {
  document.body.dataset.state = value;
}

export function refreshState() {
  for (const fn of onRefresh) fn();
  if (document.body.dataset.state === "error") return;
  if (!state.ready) setState("loading");
  else if (state.busy > 0) setState("busy");
  else if (document.body.dataset.state === "busy" && state.finished) setState("done");
  else if (document.body.dataset.state !== "done") setState("ready");
}

export function fatal(message) {
  setState("error");
  $("#engine-status").textContent = `Error: ${message}`;
}

export async function busy(fn) {
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


// `fn` at most every `ms` (the last call always runs): progress shown per file made the page lay out and
// paint for every file, a few ms each on the main thread the engines' results also need (measured).
// `.now()` runs it at once (the final state); `.cancel()` drops a pending run.
export function throttled(fn, ms = 250) {
  let last = 0;
  let timer = null;
  const run = () => {
    clearTimeout(timer);
    timer = null;
    last = performance.now();
    fn();
  };
  const call = () => {
    if (timer) return;
    timer = setTimeout(run, Math.max(0, last + ms - performance.now()));
  };
  call.now = run;
  call.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return call;
}

export function formatSize(bytes) {
  if (bytes > 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes > 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return bytes > 0 ? `${Math.max(1, Math.round(bytes / 1e3))} kB` : "0 kB";
}

// Values from the files can be anything (a 100,000-character name): cut for the list and titles; the header
// table shows them whole.
export function cut(text, max = 120) {
  const s = String(text ?? "");
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

// Dates in one format everywhere on the page (YYYY-MM-DD): DA, the start of a DT, and the old ACR-NEMA
// "YYYY.MM.DD" some files still carry; anything else is shown as it is.
// A value from a file as an element: bidi-isolated (a right-to-left override inside it cannot reorder the
// text around it) and cut to `max` characters (Infinity: whole), the whole value in its tooltip when cut.
export function isolated(text, max = 120) {
  const el = document.createElement("bdi");
  const whole = String(text ?? "");
  el.textContent = max === Infinity ? whole : cut(whole, max);
  if (el.textContent !== whole) el.title = whole;
  return el;
}

export function formatDate(value) {
  const text = String(value ?? "").trim();
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})/.exec(text);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : text;
}

// The end of a run (its result line and report) scrolled to the top of the actions pane, which scrolls on
// its own: at 1280x720 the report of an upload otherwise ends below the window, unseen. Only that pane
// moves (scrollIntoView would also move the list's column).
export function reveal(el) {
  const pane = el.closest(".actions");
  if (!pane) return;
  const top = el.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
  pane.scrollTop = Math.max(0, top - 8);
}

export function saveBlob(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
