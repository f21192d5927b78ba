// Settings: the profile, the PS3.15 options and the secret key (kept in this browser, exportable).
import { engine } from "./engines.mjs";
import { $, saveBlob, state } from "./page.mjs";
const KEY_STORE = "pacsbin-uploader-key";
const SETTINGS_STORE = "pacsbin-uploader-settings";
// Where the key came from: {origin: "generated" | "imported", created (ISO date), uploaded (used for an
// upload)}. A key this browser just made maps every patient differently from the key used before on
// another computer: before its first upload the page says so (confirmKeyBeforeUpload). No record: a key
// kept from before this record existed, taken as the user's own.
const KEY_ORIGIN_STORE = "pacsbin-uploader-key-origin";

function keyOrigin() {
  try {
    return JSON.parse(localStorage.getItem(KEY_ORIGIN_STORE) || "null") || { origin: "earlier", uploaded: true };
  } catch {
    return { origin: "earlier", uploaded: true };
  }
}

function setKeyOrigin(origin) {
  localStorage.setItem(KEY_ORIGIN_STORE, JSON.stringify(origin));
}

function setKey(key, origin) {
  state.settings.key = key;
  localStorage.setItem(KEY_STORE, keyFileText(key));
  setKeyOrigin({ origin, created: new Date().toISOString(), uploaded: false });
  refreshKeyNote();
}

export const keyIsFresh = () => keyOrigin().origin === "generated" && !keyOrigin().uploaded;

export function keyUsedForUpload() {
  const origin = keyOrigin();
  if (!origin.uploaded) setKeyOrigin({ ...origin, uploaded: true });
  refreshKeyNote();
}

// The upload panel shows which key the upload will use, and says when it is one this browser just made.
export async function refreshKeyNote() {
  if (!state.settings) return;
  const key = state.settings.key;
  const print = await fingerprint(key);
  if (state.settings.key !== key) return;
  $("#upload-key-fingerprint").textContent = print;
  $("#upload-key-note").textContent = keyIsFresh()
    ? "(made new in this browser and not used for an upload yet: if you uploaded before with another key, import it in Settings)"
    : "";
}

// Before the first upload with a key this browser made: say so, offer to import the key file. Resolves true
// to go on (the key imported, or the new key chosen), false to cancel.
export function confirmKeyBeforeUpload() {
  if (!keyIsFresh()) return Promise.resolve(true);
  const dialog = $("#key-dialog");
  const created = keyOrigin().created;
  fingerprint(state.settings.key).then((print) => { $("#key-dialog-fingerprint").textContent = print; });
  $("#key-dialog-when").textContent = created ? `on ${new Date(created).toLocaleString()}` : "";
  $("#key-dialog-message").textContent = "";
  return new Promise((resolve) => {
    const input = $("#key-dialog-import");
    const onImport = async () => {
      const file = input.files[0];
      input.value = "";
      if (!file) return;
      const result = await checkKeyFile(file);
      if (result.status !== "ok") {
        $("#key-dialog-message").textContent = `Not imported: ${result.reason}`;
        return;
      }
      setKey(result.key, "imported");
      dialog.close("imported");
    };
    input.addEventListener("change", onImport);
    dialog.addEventListener("close", () => {
      input.removeEventListener("change", onImport);
      if (dialog.returnValue === "new") keyUsedForUpload(); // chosen: not asked again
      resolve(dialog.returnValue === "new" || dialog.returnValue === "imported");
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

async function checkKeyFile(file) {
  return engine.checkKey(await file.text());
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function loadKey() {
  const stored = localStorage.getItem(KEY_STORE);
  if (stored) {
    try {
      const parsed = JSON.parse(stored);
      if (parsed.format === "pacsbin-uploader-key" && /^[0-9a-f]{64}$/.test(parsed.key)) return parsed.key;
    } catch { /* replaced below */ }
  }
  return newKey();
}

function newKey() {
  const key = hex(crypto.getRandomValues(new Uint8Array(32)));
  localStorage.setItem(KEY_STORE, keyFileText(key));
  setKeyOrigin({ origin: "generated", created: new Date().toISOString(), uploaded: false });
  return key;
}

function keyFileText(key) {
  return JSON.stringify({ format: "pacsbin-uploader-key", version: 1, key }) + "\n";
}

const fingerprints = new Map(); // key -> fingerprint (shown on every refresh of the upload panel)

export async function fingerprint(key) {
  if (fingerprints.has(key)) return fingerprints.get(key);
  const bytes = new Uint8Array(key.match(/../g).map((h) => parseInt(h, 16)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const print = hex(digest.slice(0, 8)).match(/..../g).join("-");
  fingerprints.set(key, print);
  return print;
}

function saveSettings() {
  const { profile, options } = state.settings;
  localStorage.setItem(SETTINGS_STORE, JSON.stringify({ profile, options }));
}

export function engineSettings() {
  return { profile: state.settings.profile, options: state.settings.options, key: state.settings.key };
}

async function renderSettings() {
  const box = $("#options");
  box.querySelectorAll("label").forEach((l) => l.remove());
  for (const option of state.describe.options) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = "option";
    input.value = option.name;
    input.checked = state.settings.options.includes(option.name);
    input.addEventListener("change", () => {
      if (input.checked) {
        // Options that cannot be combined (the engine says which): choosing one clears the others.
        for (const group of state.describe.exclusive.filter((g) => g.includes(option.name))) {
          for (const other of box.querySelectorAll("input")) {
            if (other !== input && group.includes(other.value)) other.checked = false;
          }
        }
      }
      const chosen = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      state.settings.options = chosen;
      saveSettings();
    });
    label.append(input, ` ${option.meaning} (${option.code})`);
    box.append(label);
  }
  for (const radio of document.querySelectorAll("input[name=profile]")) {
    radio.checked = radio.value === state.settings.profile;
  }
  $("#pacsbin-warning").hidden = state.settings.profile !== "pacsbin";
  $("#key-fingerprint").textContent = await fingerprint(state.settings.key);
}

export function initSettings(describe) {
  state.describe = describe;
  const saved = JSON.parse(localStorage.getItem(SETTINGS_STORE) || "null");
  const defaults = describe.options.filter((o) => o.default).map((o) => o.name);
  state.settings = {
    profile: saved?.profile || "basic",
    options: saved?.options || defaults,
    key: loadKey(),
  };
  for (const radio of document.querySelectorAll("input[name=profile]")) {
    radio.addEventListener("change", () => {
      state.settings.profile = radio.value;
      saveSettings();
      renderSettings();
    });
  }
  $("#open-settings").addEventListener("click", async () => {
    await renderSettings();
    $("#settings").showModal();
  });
  $("#key-export").addEventListener("click", () => {
    saveBlob(new Blob([keyFileText(state.settings.key)], { type: "application/json" }), "pacsbin-uploader-key.json");
  });
  $("#key-import").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const result = await checkKeyFile(file);
    if (result.status === "ok") {
      setKey(result.key, "imported");
      $("#key-message").textContent = "Key imported.";
    } else {
      $("#key-message").textContent = `Not imported: ${result.reason}`;
    }
    event.target.value = "";
    renderSettings();
  });
  $("#key-new").addEventListener("click", () => {
    if (!confirm("A new key maps every patient differently from before. Continue?")) return;
    state.settings.key = newKey();
    refreshKeyNote();
    $("#key-message").textContent = "New key generated.";
    renderSettings();
  });
}
