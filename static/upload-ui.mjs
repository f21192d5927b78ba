// The upload step of the page: its gate (after review), its settings, progress and report. The transport
// is upload.mjs; the bytes come from the engine (download.mjs's de-identified stream).
import { actionText, deidentifiedStream, includedInstances } from "./download.mjs";
import { leftOut, leftOutLines, leftOutSummary } from "./leftout.mjs";
import { $, busy, cut, formatDate, formatSize, hooks, onRefresh, reveal, state, throttled } from "./page.mjs";
import { confirmKeyBeforeUpload, keyUsedForUpload, refreshKeyNote } from "./settings.mjs";
import { gated, markFailed, seriesLabel } from "./studylist.mjs";
import { Uploader, checkEndpoint } from "./upload.mjs";
const UPLOAD_STORE = "pacsbin-uploader-upload";

function uploadSettings() {
  return { endpoint: "/dicomweb", token: "", ...JSON.parse(localStorage.getItem(UPLOAD_STORE) || "{}") };
}

// Upload only after review: every included series was seen (its row on screen, or opened); the ones at risk
// of burned-in text were checked (they cannot be included otherwise).
function unseenSeries() {
  return [...state.series.values()].filter((s) => state.included.has(s.key) && !gated(s) && !s.seen);
}

// The gate names what blocks it: each unseen series with a button that opens it.
function showGate(unseen, token) {
  const gate = $("#upload-gate");
  if (!token) {
    gate.replaceChildren("Set the upload token in Settings first.");
    return;
  }
  if (!unseen.length) {
    gate.replaceChildren();
    return;
  }
  const list = document.createElement("ul");
  list.setAttribute("aria-label", "Series not seen yet");
  list.append(...unseen.slice(0, 20).map((series) => {
    const li = document.createElement("li");
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = "Open";
    const label = `${seriesLabel(series)} (${cut(series.header.PatientName || "(no name)", 40)})`;
    open.setAttribute("aria-label", `Open ${label}`);
    open.addEventListener("click", () => hooks.openReview(series));
    li.append(`${label} `, open);
    return li;
  }));
  const more = unseen.length > 20 ? ` (the first 20 of ${unseen.length} are listed)` : "";
  gate.replaceChildren(`Upload waits until you have seen ${unseen.length} included series: scroll past their rows `
    + `in the list or open them${more}.`, list);
}

function refreshUploadGate() {
  const unseen = unseenSeries();
  const { token } = uploadSettings();
  const instances = includedInstances();
  $("#upload").hidden = state.series.size === 0;
  $("#upload-run").disabled = !state.ready || state.busy > 0 || !instances.length || unseen.length > 0 || !token;
  if (state.busy === 0 && state.series.size) $("#upload-run").textContent = actionText("Upload", instances);
  showGate(unseen, token);
  refreshKeyNote();
}

function studyLabel(h) {
  const date = h.StudyDate ? `, ${formatDate(h.StudyDate)}` : "";
  return `${h.PatientName || "(no name)"}: study ${h.StudyDescription || "(no description)"}${date}`;
}

// A study's line in the progress and the report: what the server stored and what it already held (a
// resumed upload's files count as "already on the server", not as "0 stored").
function studyLine(label, stored, unchanged, deidentified = null) {
  const parts = deidentified === null ? [] : [`${deidentified} file(s) de-identified`];
  if (stored.files || !unchanged.files) parts.push(`${stored.files} stored (${formatSize(stored.size)})`);
  if (unchanged.files) parts.push(`${unchanged.files} already on the server (${formatSize(unchanged.size)})`);
  return `${label}: ${parts.join(", ")}`;
}

// After this long without any answer, the progress says so instead of a time left computed from the past.
const SILENT_SECONDS = 5;
const NONE = { files: 0, size: 0 };

function showReport(lines) {
  $("#upload-report").replaceChildren(...lines.map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}

async function runUpload() {
  const instances = includedInstances();
  if (!instances.length) return;
  if (!(await confirmKeyBeforeUpload())) return;
  // What this upload leaves out of what the user gave: named in the report on screen.
  const left = leftOut();
  const leftLines = () => (left.length ? [`${leftOutSummary(left)}:`, ...leftOutLines(left)] : []);
  const { endpoint, token } = uploadSettings();
  const started = performance.now();
  const totalBytes = instances.reduce((n, i) => n + i.size, 0);
  const perStudy = new Map(); // new Study Instance UID -> files de-identified for it
  // ... and how the study list names it (the new UID means nothing to the user; this stays on the page)
  const labelOf = new Map();
  let deidentified = 0;
  const failed = [];
  let failedSize = 0;
  const fileOf = new Map(); // new SOP Instance UID -> the file the user gave (reports name files, not UIDs)
  // What went wrong, one line per file the user gave (refused by the server, not sent, not de-identified).
  const problems = (refused, errors) => [
    ...refused.map((x) => `refused ${fileOf.get(x.sop) || x.sop}: ${x.reason}`),
    ...errors.map((x) => `not sent ${fileOf.get(x.sop) || x.sop}: ${x.reason}`),
    ...failed.map((x) => `not de-identified ${x}`),
  ];
  let uploader;
  let show = () => {};
  try {
    uploader = new Uploader({ endpoint, token, onProgress: () => show() });
  } catch (err) {
    $("#upload-text").textContent = `Not uploaded: ${err.message}`;
    return;
  }
  state.cancel = false;
  const cancel = () => { state.cancel = true; uploader.cancel(); };
  $("#upload-cancel").addEventListener("click", cancel);
  $("#upload-cancel").hidden = false;
  $("#upload-progress").hidden = false;
  $("#upload-progress").max = instances.length;
  // Progress counts what the server has answered for (or what could not be de-identified), not what
  // was handed to the network: a stalled server shows as a stalled upload.
  show = throttled(() => {
    const seconds = (performance.now() - started) / 1000;
    const files = uploader.done.files + failed.length;
    const size = uploader.done.size + failedSize;
    const rate = size / Math.max(seconds, 0.001);
    // A retry wait (429, 5xx, no connection, no answer) is a live countdown; a silent server is said to be
    // silent: neither ever shows as "about 1 s left".
    const wait = uploader.waiting();
    const silent = uploader.silentFor();
    const pace = wait ? `: server busy, retrying in ${wait.seconds} s (${wait.why})`
      : silent >= SILENT_SECONDS ? `: waiting for the server, no answer for ${silent} s`
      : rate > 0 ? ` (${formatSize(rate)}/s), about ${Math.ceil((totalBytes - size) / rate)} s left`
      : " (waiting for the server)";
    const held = uploader.report.unchanged.length;
    $("#upload-progress").value = files;
    $("#upload-text").textContent = `${files} of ${instances.length} files uploaded`
      + `${held ? ` (${held} already on the server)` : ""}, ${formatSize(size)} of `
      + `${formatSize(totalBytes)}${pace}; ${deidentified} de-identified`;
    showReport([...perStudy].map(([study, n]) => studyLine(labelOf.get(study),
      uploader.storedIn.get(study) || NONE, uploader.unchangedIn.get(study) || NONE, n)));
  });
  const ticker = setInterval(() => show(), 1000); // the countdown and the silence move on their own
  await busy(async () => {
    try {
      for await (const { inst, reply } of deidentifiedStream(instances)) {
        const r = reply.result;
        deidentified += 1;
        if (r.status === "ok") {
          fileOf.set(r.sop, inst.name);
          perStudy.set(r.study, (perStudy.get(r.study) || 0) + 1);
          if (!labelOf.has(r.study)) labelOf.set(r.study, studyLabel(inst.header));
          show();
          await uploader.add({ study: r.study, sop: r.sop, bytes: reply.bytes, size: inst.size });
        } else {
          markFailed(inst, r.reason);
          failed.push(`${inst.name}: ${r.reason}`);
          failedSize += inst.size;
          show();
        }
      }
      const report = await uploader.finish();
      show.now();
      show = () => {};
      const lines = [
        `${report.stored.length} stored`, `${report.unchanged.length} already on the server unchanged (not sent again)`,
        `${report.refused.length} refused by the server`, `${report.errors.length + failed.length} not sent (errors)`,
      ];
      if (left.length) lines.push(leftOutSummary(left));
      $("#upload-text").textContent = `Upload finished: ${lines.join(", ")}.`;
      showReport([
        ...[...perStudy.keys()].filter((study) => uploader.storedIn.has(study) || uploader.unchangedIn.has(study))
          .map((study) => studyLine(labelOf.get(study), uploader.storedIn.get(study) || NONE,
            uploader.unchangedIn.get(study) || NONE)),
        ...problems(report.refused, report.errors),
        ...leftLines(),
      ]);
      if (report.stored.length || report.unchanged.length) keyUsedForUpload();
      reveal($("#upload-text"));
      state.finished = true;
    } catch (err) {
      // Stopped (the server is gone, the token refused, cancelled): say what got through, and that
      // uploading again sends only the rest.
      await uploader.settle();
      show.now();
      show = () => {};
      const report = uploader.report;
      const through = report.stored.length + report.unchanged.length + report.refused.length;
      const rest = instances.length - through;
      $("#upload-text").textContent = (state.cancel ? "Cancelled." : `Stopped: ${err.message || err}.`)
        + (through ? ` Before that: ${report.stored.length} stored, ${report.unchanged.length} already on the `
          + `server unchanged, ${report.refused.length} refused.` : "")
        + ` ${rest} not uploaded: upload again to send ${rest === 1 ? "it" : "them"} (what the server holds is `
        + "not sent again).";
      showReport([...problems(report.refused, []), ...leftLines()]);
      reveal($("#upload-text"));
    }
  });
  clearInterval(ticker);
  $("#upload-cancel").removeEventListener("click", cancel);
  $("#upload-cancel").hidden = true;
  refreshUploadGate();
}


export function initUpload() {
  onRefresh.push(refreshUploadGate);
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
  $("#open-settings").addEventListener("click", () => {
    const upload = uploadSettings();
    $("#upload-endpoint").value = upload.endpoint;
    $("#upload-token").value = upload.token;
  });
}
