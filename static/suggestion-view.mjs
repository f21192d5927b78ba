// How the viewer shows text suggestions (suggestions.mjs): dashed boxes on the canvas labelled with what
// they read and what they match, and their entries in the viewer's list of suggestions (accept, dismiss,
// show). Display only: deciding is suggestions.mjs, writing is the engine.
import { acceptAll, isUndecided, seriesSuggestions } from "./suggestions.mjs";

const TEXT_COLOUR = "#ff7b00"; // the CTP library's suggestions are dashed in the same colour: one kind
const CURRENT_COLOUR = "#ffcc00";
const LABEL_PX = 13; // screen pixels, whatever the zoom

// "matches Patient's Name, Study Date"
export function matchText(s) {
  return s.names && s.names.length ? `matches ${s.names.join(", ")}` : "";
}

export function readText(s) {
  return s.text ? `“${s.text}”` : "text (not read)";
}

const framesText = (s) => (s.frames ? `frame${s.frames.length > 1 ? "s" : ""} ${compactFrames(s.frames)}` : "every frame");

// 1, 2, 3, 7 -> "1-3, 7"
function compactFrames(frames) {
  const parts = [];
  for (let i = 0; i < frames.length; i++) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === frames[j] + 1) j++;
    parts.push(j > i ? `${frames[i]}-${frames[j]}` : String(frames[i]));
    i = j;
  }
  return parts.join(", ");
}

// On the canvas (its transform maps image pixels; `scale` screen pixels an image pixel).
export function drawTextSuggestions(ctx, suggestions, scale, current) {
  ctx.save();
  ctx.lineWidth = 2 / scale;
  ctx.setLineDash([6 / scale, 4 / scale]);
  ctx.font = `${LABEL_PX / scale}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  for (const s of suggestions) {
    const colour = s === current ? CURRENT_COLOUR : TEXT_COLOUR;
    ctx.strokeStyle = colour;
    ctx.strokeRect(s.x, s.y, s.width, s.height);
    if (!s.text) continue; // nothing read: the list says so; a label would only hide the image
    const label = [readText(s), matchText(s)].filter(Boolean).join(" · ");
    const pad = 2 / scale;
    const width = ctx.measureText(label).width + 2 * pad;
    const above = s.y - pad > LABEL_PX / scale;
    const top = above ? s.y - LABEL_PX / scale - 2 * pad : s.y + s.height;
    ctx.fillStyle = "rgba(0, 0, 0, 0.75)";
    ctx.fillRect(s.x, top, width, LABEL_PX / scale + 2 * pad);
    ctx.fillStyle = colour;
    ctx.fillText(label, s.x + pad, top + LABEL_PX / scale + pad);
  }
  ctx.restore();
}

function button(label, aria, onClick, keys) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  if (keys) b.setAttribute("aria-keyshortcuts", keys);
  b.addEventListener("click", onClick);
  return b;
}

// One entry of the list: what it reads, what it matches, where; Accept, Dismiss, and Show (its frame).
export function suggestionItem(s, { accept, dismiss, show, current }) {
  const li = document.createElement("li");
  li.className = "text-suggestion";
  if (current) li.classList.add("current");
  li.dataset.suggestion = s.id;
  const what = document.createElement("span");
  const read = document.createElement("bdi"); // text from the pixels: isolated like any value from a file
  read.textContent = readText(s);
  what.append(read);
  const matches = matchText(s);
  if (matches) {
    const m = document.createElement("strong");
    m.className = "matches";
    m.textContent = ` ${matches}`;
    what.append(m);
  }
  const where = `${s.width}x${s.height} at ${s.x},${s.y}, ${framesText(s)}`;
  what.append(` (${where}) `);
  li.append(what,
    button("Accept", `Accept text suggestion ${s.text || "not read"} at ${s.x},${s.y}`, accept, current ? "A" : ""),
    " ",
    button("Dismiss", `Dismiss text suggestion ${s.text || "not read"} at ${s.x},${s.y}`, dismiss, current ? "X" : ""),
    " ",
    button("Show", `Show text suggestion at ${s.x},${s.y}`, show));
  return li;
}

// The CTP library's suggestion for this file (accepted as it is; it has no text).
function ctpItem(viewer, sug) {
  const li = document.createElement("li");
  li.append(`${sug.source}: ${sug.width}x${sug.height} at ${sug.x},${sug.y} `,
    button("Accept", `Accept suggested region ${sug.x},${sug.y} ${sug.width}x${sug.height}`, () => viewer.accept(sug)));
  return li;
}

// The viewer's list: the CTP library's suggestions, then the text found in this image (matching ones first),
// and "Accept all" for the text suggestions of the whole series.
export function showSuggestionList(viewer) {
  const texts = viewer.textSuggestions();
  const items = texts.map((s) => suggestionItem(s, {
    accept: () => viewer.acceptText(s),
    dismiss: () => viewer.dismissText(s),
    show: () => viewer.select(s),
    current: s === viewer.current,
  }));
  const list = document.querySelector("#viewer-suggestions");
  list.replaceChildren(...viewer.suggested.map((sug) => ctpItem(viewer, sug)), ...items);
  const undecided = viewer.series ? seriesSuggestions(viewer.series).filter((s) => isUndecided(s, viewer.regions)) : [];
  const all = document.querySelector("#viewer-accept-all");
  all.hidden = undecided.length === 0;
  all.textContent = `Accept all ${undecided.length} in this series`;
  all.setAttribute("aria-label", `Accept all ${undecided.length} text suggestion(s) in this series`);
  all.onclick = () => {
    acceptAll(viewer.series, viewer.regions);
    viewer.current = null;
    viewer.changed();
  };
  const empty = document.querySelector("#viewer-suggestions-empty");
  empty.hidden = list.children.length > 0;
}
