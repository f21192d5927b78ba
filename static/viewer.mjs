// The image viewer of the review screen: frames on a canvas (window/level, zoom, pan, cine), and the
// reviewer's regions (draw, move, resize, delete; this frame, this instance, or the whole series with the
// same geometry), the suggestions to accept (the CTP library's, and the text the background scan found:
// suggestions.mjs, drawn by suggestion-view.mjs), and "checked" per series.
// Regions are kept as REGIONS.json entries (original UIDs); the engine applies them (redaction/ in
// Python). Nothing here decides what is written.
import { markShown, markUnshowable } from "./checks.mjs";
import { engine } from "./engines.mjs";
import { autoWindow, samplesOf, toRGBA } from "./render.mjs";
import { drawTextSuggestions, showSuggestionList } from "./suggestion-view.mjs";
import { wirePointer } from "./viewer-pointer.mjs";
import { accept, dismiss, isUndecided, suggestionsOf } from "./suggestions.mjs";

const $ = (sel) => document.querySelector(sel);
const CINE_FPS = 10;

// Names a dropped file for the engine's cache of the file being viewed.
function viewKey(inst) {
  const f = inst.file;
  return [inst.header.SOPInstanceUID, inst.name, f.size, f.lastModified, inst.member || ""].join("|");
}

// A series' thumbnail: the first frame of its first instance, windowed as the viewer would show it.
export async function thumbnail(item, size) {
  const reply = await engine.image(item, 0);
  if (reply.status !== "ok") return null;
  const samples = samplesOf(reply.frame, reply.image);
  const grey = samples.photometric.startsWith("MONOCHROME");
  const window = grey ? reply.image.window || autoWindow(samples.values, reply.image) : [0, 1];
  const scale = Math.min(size / reply.image.columns, size / reply.image.rows, 1);
  return createImageBitmap(toRGBA(samples, reply.image, window), {
    resizeWidth: Math.max(1, Math.round(reply.image.columns * scale)),
    resizeHeight: Math.max(1, Math.round(reply.image.rows * scale)),
    resizeQuality: "medium",
  });
}

export class Viewer {
  constructor({ image, workerItem, regions, onChange, onShown }) {
    this.fetchImage = image; // engine.image
    this.workerItem = workerItem;
    this.regions = regions; // the page's list of REGIONS.json entries (shared, edited in place)
    this.onChange = onChange; // regions changed
    this.onShown = onShown; // a frame was shown (or could not be): what the reviewer has seen changed
    this.canvas = $("#viewer-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.series = null;
    this.instance = null;
    this.frameNumber = 1;
    this.view = { scale: 1, x: 0, y: 0 };
    this.window = null;
    this.bitmap = null;
    this.image = null;
    this.samples = null;
    this.suggested = [];
    this.current = null; // the text suggestion the keys act on (accept, dismiss)
    this.selected = null;
    this.drag = null;
    this.cine = null;
    this.cache = new Map(); // "sop/frame" -> {image, samples, suggested}; the last few frames
    this.wire();
  }

  // ---------------------------------------------------------------- showing
  async open(series, instance, frame = 1) {
    this.stop();
    delete this.canvas.dataset.shown;
    this.series = series;
    this.instance = instance;
    this.frameNumber = frame;
    this.window = null;
    this.selected = null;
    if (this.current && this.current.sop_instance_uid !== instance.header.SOPInstanceUID) this.current = null;
    if (!instance.header.Rows) { // a report, plan or other object without pixels: nothing to look at
      this.bitmap = this.image = null;
      this.suggested = [];
      this.canvas.dataset.shown = "none";
      $("#viewer-message").textContent = "No pixel data: this object has no image to look at.";
      this.updateControls();
      this.draw();
      return;
    }
    await this.load(true);
  }

  frames() {
    return this.image ? this.image.frames : 1;
  }

  async load(fit = false) {
    const inst = this.instance;
    const key = `${inst.header.SOPInstanceUID}/${this.frameNumber}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const reply = await this.fetchImage(this.workerItem(inst), this.frameNumber - 1, viewKey(inst));
      if (reply.status !== "ok") {
        this.failed(reply.reason || reply.status);
        return;
      }
      entry = { image: reply.image, samples: samplesOf(reply.frame, reply.image), suggested: reply.suggested };
      this.cache.set(key, entry);
      if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value);
    }
    if (inst !== this.instance) return; // another instance was opened meanwhile
    this.image = entry.image;
    this.samples = entry.samples;
    this.suggested = entry.suggested;
    const grey = this.samples.photometric.startsWith("MONOCHROME");
    if (grey && !this.window) this.window = this.image.window || autoWindow(this.samples.values, this.image);
    this.bitmap = await createImageBitmap(toRGBA(this.samples, this.image, this.window || [0, 1]));
    if (fit) this.fit();
    $("#viewer-message").textContent = "";
    this.updateControls();
    this.draw();
    this.canvas.dataset.shown = `${this.frameNumber}`; // for tests and assistive tools: what is on screen
    markShown(inst, this.frameNumber, this.image.frames); // drawn exactly as stored: the reviewer saw it
    this.onShown();
  }

  // Per image: another image of the series that can be shown does not make this one checked (checks.mjs).
  failed(reason) {
    markUnshowable(this.instance, reason);
    this.canvas.dataset.shown = "none";
    this.bitmap = null;
    this.image = null;
    $("#viewer-message").textContent = `This image cannot be shown: ${reason}. Checking the series does not `
      + "cover it: it is left out, or sent without the clean-pixels claim if you choose so.";
    this.updateControls();
    this.draw();
    this.onShown();
  }

  fit() {
    const { width, height } = this.canvas;
    const scale = Math.min(width / this.image.columns, height / this.image.rows);
    this.view = { scale, x: (width - this.image.columns * scale) / 2, y: (height - this.image.rows * scale) / 2 };
  }

  // Regions that apply to what is on screen (the engine matches the same way: original UIDs, frame, size).
  visibleRegions() {
    const h = this.instance.header;
    const n = this.frameNumber;
    return this.regions.filter((r) => (r.sop_instance_uid ? r.sop_instance_uid === h.SOPInstanceUID
      : r.series_instance_uid === h.SeriesInstanceUID && (!r.rows || (r.rows === this.image?.rows
        && r.columns === this.image?.columns)))
      && (!r.frames || r.frames.includes(n)));
  }

  // As it will be written: where pixels share chroma in pairs, the engine widens rectangles to even x
  // edges (it says where: image.pairs); JPEG baseline is blanked block by block in its codestream, so a
  // rectangle covers every block (MCU) of image.redaction_grid it touches, clipped to the image. Show that.
  written(r) {
    const grid = this.image && this.image.redaction_grid;
    if (grid) {
      const [gw, gh] = grid;
      const x0 = Math.max(0, r.x), y0 = Math.max(0, r.y);
      const x1 = Math.min(this.image.columns, r.x + r.width), y1 = Math.min(this.image.rows, r.y + r.height);
      if (x0 >= x1 || y0 >= y1) return { ...r, width: 0, height: 0 };
      const left = x0 - (x0 % gw), top = y0 - (y0 % gh);
      const right = Math.min(this.image.columns, Math.ceil(x1 / gw) * gw);
      const bottom = Math.min(this.image.rows, Math.ceil(y1 / gh) * gh);
      return { ...r, x: left, y: top, width: right - left, height: bottom - top };
    }
    if (this.image && this.image.pairs) {
      const x0 = r.x - (r.x % 2);
      const x1 = r.x + r.width + ((r.x + r.width) % 2);
      return { ...r, x: x0, width: x1 - x0 };
    }
    return r;
  }

  draw() {
    const { ctx, canvas } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#111";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!this.bitmap) return;
    const { scale, x, y } = this.view;
    ctx.setTransform(scale, 0, 0, scale, x, y);
    ctx.imageSmoothingEnabled = scale < 1;
    ctx.drawImage(this.bitmap, 0, 0);
    for (const r of this.visibleRegions()) {
      const w = this.written(r);
      ctx.fillStyle = "#000";
      ctx.fillRect(w.x, w.y, w.width, w.height);
      ctx.lineWidth = 2 / scale;
      ctx.strokeStyle = r === this.selected ? "#ffcc00" : "#3a86ff";
      ctx.strokeRect(w.x, w.y, w.width, w.height);
    }
    ctx.setLineDash([6 / scale, 4 / scale]);
    ctx.strokeStyle = "#ff7b00";
    for (const s of this.suggested) ctx.strokeRect(s.x, s.y, s.width, s.height);
    ctx.setLineDash([]);
    drawTextSuggestions(ctx, this.textSuggestions().filter((s) => !s.frames || s.frames.includes(this.frameNumber)),
      scale, this.current);
    if (this.drag && this.drag.kind === "new") {
      const r = this.drag.rect;
      ctx.strokeStyle = "#ffcc00";
      ctx.strokeRect(r.x, r.y, r.width, r.height);
    }
  }

  updateControls() {
    const frames = this.frames();
    const slider = $("#viewer-frame");
    slider.max = String(frames);
    slider.value = String(this.frameNumber);
    slider.disabled = frames < 2;
    $("#viewer-play").disabled = frames < 2;
    $("#viewer-frame-label").textContent = this.image ? `Frame ${this.frameNumber} of ${frames}` : "";
    showSuggestionList(this);
    $("#viewer-regions").replaceChildren(...this.regionsOfSeries().map((r) => {
      const li = document.createElement("li");
      const del = document.createElement("button");
      del.type = "button";
      del.textContent = "Delete";
      del.setAttribute("aria-label", `Delete region ${r.x},${r.y} ${r.width}x${r.height}`);
      del.addEventListener("click", () => this.remove(r));
      const scope = r.series_instance_uid ? "every image of the series this size"
        : r.frames ? `frame ${r.frames.join(", ")} of one instance` : "every frame of one instance";
      const found = r.text === undefined ? "" : `text found${r.text ? ` “${r.text}”` : ""}, `; // an accepted suggestion
      li.append(`${found}${r.width}x${r.height} at ${r.x},${r.y}: ${scope} `, del);
      return li;
    }));
  }

  regionsOfSeries() {
    const sops = new Set(this.series.instances.map((i) => i.header.SOPInstanceUID));
    return this.regions.filter((r) => sops.has(r.sop_instance_uid)
      || r.series_instance_uid === this.series.header.SeriesInstanceUID);
  }

  // ---------------------------------------------------------------- editing
  scoped(rect) {
    const h = this.instance.header;
    const scope = $("#viewer-scope").value;
    const r = { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
    if (scope === "series") {
      return { series_instance_uid: h.SeriesInstanceUID, frames: null, ...r, rows: this.image.rows, columns: this.image.columns };
    }
    return { sop_instance_uid: h.SOPInstanceUID, frames: scope === "frame" ? [this.frameNumber] : null, ...r };
  }

  add(rect) {
    const region = this.scoped(rect);
    this.regions.push(region);
    this.selected = region;
    this.changed();
  }

  accept(sug) {
    const { source, ...entry } = sug;
    void source;
    if (!this.regions.some((r) => JSON.stringify(r) === JSON.stringify(entry))) this.regions.push(entry);
    this.changed();
  }

  // The text suggestions of the image on screen that wait for a decision (suggestions.mjs).
  textSuggestions() {
    return this.instance ? suggestionsOf(this.instance).filter((s) => isUndecided(s, this.regions)) : [];
  }

  acceptText(s) {
    accept(s, this.regions);
    if (this.current === s) this.current = null;
    this.changed();
  }

  dismissText(s) {
    dismiss(s, this.regions);
    if (this.current === s) this.current = null;
    this.changed();
  }

  // Make `s` the current suggestion and show its first frame.
  async select(s) {
    this.current = s;
    const frame = s.frames ? s.frames[0] : this.frameNumber;
    if (frame !== this.frameNumber) await this.goto(frame);
    this.updateControls();
    this.draw();
  }

  remove(region) {
    const i = this.regions.indexOf(region);
    if (i >= 0) this.regions.splice(i, 1);
    if (this.selected === region) this.selected = null;
    this.changed();
  }

  changed() {
    this.updateControls();
    this.draw();
    this.onChange();
  }

  wire() {
    wirePointer(this);
    $("#viewer-frame").addEventListener("input", (e) => this.goto(Number(e.target.value)));
    $("#viewer-play").addEventListener("click", () => (this.cine ? this.stop() : this.play()));
    $("#viewer-fit").addEventListener("click", () => {
      if (!this.image) return;
      this.fit();
      this.window = this.image.window || (this.samples.photometric.startsWith("MONOCHROME") ? autoWindow(this.samples.values, this.image) : null);
      this.rerender();
    });
  }

  async rerender() {
    if (!this.samples) return;
    this.bitmap = await createImageBitmap(toRGBA(this.samples, this.image, this.window || [0, 1]));
    this.draw();
  }

  async goto(n) {
    this.frameNumber = Math.max(1, Math.min(this.frames(), n));
    await this.load();
  }

  step(delta) {
    const n = this.frameNumber + delta;
    return this.goto(n > this.frames() ? 1 : n < 1 ? this.frames() : n);
  }

  play() {
    $("#viewer-play").textContent = "Pause";
    let busy = false;
    this.cine = setInterval(async () => {
      if (busy) return; // a slow frame delays the next one rather than queueing
      busy = true;
      await this.step(1);
      busy = false;
    }, 1000 / CINE_FPS);
  }

  stop() {
    if (this.cine) clearInterval(this.cine);
    this.cine = null;
    $("#viewer-play").textContent = "Play";
  }
}
