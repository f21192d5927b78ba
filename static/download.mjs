// De-identify the included files and stream them into a zip download (through the service worker).
import { zipStream } from "./zip.mjs";
import { instanceIncluded } from "./checks.mjs";
import { engine, engines, workerItem } from "./engines.mjs";
import { failedEntry, leftOut, leftOutCounts, leftOutSummary, showLeftOut } from "./leftout.mjs";
import { $, busy, formatSize, onRefresh, reveal, saveBlob, state, throttled } from "./page.mjs";
import { pixelEdit } from "./review.mjs";
import { engineSettings, fingerprint } from "./settings.mjs";
import { markFailed } from "./studylist.mjs";

// What a run (or an upload) sends to the engine: the images of included series that a person may let go
// (checks.mjs), in the list's order within each series.
export function includedInstances() {
  const out = [];
  for (const series of state.series.values()) {
    out.push(...series.instances.filter((inst) => instanceIncluded(series, inst)));
  }
  return out;
}

// "De-identify 37 files (24 left out: 18 in 5 series that wait for a check, ...)": the button says what it
// will do, and what it will not.
export function actionText(verb, instances = includedInstances(), list = leftOut()) {
  const n = instances.length;
  const summary = leftOutSummary(list);
  // Included images the text scan has not looked at (still running, cancelled, or the finder could not
  // start): they go as a person left them, and the button says so (issue 14: never claimed looked at).
  const unscanned = instances.filter((inst) => inst.header.Rows && !inst.textScan).length;
  const scan = unscanned ? `${unscanned} not looked at for text${state.textScan?.status === "running" ? " yet" : ""}` : "";
  const notes = [summary, scan].filter(Boolean).join("; ");
  return `${verb} ${n} file${n === 1 ? "" : "s"}${notes ? ` (${notes})` : ""}`;
}

function refreshRunButton() {
  const instances = includedInstances();
  $("#run").disabled = !state.ready || instances.length === 0 || state.busy > 0;
  if (state.busy === 0) $("#run").textContent = actionText("De-identify and download", instances);
}
onRefresh.push(refreshRunButton);

// De-identified outputs in input order. Two requests in flight per worker (each worker reads the next file
// while Python works on the current one), consumed in order, so at most that many outputs wait in memory.
export async function* deidentifiedStream(instances) {
  const settings = engineSettings();
  const inFlight = [];
  let launched = 0;
  const launch = () => {
    const inst = instances[launched++];
    inFlight.push(engine.deidentify(workerItem(inst), settings, pixelEdit(inst)));
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
      yield { name: `${r.study}/${r.series}/${r.sop}.dcm`, bytes: reply.bytes, crc32: r.crc32 };
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
  yield { name: "deidentification-report.json", bytes: new TextEncoder().encode(JSON.stringify(report, null, 1)) };
}

function makeProgress(instances) {
  const total = instances.length;
  const totalBytes = instances.reduce((n, i) => n + i.size, 0);
  const start = performance.now();
  const progress = {
    done: 0, bytes: 0, errors: [],
    show() {
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
  progress.update = throttled(() => progress.show());
  return progress;
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

export async function run() {
  const instances = includedInstances();
  const left = leftOut();
  if (!instances.length) return;
  showLeftOut($("#left-out-box"), $("#left-out-summary"), $("#left-out"), []);
  state.cancel = false;
  $("#cancel").hidden = false;
  $("#progress").hidden = false;
  const progress = makeProgress(instances);
  progress.show();
  const report = {
    product: "Pacsbin Uploader",
    profile: state.settings.profile,
    options: state.settings.options,
    key_fingerprint: await fingerprint(state.settings.key),
    // Counted by reason, never named: file and folder names often hold the patient's name.
    left_out: leftOutCounts(left),
    files: [],
  };
  await busy(async () => {
    try {
      await streamDownload(zipStream(zipEntries(instances, report, progress)), "pacsbin-deidentified.zip");
      progress.update.now();
      const done = report.files.filter((f) => f.status === "done").length;
      const all = [...left, ...instances.filter((inst) => inst.failure).map(failedEntry)];
      const summary = leftOutSummary(all);
      // The files that failed now are counted among those left out ("cannot be de-identified").
      $("#progress-text").textContent = `Done: ${done} of the ${instances.length} included file(s) de-identified`
        + `${summary ? `; ${summary}` : ""}. The zip is in your downloads.`;
      showLeftOut($("#left-out-box"), $("#left-out-summary"), $("#left-out"), all);
      reveal($("#progress-text"));
      state.finished = true;
    } catch (err) {
      progress.update.now(); // the last counts and errors, then why it stopped
      $("#progress-text").textContent = state.cancel ? "Cancelled: nothing was saved." : `Stopped: ${err.message}`;
      reveal($("#progress-text"));
    } finally {
      $("#cancel").hidden = true;
    }
  });
}
