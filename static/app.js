// The page's entry point: wires the drop zone and buttons to the modules and starts the engine workers.
// All de-identification happens in Python in the worker (worker.mjs -> anonymizer.browser_api); the page's
// modules hold no de-identification logic:
//   page.mjs (shared state) · engines.mjs (workers; the typed engine commands of protocol.mjs) · settings.mjs · collect.mjs (drop, index) ·
//   studylist.mjs · review.mjs (viewer.mjs, render.mjs, codecs in the worker) · download.mjs (zip) ·
//   upload-ui.mjs (upload.mjs)
import { addFiles, dropSource } from "./collect.mjs";
import { run } from "./download.mjs";
import { engine, startEngines } from "./engines.mjs";
import { $, fatal, refreshState, state } from "./page.mjs";
import { initReview } from "./review.mjs";
import { initSettings } from "./settings.mjs";
import { scheduleRender } from "./studylist.mjs";
import { initUpload } from "./upload-ui.mjs";

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
  $("#cancel").addEventListener("click", () => { state.cancel = true; });
}

async function start() {
  wire();
  initReview();
  initUpload();
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("sw.js").catch(() => { /* falls back to in-memory zips */ });
  }
  try {
    const info = await startEngines();
    initSettings(await engine.describe());
    state.ready = true;
    $("#engine-status").textContent = `Ready (engine loaded in ${(info.ms / 1000).toFixed(1)} s)`;
    refreshState();
    scheduleRender();
  } catch (err) {
    fatal(String(err.message || err));
  }
}

start();
