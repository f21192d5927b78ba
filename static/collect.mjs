// Collecting what the user dropped or picked, and indexing it (headers only) into the study list.
import { engines, rpc, workerItem } from "./engines.mjs";
import { $, busy, state } from "./page.mjs";
import { renderStudies, scheduleRender } from "./studylist.mjs";

const INDEX_BATCH = 40;
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
export function dropSource(dataTransfer) {
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
export async function addFiles(source) {
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

function addIndexed(item, result) {
  if (result.status !== "ok") {
    state.skipped.push({ name: item.name, reason: result.reason || result.status });
    return;
  }
  const h = result.header;
  const entry = {
    file: item.file, member: item.member || null, name: item.name, size: item.size ?? item.file.size,
    header: h, document: result.document, compressed: result.compressed,
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
