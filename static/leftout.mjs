// What a run or an upload leaves out of what the user gave, and why: shown on the buttons, the done line and
// the reports, so nobody assumes the whole folder went. Names are the user's own (shown on this page only);
// the report inside the zip counts reasons and names nothing (file and folder names often hold the
// patient's name).
import { gated, instanceIncluded } from "./checks.mjs";
import { state } from "./page.mjs";

export const Reason = Object.freeze({
  WAITS: "waits for a check",
  NOT_INCLUDED: "not included",
  DOCUMENT: "not included (encapsulated document)",
  CANNOT_SHOW: "cannot be shown",
  FAILED: "cannot be de-identified",
  SET_ASIDE: "another version kept",
  COPY: "identical copy",
  SKIPPED: "not read",
});

// A file the engine refused (in the review or a run).
export const failedEntry = (inst) => ({ name: inst.name, kind: Reason.FAILED, detail: inst.failure, seriesKey: inst.seriesKey });

// Every file given that a run would not write: [{name, kind (a Reason), detail, seriesKey}].
export function leftOut() {
  const out = [];
  for (const series of state.series.values()) {
    for (const inst of series.instances) {
      if (instanceIncluded(series, inst)) continue;
      if (inst.failure) {
        out.push(failedEntry(inst));
        continue;
      }
      let kind;
      let detail;
      if (gated(series)) [kind, detail] = [Reason.WAITS, "its series may hold text in the pixels; check it in the viewer"];
      else if (!state.included.has(series.key)) {
        kind = series.document ? Reason.DOCUMENT : Reason.NOT_INCLUDED;
        detail = series.document ? "its content cannot be cleaned" : "its series is not ticked";
      } else [kind, detail] = [Reason.CANNOT_SHOW, `${inst.unshowable}; nobody could check its pixels`];
      out.push({ name: inst.name, kind, detail, seriesKey: series.key });
    }
  }
  for (const s of state.setAside || []) out.push({ name: s.name, kind: Reason.SET_ASIDE, detail: s.reason, seriesKey: s.seriesKey });
  for (const s of state.skipped) {
    // duplicates.mjs lists an identical copy of a file in the list as skipped ("identical copy of NAME")
    const kind = /^identical copy\b/.test(s.reason) ? Reason.COPY : Reason.SKIPPED;
    out.push({ name: s.name, kind, detail: s.reason, seriesKey: null });
  }
  return out;
}

// {reason: count} for the report inside the zip: no names.
export function leftOutCounts(list = leftOut()) {
  const counts = {};
  for (const item of list) counts[item.kind] = (counts[item.kind] || 0) + 1;
  return counts;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// "24 left out: 18 in 5 series that wait for a check, 4 not included, 2 not read" (or "" when none).
export function leftOutSummary(list = leftOut()) {
  if (!list.length) return "";
  const parts = [];
  const waiting = list.filter((x) => x.kind === Reason.WAITS);
  if (waiting.length) {
    const series = new Set(waiting.map((x) => x.seriesKey)).size;
    parts.push(`${waiting.length} in ${plural(series, "series", "series")} that ${series === 1 ? "waits" : "wait"} for a check`);
  }
  for (const kind of Object.values(Reason)) {
    if (kind === Reason.WAITS) continue;
    const n = list.filter((x) => x.kind === kind).length;
    if (n) parts.push(`${n} ${kind}`);
  }
  return `${list.length} left out: ${parts.join(", ")}`;
}

// One line per file for the reports on screen: "NAME: reason (detail)".
export const leftOutLines = (list = leftOut()) => list.map((x) => `${x.name}: ${x.kind} (${x.detail})`);

export function showLeftOut(box, summary, ul, list) {
  box.hidden = list.length === 0;
  box.open = true; // listed, not only counted (it scrolls on its own when long)
  summary.textContent = `${leftOutSummary(list)} (names below)`;
  ul.replaceChildren(...leftOutLines(list).map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}
