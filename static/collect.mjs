// Collecting what the user dropped or picked, and indexing it (headers only) into the study list.
import { admit, newItems, settleVersions } from "./duplicates.mjs";
import { engine, engines, workerItem } from "./engines.mjs";
import { $, busy, state, throttled } from "./page.mjs";
import { renderStudies, scheduleRender } from "./studylist.mjs";
import { startTextScan } from "./textscan.mjs";

const INDEX_BATCH = 40;
let drops = 0; // numbered: versions of one image are ordered by drop, then by name
// Files are indexed while the drop is still being walked: the walk yields items as they are found, and
// {name, error} for a file that cannot be opened (listed as skipped; the walk goes on).
const FILE_BATCH = 100;

// File System Access handles (Chromium): getFile() gets a File the browser has already registered. The
// old entries API registers each File with a synchronous IPC on the main thread (about 0.4 ms a file,
// measured: most of the main thread's time while indexing), so files are opened through handles.
// But a directory handle's listing silently leaves out names Chromium deems unsafe (measured: "con",
// "desktop.ini", "*.lnk", "*.url", "x~", a trailing dot, ":", "?", "|", '"', "<", a right-to-left
// override...), files and folders alike; the entries API lists them all. So each folder is also listed
// through its entry (names only: no File is registered for a name the handles gave), and what the handles
// left out is opened through its entry.
async function* walkHandle(handle, entry, prefix) {
  if (handle.kind === "file") {
    yield* openHandles([handle], prefix);
    return;
  }
  const inside = `${prefix}${handle.name}/`;
  const listing = entry && entry.isDirectory ? listEntries(entry).catch(() => []) : null; // runs meanwhile
  let byName = null;
  const entryNamed = async (name) => {
    byName ??= new Map((listing ? await listing : []).map((e) => [e.name, e]));
    return byName.get(name);
  };
  // A file whose handle cannot be opened is opened through its entry, if it has one.
  async function* open(batch) {
    for await (const item of openHandles(batch, inside)) {
      const other = item.error && (await entryNamed(item.name.slice(inside.length)));
      if (other && other.isFile) yield* openEntries([other], inside);
      else yield item;
    }
  }
  const dirs = [];
  const seen = new Set();
  let files = [];
  for await (const child of handle.values()) {
    seen.add(child.name);
    if (child.kind === "directory") dirs.push(child);
    else files.push(child);
    if (files.length >= FILE_BATCH) {
      yield* open(files);
      files = [];
    }
  }
  yield* open(files);
  const unseen = (listing ? await listing : []).filter((e) => !seen.has(e.name));
  for (let i = 0; i < unseen.length; i += FILE_BATCH) {
    yield* openEntries(unseen.slice(i, i + FILE_BATCH).filter((e) => e.isFile), inside);
  }
  for (const dir of dirs) yield* walkHandle(dir, await entryNamed(dir.name), inside);
  for (const dir of unseen) if (dir.isDirectory) yield* walkEntry(dir, inside);
}

// The File objects of a batch are asked for at once (one at a time, the walk outlasted indexing).
async function* opened(items, prefix, open) {
  const results = await Promise.allSettled(items.map(open));
  for (const [k, result] of results.entries()) {
    const name = prefix + items[k].name;
    yield result.status === "fulfilled" ? { file: result.value, name } : { name, error: result.reason };
  }
}

const openHandles = (handles, prefix) => opened(handles, prefix, (h) => h.getFile());

function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function listEntries(entry) {
  const reader = entry.createReader();
  const all = [];
  for (;;) {
    const batch = await readEntries(reader); // at most 100 entries per call
    if (!batch.length) return all;
    all.push(...batch);
  }
}

async function* walkEntry(entry, prefix) {
  if (entry.isFile) {
    yield* openEntries([entry], prefix);
    return;
  }
  if (!entry.isDirectory) return;
  const reader = entry.createReader();
  const inside = `${prefix}${entry.name}/`;
  for (;;) {
    const batch = await readEntries(reader); // at most 100 entries per call
    if (!batch.length) break;
    yield* openEntries(batch.filter((e) => e.isFile), inside);
    for (const child of batch) if (child.isDirectory) yield* walkEntry(child, inside);
  }
}

const openEntries = (entries, prefix) => opened(entries, prefix, fileOf);

// Handles and entries must be taken from the DataTransfer inside the drop event, before anything is
// awaited; each dropped item is walked through its handle when the browser gives one.
export function dropSource(dataTransfer) {
  const items = [...dataTransfer.items].filter((item) => item.kind === "file");
  const handles = items.map((item) => item.getAsFileSystemHandle?.().catch(() => null) ?? null);
  const entries = items.map((item) => (item.webkitGetAsEntry ? item.webkitGetAsEntry() : null));
  const files = [...dataTransfer.files];
  return (async function* () {
    if (!entries.some(Boolean) && !handles.some(Boolean)) {
      for (const file of files) yield { file, name: file.name };
      return;
    }
    for (const [k, pending] of handles.entries()) {
      const handle = await pending;
      if (handle) yield* walkHandle(handle, entries[k], "");
      else if (entries[k]) yield* walkEntry(entries[k], "");
    }
  })();
}

function isZip(item) {
  return /\.zip$/i.test(item.name);
}

async function expandZip(item) {
  const listing = await engine.zipList(item.file);
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
export async function addFiles(source) {
  await busy(async () => {
    state.indexing += 1;
    const drop = ++drops;
    let again = 0; // files this drop holds that an earlier drop gave already
    const pending = [];
    let found = 0;
    let done = 0;
    let walking = true;
    let signal = Promise.withResolvers();
    const wake = () => {
      signal.resolve();
      signal = Promise.withResolvers();
    };
    // A few times a second: each change of this text makes the page lay out and paint again (with a long
    // list, a few ms each; per batch of 40 files it was a quarter of the main thread's time, measured).
    const progress = throttled(() => {
      $("#index-progress").textContent = `Read ${done} of ${found} files${walking ? " found so far" : ""}…`;
    });
    const walk = (async () => {
      try {
        for await (const item of source) {
          if (item.error) {
            if (!newItems([item], drop).length) {
              again += 1;
              continue;
            }
            state.skipped.push({ name: item.name, reason: `could not be opened: ${item.error.message || item.error}` });
            continue;
          }
          const all = isZip(item) ? await expandZip(item) : [item];
          const items = newItems(all, drop);
          again += all.length - items.length;
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
        const results = await engine.index(batch.map(workerItem));
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
      progress.cancel();
    }
    if (!state.indexing) await settleVersions(); // files met twice, once every drop is in
    const aside = state.setAside.length;
    $("#index-progress").textContent = `${state.files.length} DICOM files in the list, ${state.skipped.length} skipped.`
      + (aside ? ` ${aside} other version(s) of images in the list set aside (see the series).` : "")
      + (again ? ` ${again} dropped again were already in the list.` : "");
    renderStudies(); // now, with the message (a throttled render may still be waiting)
  });
  // Then, in the background, every frame is looked at for burned-in text (issue 14; textscan.mjs).
  if (!state.indexing) startTextScan();
}

function addIndexed(item, result) {
  if (result.status !== "ok") {
    state.skipped.push({ name: item.name, reason: result.reason || result.status });
    return;
  }
  const entry = {
    file: item.file, member: item.member || null, name: item.name, size: item.size ?? item.file.size,
    header: result.header, document: result.document, compressed: result.compressed, drop: item.drop,
  };
  // Into the list, or beside the same image already there (duplicates.mjs).
  admit(entry, (into) => seriesOf(result, into));
}

// The series a file goes into (its own, found or made, unless `into` is given), with the file's flags.
function seriesOf(result, into) {
  const h = result.header;
  const key = h.SeriesInstanceUID || `no-series:${h.StudyInstanceUID}`;
  let series = into || state.series.get(key);
  if (!series) {
    series = {
      key,
      // Patients without a name and an ID are not one patient: each study stands alone.
      patientKey: h.PatientID || h.PatientName ? `${h.PatientID}\u0000${h.PatientName}` : `\u0001no-patient:${h.StudyInstanceUID}`,
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
  for (const flag of result.flags) series.flags.add(flag);
  series.pixelReview = series.pixelReview || result.pixel_review;
  return series;
}
