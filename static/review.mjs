// The review panel: the image viewer and the engine's plan for one instance, the reviewer's regions
// (exported and imported as REGIONS.json) and what the engine is told about each file's pixels.
import { rpc, workerItem } from "./engines.mjs";
import { $, hooks, refreshState, saveBlob, state } from "./page.mjs";
import { engineSettings } from "./settings.mjs";
import { instanceOrder, markFailed, row, scheduleRender } from "./studylist.mjs";
import { Viewer } from "./viewer.mjs";

let viewer = null;
let reviewSeries = null;
let reviewSteps = [];

async function openReview(series) {
  series.seen = true;
  refreshState();
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
export function pixelEdit(inst) {
  const h = inst.header;
  const regions = state.regions.filter((r) => r.sop_instance_uid === h.SOPInstanceUID
    || r.series_instance_uid === h.SeriesInstanceUID);
  const series = state.series.get(inst.seriesKey);
  return { regions, reviewed: Boolean(series && series.checked), compressed: Boolean(inst.compressed) };
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


export function initReview() {
  viewer = new Viewer({ rpc, workerItem, regions: state.regions, onChange: regionsChanged });
  hooks.openReview = openReview;
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
