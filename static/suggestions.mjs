// Text suggestions (issue 14): what the background text scan (textscan.mjs) found in an image, as boxes
// for the reviewer to accept (it becomes a region, a REGIONS.json entry the engine blacks out) or dismiss
// (nothing). Never applied silently: a suggestion is only a proposal until a person decides.
// No DOM here (tests/test_suggestions.py runs it under Node).
//
// An image's scan is kept on the instance: inst.textScan = {status, reason?, suggestions: Suggestion[]}
//   status: "done" (every frame looked at), "failed" (could not be looked at: reason), absent (not looked
//   at: queued, or the scan was cancelled).
// A Suggestion: {id, sop_instance_uid, frames: number[] | null (1-based; null: every frame), x, y, width,
//   height, text ("" until recognition reads it), readings (every distinct text, frame order), matches
//   (attribute keywords the text spells, anonymizer/text_matches.py), names (their attribute names),
//   dismissed: boolean, region: the region it became once accepted (accepted while the page's regions
//   hold it: a region the reviewer deletes makes its suggestion undecided again)}.

export const SOURCE = "text finder"; // as the CLI's regions say (anonymizer/found_text.py)
export const SAME_PLACE_PX = 2; // boxes on several frames this close (each edge) are one decision (issue 14)
const MAX_READINGS_IN_TEXT = 3;

const edgesClose = (a, b) => Math.abs(a.x - b.x) <= SAME_PLACE_PX && Math.abs(a.y - b.y) <= SAME_PLACE_PX
  && Math.abs(a.x + a.width - (b.x + b.width)) <= SAME_PLACE_PX
  && Math.abs(a.y + a.height - (b.y + b.height)) <= SAME_PLACE_PX;

// The boxes found on each frame of one image ([{frame (1-based), boxes: [{x, y, width, height, text?}]}])
// as that image's suggestions: a box at the same place (within 2 px) on several frames is ONE suggestion
// with its frame list (a name on a 300-frame cine is one decision, not 300), whatever it reads on each (a
// time stamp that changes but stays in place). Its rectangle covers every frame's box.
export function mergeFrames(sop, framesFound, frameCount) {
  const groups = [];
  for (const { frame, boxes } of framesFound) {
    for (const box of boxes) {
      const group = groups.find((g) => g.boxes.some((b) => edgesClose(b, box)));
      if (group) {
        group.boxes.push(box);
        group.frames.add(frame);
      } else {
        groups.push({ boxes: [box], frames: new Set([frame]) });
      }
    }
  }
  const suggestions = groups.map((g) => {
    const x = Math.min(...g.boxes.map((b) => b.x));
    const y = Math.min(...g.boxes.map((b) => b.y));
    const width = Math.max(...g.boxes.map((b) => b.x + b.width)) - x;
    const height = Math.max(...g.boxes.map((b) => b.y + b.height)) - y;
    const frames = [...g.frames].sort((a, b) => a - b);
    const readings = [...new Set(g.boxes.map((b) => (b.text || "").trim()).filter(Boolean))];
    return {
      sop_instance_uid: sop,
      frames: frames.length >= frameCount ? null : frames,
      x, y, width, height,
      text: readings.slice(0, MAX_READINGS_IN_TEXT).join(" / ") + (readings.length > MAX_READINGS_IN_TEXT ? " / …" : ""),
      readings,
      matches: [],
      names: [],
      dismissed: false,
      region: null,
    };
  });
  suggestions.sort((a, b) => (a.frames ? a.frames[0] : 0) - (b.frames ? b.frames[0] : 0) || a.y - b.y || a.x - b.x);
  suggestions.forEach((s, i) => { s.id = `${sop}#${i + 1}`; });
  return suggestions;
}

// The engine's header match (engine.textMatches over every reading, in order) onto the suggestions:
// a suggestion matches what any of its readings spells. Matching ones are listed first (issue 14).
export function applyMatches(suggestions, readings, reply) {
  const byReading = new Map(readings.map((text, i) => [text, reply.matches[i] || []]));
  for (const s of suggestions) {
    const keywords = [...new Set(s.readings.flatMap((t) => byReading.get(t) || []))];
    s.matches = keywords;
    s.names = keywords.map((k) => (reply.names && reply.names[k]) || k);
  }
  suggestions.sort((a, b) => Number(b.matches.length > 0) - Number(a.matches.length > 0));
  return suggestions;
}

// The region an accepted suggestion becomes: the REGIONS.json entry the viewer writes for "every frame
// of this image" / "these frames", with what it read and what it matches (redaction/regions.py).
export function regionOf(s) {
  return {
    sop_instance_uid: s.sop_instance_uid, frames: s.frames ? [...s.frames] : null,
    x: s.x, y: s.y, width: s.width, height: s.height, text: s.text, matches: [...s.matches],
  };
}

export const isAccepted = (s, regions) => Boolean(s.region) && regions.includes(s.region);
export const isUndecided = (s, regions) => !s.dismissed && !isAccepted(s, regions);

export function accept(s, regions) {
  if (isAccepted(s, regions)) return;
  s.dismissed = false;
  s.region = regionOf(s);
  regions.push(s.region);
}

export function dismiss(s, regions) {
  if (isAccepted(s, regions)) regions.splice(regions.indexOf(s.region), 1);
  s.region = null;
  s.dismissed = true;
}

export const suggestionsOf = (inst) => (inst.textScan && inst.textScan.suggestions) || [];
export const seriesSuggestions = (series) => series.instances.flatMap(suggestionsOf);

export function acceptAll(series, regions) {
  for (const s of seriesSuggestions(series)) if (isUndecided(s, regions)) accept(s, regions);
}

// What the study list and the review gate say about a series' text.
export function textStatus(series, regions) {
  const images = series.instances.filter((i) => i.header.Rows);
  return {
    found: images.filter((i) => suggestionsOf(i).length > 0).length, // images with text found
    undecided: seriesSuggestions(series).filter((s) => isUndecided(s, regions)).length,
    failed: images.filter((i) => i.textScan && i.textScan.status === "failed"),
    notLooked: images.filter((i) => !i.textScan).length,
  };
}
