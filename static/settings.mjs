// Settings: the profile, the PS3.15 options and the secret key (kept in this browser, exportable).
import { rpc } from "./engines.mjs";
import { $, saveBlob, state } from "./page.mjs";
const KEY_STORE = "pacsbin-uploader-key";
const SETTINGS_STORE = "pacsbin-uploader-settings";

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
  return key;
}

function keyFileText(key) {
  return JSON.stringify({ format: "pacsbin-uploader-key", version: 1, key }) + "\n";
}

export async function fingerprint(key) {
  const bytes = new Uint8Array(key.match(/../g).map((h) => parseInt(h, 16)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return hex(digest.slice(0, 8)).match(/..../g).join("-");
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
    const result = await rpc("call", { request: { cmd: "key_check", text: await file.text() } });
    if (result.status === "ok") {
      state.settings.key = result.key;
      localStorage.setItem(KEY_STORE, keyFileText(result.key));
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
    $("#key-message").textContent = "New key generated.";
    renderSettings();
  });
}
