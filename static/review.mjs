// The review pane, beside the study list: one series at a time, titled as in the list, with the image viewer,
// the per-image check (checks.mjs) and the engine's plan for one image; next / previous series; the reviewer's
// regions (exported and imported as REGIONS.json). What is written is decided by the engine.
import { canConfirm, claimsClean, firstUnseenFrame, pixelStatus, UNSHOWN_LEAVE_OUT, wasSeen } from "./checks.mjs";
import { engine, workerItem } from "./engines.mjs";
import { $, cut, formatDate, hooks, isolated, refreshState, saveBlob, state } from "./page.mjs";
import { engineSettings } from "./settings.mjs";
import { instanceOrder, markFailed, row, scheduleRender, seriesInOrder, seriesLabel } from "./studylist.mjs";
import { acceptAll, isUndecided, seriesSuggestions, textStatus } from "./suggestions.mjs";
import { Viewer } from "./viewer.mjs";

let viewer = null;
let reviewSeries = null;
let reviewSteps = [];

function instanceLabel(series, inst, i) {
  const mark = inst.unshowable ? " ✗ cannot be shown" : wasSeen(inst) ? " ✓ seen" : "";
  return `Image ${i + 1} of ${series.instances.length}: ${cut(inst.name, 60)}${mark}`;
}

function fillInstances(series) {
  const select = $("#review-instance");
  const keep = select.value;
  select.replaceChildren(...series.instances.map((inst, i) => {
    const opt = document.createElement("option");
    opt.value = String(i);
    opt.textContent = instanceLabel(series, inst, i);
    return opt;
  }));
  if (keep && Number(keep) < series.instances.length) select.value = keep;
}

function showTitle(series) {
  const h = series.header;
  $("#review-patient").textContent = `${cut(h.PatientName || "(no name)")} — ${cut(h.PatientID || "(no ID)", 40)}`;
  const date = h.StudyDate ? `, ${formatDate(h.StudyDate)}` : "";
  $("#review-study").textContent = `Study: ${cut(h.StudyDescription || "(no description)")}${date}`;
  $("#review-series").textContent = `${seriesLabel(series)} (${cut(h.Modality || "?", 8)})`;
}

async function openReview(series, { focus = true } = {}) {
  if (reviewSeries !== series) {
    $("#viewer-tool").value = "window"; // the mouse tool starts as window / level for each series
    $("#review-instance").value = "0";
  }
  if (reviewSeries) {
    reviewSeries.reviewing = false;
    if (reviewSeries.rowElement) reviewSeries.rowElement.classList.remove("open");
  }
  series.reviewing = true;
  series.seen = true;
  series.instances.sort(instanceOrder);
  reviewSeries = series;
  if (series.rowElement) {
    series.rowElement.classList.add("open");
    series.rowElement.scrollIntoView({ block: "nearest" });
  }
  showTitle(series);
  fillInstances(series);
  $("#review-instance").value = "0";
  $("#review").hidden = false;
  $("#review-empty").hidden = true;
  $("#review-body").hidden = false;
  $("#review").scrollTop = 0;
  renderCheck();
  refreshState();
  if (focus) $("#viewer-canvas").focus({ preventScroll: true });
  await showInstance(0);
}

async function showInstance(index, frame = 1) {
  const series = reviewSeries;
  const inst = series.instances[index];
  if (!inst) return;
  $("#review-instance").value = String(index);
  await Promise.all([showPlan(index), viewer.open(series, inst, frame)]);
}

function stepInstance(delta) {
  if (!reviewSeries) return;
  const n = reviewSeries.instances.length;
  const i = Number($("#review-instance").value || 0) + delta;
  if (i >= 0 && i < n) showInstance(i);
}

function stepSeries(delta) {
  const order = seriesInOrder();
  if (!order.length) return;
  const i = reviewSeries ? order.indexOf(reviewSeries) : -1;
  const next = order[Math.max(0, Math.min(order.length - 1, i + delta))];
  if (next && next !== reviewSeries) openReview(next);
}

function closeReview() {
  viewer.stop();
  $("#review-body").hidden = true;
  $("#review-empty").hidden = false;
  const series = reviewSeries;
  reviewSeries = null;
  if (series) series.reviewing = false;
  if (series && series.rowElement) {
    series.rowElement.classList.remove("open");
    const button = series.rowElement.querySelector("button.review");
    if (button) button.focus(); // back to the row the review came from
  }
}

// The first image (and frame) of the series not shown yet, to check what is left.
function showNextUnseen() {
  const i = reviewSeries.instances.findIndex((inst) => !inst.unshowable && !wasSeen(inst) && inst.header.Rows);
  if (i >= 0) showInstance(i, firstUnseenFrame(reviewSeries.instances[i]) || 1);
}

// What the reviewer has seen of this series and what "checked" covers.
function renderCheck() {
  const series = reviewSeries;
  if (!series) return;
  const st = pixelStatus(series);
  const button = $("#viewer-checked");
  const seenText = `Shown to you: ${st.seen} of ${st.images} image(s), every frame`;
  $("#review-seen").replaceChildren(seenText);
  // Frames shown or found unshowable so far (for tests and assistive tools: it changes with every step).
  $("#review-seen").dataset.frames = String(series.instances.reduce((n, i) => n + (i.framesShown ? i.framesShown.size : 0)
    + (i.unshowable ? 1 : 0), 0));
  if (st.unseen.length && !series.checked) {
    const next = document.createElement("button");
    next.type = "button";
    next.textContent = "Show the next image not seen";
    next.addEventListener("click", showNextUnseen);
    $("#review-seen").append(". ", next);
  }
  $("#review-unshown").replaceChildren(...st.unshown.map((inst) => {
    const li = document.createElement("li");
    li.textContent = `${cut(inst.name, 80)}: cannot be shown (${inst.unshowable})`;
    return li;
  }));
  $("#review-unshown-choice").hidden = st.unshown.length === 0;
  for (const radio of document.querySelectorAll("input[name=unshown]")) {
    radio.checked = radio.value === (series.unshown || UNSHOWN_LEAVE_OUT);
  }
  const text = renderText(series);
  if (series.checked) {
    button.disabled = false;
    button.textContent = "Checked — undo";
    button.setAttribute("aria-pressed", "true");
  } else {
    const confirmable = canConfirm(series, st);
    button.disabled = !confirmable;
    button.textContent = confirmable ? "I have checked every image of this series"
      : st.unseen.length ? `Show every image first (${st.unseen.length} not seen)`
        : text.undecided ? `Accept or dismiss every text suggestion first (${text.undecided} left)`
          : `Looking for text in this series first (${text.notLooked} image(s) left)`;
    button.setAttribute("aria-pressed", "false");
  }
  if (st.images === 0) {
    button.disabled = true;
    button.textContent = "No images to check";
    $("#review-seen").replaceChildren("This series has no pixel data: nothing to check in the viewer.");
  }
}

// What the text scan says about this series (textscan.mjs): suggestions left to decide (they block the
// check), images not looked at yet, and the ones that could not be looked at, named with the reason.
function renderText(series) {
  const text = textStatus(series, state.regions);
  const scanning = state.textScan && state.textScan.status === "running";
  const parts = [];
  if (series.textAfterCheck && text.undecided) parts.push("Text was found after you checked this series: decide on it, then check the series again.");
  if (text.undecided) parts.push(`Text found: ${text.undecided} suggestion(s) to accept or dismiss (S: next).`);
  else if (text.found) parts.push("Every text suggestion in this series was accepted or dismissed.");
  if (text.notLooked) {
    parts.push(scanning ? `Still looking for text in ${text.notLooked} image(s) of this series.`
      : `${text.notLooked} image(s) of this series not looked at for text.`);
  }
  $("#review-text").hidden = parts.length === 0;
  $("#review-text").textContent = parts.join(" ");
  $("#review-text").dataset.undecided = String(text.undecided);
  $("#review-text-failed").replaceChildren(...text.failed.map((inst) => {
    const li = document.createElement("li");
    li.textContent = `${cut(inst.name, 80)}: could not be looked at for text: ${inst.textScan.reason}`;
    return li;
  }));
  return text;
}

// The next (or previous) text suggestion of the series that waits for a decision: its image and frame.
async function stepSuggestion(delta) {
  const series = reviewSeries;
  const waiting = seriesSuggestions(series).filter((s) => isUndecided(s, state.regions));
  if (!waiting.length) return;
  const at = waiting.indexOf(viewer.current);
  const next = waiting[(at + delta + waiting.length) % waiting.length] || waiting[0];
  const index = series.instances.findIndex((inst) => inst.header.SOPInstanceUID === next.sop_instance_uid);
  if (index >= 0 && index !== currentIndex()) await showInstance(index, next.frames ? next.frames[0] : 1);
  await viewer.select(next);
}

// What A and X act on: the current suggestion (S, Show), or else the first one of the image on screen.
const suggestionOnScreen = () => viewer.current || viewer.textSuggestions()[0] || null;

// The review pane follows what the text scan found (inst: one image; null: the scan's state changed).
function textScanned(inst) {
  if (!reviewSeries) return;
  if (inst === null || inst.seriesKey === reviewSeries.key) {
    renderCheck();
    if (inst && inst === viewer.instance) {
      viewer.updateControls(); // its suggestions arrived while it is on screen
      viewer.draw();
    }
  }
}

// What the engine gets about one file's pixels: the regions that may apply to it (the engine matches
// size and frames), whether a person checked this image (checks.mjs), and whether its pixel data is
// compressed (then the worker decodes it for the engine; JPEG baseline is not: the engine blanks it in place).
export function pixelEdit(inst) {
  const h = inst.header;
  const regions = state.regions.filter((r) => r.sop_instance_uid === h.SOPInstanceUID
    || r.series_instance_uid === h.SeriesInstanceUID);
  const series = state.series.get(inst.seriesKey);
  return { regions, reviewed: claimsClean(series, inst), compressed: Boolean(inst.compressed) };
}

function currentIndex() {
  return Number($("#review-instance").value || 0);
}

function regionsChanged() {
  const series = reviewSeries;
  if (series && series.checked && textStatus(series, state.regions).undecided) {
    series.checked = false; // an accepted suggestion's region was deleted: it waits for a decision again
    state.included.delete(series.key);
  }
  scheduleRender();
  renderCheck(); // accepting or dismissing a text suggestion opens the check (checks.mjs canConfirm)
  refreshState();
  if (reviewSeries) showPlan(currentIndex());
}

// The viewer showed a frame, or could not: the check and the image list follow.
function shownChanged() {
  if (!reviewSeries) return;
  fillInstances(reviewSeries);
  renderCheck();
  scheduleRender();
  refreshState();
}

async function showPlan(index) {
  const inst = reviewSeries.instances[index];
  const result = await engine.plan(workerItem(inst), engineSettings(), pixelEdit(inst));
  if (inst !== reviewSeries?.instances[currentIndex()]) return; // another image was chosen meanwhile
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
    const tr = row(s.new === null ? "X" : s.action, [s.path, s.keyword, isolated(s.old, Infinity),
      s.new === null ? "(removed)" : isolated(s.new, Infinity),
      s.action, s.rule]);
    rows.push(tr);
    if (rows.length >= 2000) break;
  }
  body.replaceChildren(...rows);
}


const typing = (el) => el && (el.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName));

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]")) return;
  const inReview = $("#review").contains(document.activeElement);
  if (typing(event.target)) return;
  const key = event.key;
  if ((key === "n" || key === "N") && state.series.size) stepSeries(1);
  else if ((key === "p" || key === "P") && state.series.size) stepSeries(-1);
  else if (key === "Escape" && reviewSeries) closeReview();
  else if ((key === "ArrowDown" || key === "ArrowUp") && reviewSeries && inReview) stepInstance(key === "ArrowDown" ? 1 : -1);
  else if ((key === "s" || key === "S") && reviewSeries) stepSuggestion(event.shiftKey ? -1 : 1);
  else if (key === "A" && event.shiftKey && reviewSeries) {
    acceptAll(reviewSeries, state.regions);
    viewer.current = null;
    viewer.changed();
  } else if ((key === "a" || key === "x" || key === "X") && reviewSeries && suggestionOnScreen()) {
    if (key === "a") viewer.acceptText(suggestionOnScreen());
    else viewer.dismissText(suggestionOnScreen());
  }
  else return;
  event.preventDefault();
}

export function initReview() {
  viewer = new Viewer({ image: engine.image, workerItem, regions: state.regions, onChange: regionsChanged, onShown: shownChanged });
  hooks.openReview = openReview;
  hooks.textScanned = textScanned;
  $("#review-instance").addEventListener("change", (e) => showInstance(Number(e.target.value)));
  $("#review-prev").addEventListener("click", () => stepSeries(-1));
  $("#review-next").addEventListener("click", () => stepSeries(1));
  $("#review-close").addEventListener("click", closeReview);
  document.addEventListener("keydown", onKey);
  $("#viewer-checked").addEventListener("click", () => {
    const series = reviewSeries;
    if (!series) return;
    if (series.checked) {
      series.checked = false; // undone: the series waits for a check again and is left out
      state.included.delete(series.key);
    } else {
      if (!canConfirm(series)) return;
      series.checked = true;
      state.included.add(series.key);
    }
    renderCheck();
    regionsChanged();
    refreshState();
  });
  for (const radio of document.querySelectorAll("input[name=unshown]")) {
    radio.addEventListener("change", () => {
      if (reviewSeries && radio.checked) reviewSeries.unshown = radio.value;
      scheduleRender();
      refreshState();
    });
  }
  $("#regions-export").addEventListener("click", () => {
    const blob = new Blob([JSON.stringify(state.regions, null, 1)], { type: "application/json" });
    saveBlob(blob, "regions.json");
  });
  $("#regions-import").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const result = await engine.checkRegions(await file.text(), file.name);
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
}

