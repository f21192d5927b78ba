// The same file dropped twice, and several files holding one image (one SOP Instance UID): each image goes
// into the run and the upload once. The zip entry's name is the new SOP Instance UID, and the server keeps
// one instance per SOP Instance UID: two inputs with one SOP Instance UID would collide in both.
//
// The model: series.instances (and state.files) hold the one version of an image that is kept;
// series.conflicts (SOP Instance UID -> image) holds every image of the series with more than one version,
// each image {series, versions (distinct contents, the first by drop then name first), kept, chosen};
// state.setAside names the versions not kept (the page reports them as left out). Identical copies are
// listed as skipped, as files that are not DICOM are.
import { engine, workerItem } from "./engines.mjs";
import { $, cut, formatSize, isolated, state } from "./page.mjs";

export const SET_ASIDE_REASON = "another version of the same image was kept";

// ---------------------------------------------------------------- files dropped again
// What identifies a file the user gave: its relative name, size and modification time (a member of a zip
// archive: the archive's, and the member's name, which `name` holds). A file changed since it was dropped
// is taken in again (and then meets its older self below, by SOP Instance UID).
const takenIn = new Set();

function identity(item) {
  return item.file ? `${item.name}\0${item.file.size}\0${item.file.lastModified}` : `unopened\0${item.name}`;
}

// The items not taken in before (in this drop or an earlier one); each stamped with the drop's number,
// which orders versions of one image (an earlier drop first, then by name).
export function newItems(items, drop) {
  const fresh = [];
  for (const item of items) {
    const key = identity(item);
    if (takenIn.has(key)) continue;
    takenIn.add(key);
    item.drop = drop;
    fresh.push(item);
  }
  return fresh;
}

// ---------------------------------------------------------------- one SOP Instance UID, several files
const images = new Map(); // SOP Instance UID -> image

const byOrder = (a, b) => (a.drop - b.drop) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

// A file's content is compared only when its SOP Instance UID was met before (rare, but every file of a
// folder dropped again from another place). A dropped file up to 64 MB is hashed here (WebCrypto, off the
// main thread): asking the engine costs ~3 ms a file however small (measured: 5,000 copies of 10 kB
// files took 35 s that way). Zip members and larger files are read by the engine, 1 MiB at a time.
const HASH_HERE_MAX = 64 * 1024 * 1024;

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

function digestOf(entry) {
  entry.digest ??= (async () => {
    if (!entry.member && entry.size <= HASH_HERE_MAX) {
      return { status: "ok", sha256: hex(await crypto.subtle.digest("SHA-256", await entry.file.arrayBuffer())) };
    }
    return engineDigest(entry);
  })().catch((err) => ({ status: "error", reason: String(err.message || err) }));
  return entry.digest;
}

// The engine's answer also names the transfer syntax (for the choice between versions).
function engineDigest(entry) {
  entry.engineDigest ??= engine.digest(workerItem(entry))
    .catch((err) => ({ status: "error", reason: String(err.message || err) }));
  return entry.engineDigest;
}

// At most this many images compared at once: each holds its files' bytes while they are hashed.
const COMPARING = 8;

// An indexed file goes into the list, unless its image is there already: then it waits until every drop
// being indexed is done (files are indexed in parallel and arrive in any order; the first by drop and name
// must win, and a file named as the copy of another must not become the one kept later).
// `place(into)` merges the file's flags into the series `into` (or its own series, found or made, when
// null) and returns that series.
export function admit(entry, place) {
  const sop = entry.header.SOPInstanceUID;
  const image = sop && images.get(sop);
  if (image) {
    (image.pending ??= []).push({ entry, place });
    return;
  }
  const series = place(null);
  entry.seriesKey = series.key;
  series.instances.push(entry);
  state.files.push(entry);
  if (sop) images.set(sop, { sop, series, versions: [entry], kept: entry, chosen: false, pending: null });
}

// Once no drop is being indexed: each image met more than once is sorted out. Its files by drop then name;
// the first of each content is a version (the others are listed as its identical copies); the first
// version is kept unless the person chose another.
export async function settleVersions() {
  const waiting = [...images.values()].filter((image) => image.pending);
  const lane = async () => {
    while (waiting.length) await settleImage(waiting.shift());
  };
  await Promise.all(Array.from({ length: COMPARING }, lane));
  updateSetAside();
}

async function settleImage(image) {
  const newcomers = image.pending;
  image.pending = null;
  const placeOf = new Map(newcomers.map((n) => [n.entry, n.place]));
  const files = [...image.versions, ...newcomers.map((n) => n.entry)].sort(byOrder);
  const digests = await Promise.all(files.map(digestOf));
  const versions = [];
  const shaOf = new Map();
  for (const [k, file] of files.entries()) {
    const d = digests[k];
    // Content that could not be compared stays a version of its own: the person chooses, nothing is lost.
    const same = d.status === "ok" && versions.find((v) => shaOf.get(v) === d.sha256);
    if (same) {
      state.skipped.push({ name: file.name, reason: `identical copy of ${same.name}` });
      continue;
    }
    versions.push(file);
    if (d.status === "ok") shaOf.set(file, d.sha256);
    // Versions are shown on the series of the first one found, whatever their own header says.
    if (placeOf.has(file)) placeOf.get(file)(image.series);
    file.seriesKey = image.series.key;
  }
  image.versions = versions;
  if (versions.length > 1) (image.series.conflicts ??= new Map()).set(image.sop, image);
  keep(image, image.chosen && versions.includes(image.kept) ? image.kept : versions[0]);
}

// `entry` becomes the version that goes into the run and the upload.
function keep(image, entry) {
  const old = image.kept;
  if (old === entry) return;
  const series = image.series;
  const replace = (list) => {
    const at = list.indexOf(old);
    if (at >= 0) list[at] = entry;
    else list.push(entry);
  };
  replace(series.instances);
  replace(state.files);
  image.kept = entry;
  // A check of the images was a check of the other version's pixels: it must be done again.
  if (series.checked) {
    series.checked = false;
    if (series.pixelReview) state.included.delete(series.key);
  }
}

function updateSetAside() {
  const aside = [];
  for (const image of images.values()) {
    for (const v of image.versions) {
      if (v !== image.kept) aside.push({ name: v.name, reason: SET_ASIDE_REASON, seriesKey: image.series.key });
    }
  }
  state.setAside.splice(0, state.setAside.length, ...aside); // in place: others may hold the array
}

// ---------------------------------------------------------------- on the series row
// For the row's signature: the row is rebuilt when what this shows changes.
export function versionsSignature(series) {
  if (!series.conflicts) return "";
  return [...series.conflicts.values()].map((i) => `${i.versions.length}:${i.kept.name}`).join("\n");
}


// The flag (what is kept) and the button that opens the choice; `changed` redraws the list at once.
export function versionNotes(series, changed) {
  if (!series.conflicts || !series.conflicts.size) return [];
  const conflicts = [...series.conflicts.values()];
  const flag = document.createElement("span");
  flag.className = "flag versions";
  if (conflicts.length === 1) {
    const [image] = conflicts;
    flag.append(`${image.versions.length} versions of one image: keeping `, isolated(image.kept.name, 80));
  } else {
    const chosen = conflicts.some((i) => i.chosen) ? "your choice" : "the first of each";
    flag.textContent = `${conflicts.length} images have several versions: keeping ${chosen}`;
  }
  flag.title = `The other versions are left out of the download and the upload (${SET_ASIDE_REASON}).`;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "small";
  button.textContent = "Choose…";
  const which = conflicts.length === 1 ? cut(conflicts[0].kept.name, 80) : "several images";
  button.setAttribute("aria-label", `Choose the version to keep (${which})`);
  button.setAttribute("aria-haspopup", "dialog");
  button.addEventListener("click", () => openChoice(series, changed, button));
  return [" ", flag, " ", button];
}

function versionLine(image, version, k) {
  const line = document.createElement("p");
  const label = document.createElement("label");
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = `versions-${image.sop}`;
  radio.value = String(k);
  radio.checked = version === image.kept;
  const details = document.createElement("span");
  details.className = "hint";
  const describe = (syntax) => { details.textContent = ` — ${formatSize(version.size)}, ${syntax}`; };
  describe(version.header.TransferSyntaxUID || "transfer syntax unknown");
  engineDigest(version).then((d) => { if (d.status === "ok" && d.transfer_syntax) describe(d.transfer_syntax); });
  label.append(radio, " ", isolated(version.name, 80), details);
  line.append(label);
  return line;
}

function openChoice(series, changed, opener) {
  const dialog = $("#versions");
  const conflicts = [...series.conflicts.values()];
  const one = conflicts.length === 1;
  $("#versions-title").textContent = one ? "Versions of one image" : `Versions of ${conflicts.length} images`;
  $("#versions-hint").textContent = "These files hold the same image (one SOP Instance UID) with different "
    + "content, e.g. another transfer syntax. One version of each goes into the download and the upload; "
    + "the others are left out." + (series.checked ? " Choosing another version means checking the images again." : "");
  $("#versions-keep").textContent = one ? "Keep this version" : "Keep these versions";
  $("#versions-groups").replaceChildren(...conflicts.map((image) => {
    const group = document.createElement("fieldset");
    const legend = document.createElement("legend");
    const n = image.kept.header.InstanceNumber;
    legend.textContent = `Image${n ? ` ${n}` : ""}: ${image.versions.length} versions`;
    group.append(legend, ...image.versions.map((v, k) => versionLine(image, v, k)));
    return group;
  }));
  dialog.onclose = () => {
    if (dialog.returnValue !== "keep") {
      opener.focus();
      return;
    }
    for (const image of conflicts) {
      const picked = dialog.querySelector(`input[name="versions-${CSS.escape(image.sop)}"]:checked`);
      if (!picked) continue;
      const version = image.versions[Number(picked.value)];
      if (version !== image.kept) image.chosen = true;
      keep(image, version);
    }
    updateSetAside();
    changed(); // redraws the list now: the row (and its button) may be new
    (series.rowElement?.querySelector(".flag.versions + button") ?? opener).focus();
  };
  dialog.returnValue = "";
  dialog.showModal();
}
